"""API keys for the cloud voices: the OS keyring, or the providers' environment variables.

Keys are read from the provider's usual environment variable first (headless workers, scripts,
CI), then from the OS keyring (what Settings and `audiobook-studio keys set` write). They are
never written to a file or a log: when the only keyring on offer is a fallback that would keep
them in plain files (or none at all), storing is refused with a message that says so, and
`keyring_status()` carries a warning the GUI shows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from pipelines.core.errors import StudioError

SERVICE = "audiobook-studio"
PROVIDERS: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "elevenlabs": "ELEVENLABS_API_KEY",
    "inworld": "INWORLD_API_KEY",  # the Base64 credentials Inworld's portal shows
}
_INSECURE_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


@dataclass(frozen=True, slots=True)
class KeyringStatus:
    backend: str  # the keyring's class, e.g. "SecretService Keyring"
    secure: bool  # False: a fallback that stores nothing, or stores in a plain file
    warning: str  # what the GUI shows when not secure, "" otherwise


@dataclass(frozen=True, slots=True)
class KeyInfo:
    provider: str
    source: str  # "environment", "keyring" or "" when there is no key
    masked: str  # "sk-…wxyz": enough to tell two keys apart, never the key

    @property
    def present(self) -> bool:
        return bool(self.source)


def _provider(provider: str) -> str:
    key = provider.strip().lower()
    if key not in PROVIDERS:
        raise StudioError(None, f"unknown provider '{provider}'", f"use {' or '.join(PROVIDERS)}")
    return key


def env_var(provider: str) -> str:
    return PROVIDERS[_provider(provider)]


def mask(secret: str) -> str:
    """The key's first three and last four characters, for telling keys apart."""
    if len(secret) <= 10:
        return "…" + secret[-2:] if len(secret) > 4 else "…"
    return f"{secret[:3]}…{secret[-4:]}"


def scrub(text: str, *secrets: str | None) -> str:
    """`text` with every given secret replaced, before it reaches a message or a log."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, mask(secret))
    return text


# The "fail" keyring `settle_keyring` put in place of one that could not be loaded, and why that
# one did not load (its error's class and message).
_STAND_IN: tuple[Any, str, str] | None = None


def settle_keyring() -> None:
    """Make every keyring call in this process safe to make.

    A keyring that cannot be loaded (a PYTHON_KEYRING_BACKEND naming a module that is not there,
    a backend whose service is missing) makes `keyring` raise the loader's own error, an
    ImportError or a ValueError, from every call, where callers expect a `KeyringError`. Here the
    "fail" keyring takes its place, which answers every call with a `KeyringError`; why the
    wanted one did not load is kept for `keyring_status`.
    """
    global _STAND_IN
    import keyring
    from keyring.backends import fail

    try:
        keyring.get_keyring()
    except Exception as exc:
        stand_in = fail.Keyring()
        _STAND_IN = (stand_in, type(exc).__name__, str(exc) or type(exc).__name__)
        keyring.set_keyring(stand_in)


def keyring_status() -> KeyringStatus:
    import keyring

    settle_keyring()
    backend = keyring.get_keyring()
    if _STAND_IN is not None and backend is _STAND_IN[0]:
        _, kind, why = _STAND_IN  # e.g. a PYTHON_KEYRING_BACKEND naming a missing module
        return KeyringStatus(kind, False, _insecure_warning(f"cannot load it: {why}"))
    return backend_status(backend)


def backend_status(backend: Any) -> KeyringStatus:
    """Whether `backend` keeps keys safe: a fallback (fail, null, plain files) does not."""
    cls = type(backend)
    name = getattr(cls, "name", cls.__name__)
    module = cls.__module__
    try:
        priority = float(cls.priority)
    except Exception:
        priority = 0.0
    insecure = priority < 1 or module.startswith(_INSECURE_MODULES)
    if not insecure:
        return KeyringStatus(name, True, "")
    return KeyringStatus(name, False, _insecure_warning(f"found '{name}'"))


def _insecure_warning(found: str) -> str:
    vars_ = " / ".join(PROVIDERS.values())
    return (
        f"no secure keyring is available ({found}), so API keys cannot be stored; "
        f"set {vars_} in the environment instead, or install a keyring service "
        "(GNOME Keyring, KWallet, macOS Keychain, Windows Credential Manager)"
    )


def _keyring_get(provider: str) -> str | None:
    import keyring
    from keyring.errors import KeyringError

    if not keyring_status().secure:
        return None
    try:
        return keyring.get_password(SERVICE, provider)
    except (KeyringError, RuntimeError):
        return None


def get_key(provider: str) -> str | None:
    """The provider's API key: its environment variable when set, else the OS keyring."""
    name = _provider(provider)
    value = os.environ.get(PROVIDERS[name], "").strip()
    if value:
        return value
    stored = _keyring_get(name)
    return stored.strip() if stored and stored.strip() else None


def key_info(provider: str) -> KeyInfo:
    name = _provider(provider)
    value = os.environ.get(PROVIDERS[name], "").strip()
    if value:
        return KeyInfo(name, "environment", mask(value))
    stored = _keyring_get(name)
    if stored and stored.strip():
        return KeyInfo(name, "keyring", mask(stored.strip()))
    return KeyInfo(name, "", "")


def set_key(provider: str, secret: str) -> KeyInfo:
    """Store a key in the OS keyring; refused when the keyring is not a secure one."""
    import keyring
    from keyring.errors import KeyringError

    name = _provider(provider)
    secret = secret.strip()
    if not secret or any(c.isspace() for c in secret):
        raise StudioError(None, f"that is not a {name} API key", "paste the key exactly")
    status = keyring_status()
    if not status.secure:
        raise StudioError(None, status.warning, "")
    try:
        keyring.set_password(SERVICE, name, secret)
    except (KeyringError, RuntimeError) as exc:
        raise StudioError(
            None,
            f"the keyring refused to store the {name} key ({type(exc).__name__})",
            f"unlock the keyring, or set {PROVIDERS[name]} in the environment",
        ) from None
    return KeyInfo(name, "keyring", mask(secret))


def delete_key(provider: str) -> bool:
    """Remove the stored key; False when there was none."""
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    name = _provider(provider)
    if not keyring_status().secure:
        return False
    try:
        keyring.delete_password(SERVICE, name)
    except PasswordDeleteError:
        return False
    except (KeyringError, RuntimeError) as exc:
        raise StudioError(
            None, f"the keyring refused to delete the {name} key ({type(exc).__name__})", ""
        ) from None
    return True
