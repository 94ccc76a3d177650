"""Connection to the Supabase project and the signed-in session, kept in the OS keyring.

The supabase client refreshes the access token by itself before it expires; every new session it
gets (sign-in, refresh) is written back to the session store, so the next start of the app (or a
headless worker) resumes signed in without asking for the password again.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from typing import Any, Protocol

from supabase import Client, ClientOptions, create_client

from pipelines.core.errors import StudioError

SERVICE = "audiobook-studio"
SESSION_KEY = "supabase-session"


@dataclass(frozen=True, slots=True)
class SyncConfig:
    url: str
    anon_key: str

    @classmethod
    def from_env(cls) -> SyncConfig:
        url = os.environ.get("SUPABASE_URL", "").strip()
        key = os.environ.get("SUPABASE_ANON_KEY", "").strip()
        if not url or not key:
            raise StudioError(
                None,
                "no Supabase project is configured",
                "set SUPABASE_URL and SUPABASE_ANON_KEY (see resources/supabase/README.md)",
            )
        return cls(url.rstrip("/"), key)


class SessionStore(Protocol):
    def load(self) -> dict[str, Any] | None: ...
    def save(self, session: dict[str, Any]) -> None: ...
    def clear(self) -> None: ...


class MemorySessionStore:
    """For tests and for workers that sign in with a password from the environment."""

    def __init__(self) -> None:
        self.session: dict[str, Any] | None = None

    def load(self) -> dict[str, Any] | None:
        return self.session

    def save(self, session: dict[str, Any]) -> None:
        self.session = session

    def clear(self) -> None:
        self.session = None


class KeyringSessionStore:
    """The session (access and refresh token) in the OS keyring, never in a file."""

    def load(self) -> dict[str, Any] | None:
        import keyring
        from keyring.errors import KeyringError

        from pipelines.core.secrets import settle_keyring

        settle_keyring()  # a keyring that cannot load answers with KeyringError, not a crash

        try:
            raw = keyring.get_password(SERVICE, SESSION_KEY)
        except (KeyringError, RuntimeError):
            return None
        return json.loads(raw) if raw else None

    def save(self, session: dict[str, Any]) -> None:
        import keyring
        from keyring.errors import KeyringError

        from pipelines.core.secrets import keyring_status

        status = keyring_status()  # settles a keyring that cannot load, first
        if not status.secure:
            raise StudioError(None, status.warning, "")
        try:
            keyring.set_password(SERVICE, SESSION_KEY, json.dumps(session))
        except (KeyringError, RuntimeError) as exc:
            raise StudioError(
                None, f"the keyring refused to store the session ({type(exc).__name__})", ""
            ) from None

    def clear(self) -> None:
        import keyring
        from keyring.errors import KeyringError, PasswordDeleteError

        from pipelines.core.secrets import settle_keyring

        settle_keyring()  # a keyring that cannot load answers with KeyringError, not a crash

        with contextlib.suppress(PasswordDeleteError, KeyringError, RuntimeError):
            keyring.delete_password(SERVICE, SESSION_KEY)


def network_problem(exc: BaseException) -> str | None:
    """What went wrong on the network when `exc` (or what it wraps) is a connection failure,
    a DNS failure or a timeout; None when the server answered (a refused password)."""
    import httpx

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, httpx.TimeoutException):
            return f"timed out ({current})" if str(current) else "timed out"
        if isinstance(current, (httpx.NetworkError, httpx.ProxyError, OSError)):
            return str(current) or type(current).__name__
        current = current.__cause__ or current.__context__
    # supabase_auth wraps network failures as a "retryable" error with no HTTP status
    if type(exc).__name__ == "AuthRetryableError" and not getattr(exc, "status", 0):
        return str(exc) or "no answer"
    return None


class Remote:
    """A supabase client bound to a session store."""

    def __init__(self, config: SyncConfig, store: SessionStore) -> None:
        self.config = config
        self.store = store
        self.client: Client = create_client(
            config.url,
            config.anon_key,
            options=ClientOptions(auto_refresh_token=True, persist_session=False),
        )
        self.client.auth.on_auth_state_change(self._on_auth)

    def _on_auth(self, event: str, session: Any) -> None:
        if event in ("SIGNED_IN", "TOKEN_REFRESHED") and session is not None:
            self.store.save(
                {
                    "access_token": session.access_token,
                    "refresh_token": session.refresh_token,
                    "email": session.user.email if session.user else "",
                    "user_id": session.user.id if session.user else "",
                }
            )

    # -- sign-in ---------------------------------------------------------------------------------

    def sign_in_password(self, email: str, password: str) -> str:
        try:
            res = self.client.auth.sign_in_with_password({"email": email, "password": password})
        except StudioError:
            raise  # our own problem (no secure keyring for the session): its message is right
        except Exception as exc:
            network = network_problem(exc)
            if network is not None:
                raise StudioError(
                    None,
                    f"cannot reach the sync server at {self.config.url}"
                    f" (network problem: {network})",
                    "check the internet connection and the server address (SUPABASE_URL)",
                ) from None
            raise StudioError(
                None, f"sign-in failed: {exc}", "check the email and password"
            ) from None
        assert res.user is not None
        return res.user.id

    def send_magic_link(self, email: str) -> None:
        self.client.auth.sign_in_with_otp({"email": email})

    def verify_magic_link(self, email: str, code: str) -> str:
        try:
            res = self.client.auth.verify_otp({"email": email, "token": code, "type": "email"})
        except Exception as exc:
            raise StudioError(
                None, f"the sign-in code was refused: {exc}", "ask for a new link"
            ) from None
        assert res.user is not None
        return res.user.id

    def resume(self) -> bool:
        """Sign in again from the stored session (refreshing it if it expired)."""
        saved = self.store.load()
        if not saved:
            return False
        try:
            self.client.auth.set_session(saved["access_token"], saved["refresh_token"])
        except Exception:
            return False
        return True

    def sign_out(self) -> None:
        try:
            self.client.auth.sign_out({"scope": "local"})
        finally:
            self.store.clear()

    @property
    def user_id(self) -> str:
        session = self.client.auth.get_session()
        if session is None or session.user is None:
            raise StudioError(None, "not signed in", "run: audiobook-studio login")
        return session.user.id

    @property
    def access_token(self) -> str:
        session = self.client.auth.get_session()
        if session is None:
            raise StudioError(None, "not signed in", "run: audiobook-studio login")
        return session.access_token

    def rpc(self, name: str, params: dict[str, Any]) -> Any:
        return self.client.rpc(name, params).execute().data


def connect(config: SyncConfig | None = None, store: SessionStore | None = None) -> Remote:
    """A client for the configured project, signed in from the stored session when there is one.

    Headless workers may sign in from SUPABASE_EMAIL and SUPABASE_PASSWORD instead."""
    remote = Remote(config or SyncConfig.from_env(), store or KeyringSessionStore())
    if not remote.resume():
        email, password = os.environ.get("SUPABASE_EMAIL"), os.environ.get("SUPABASE_PASSWORD")
        if email and password:
            remote.sign_in_password(email, password)
    return remote


def sign_in(email: str, password: str, config: SyncConfig | None = None) -> str:
    """For Settings: sign in with email and password; the session goes to the keyring."""
    return connect(config).sign_in_password(email, password)
