"""API keys: the OS keyring, the environment, the insecure-fallback warning, the CLI."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from pipelines.cli.keys import add_key_commands
from pipelines.core import secrets
from pipelines.core.errors import StudioError

KEY = "sk-test-a1b2c3d4e5f6g7h8i9j0"


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps secrets in this process only (stands for the OS keyring)."""

    priority = 5  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.store:
            raise PasswordDeleteError("not found")
        del self.store[(service, username)]


class PlainFileKeyring(MemoryKeyring):
    """Stands for a fallback backend that would keep keys in a plain file."""

    priority = 0.5  # type: ignore[assignment]


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    for var in secrets.PROVIDERS.values():
        monkeypatch.delenv(var, raising=False)
    yield backend
    keyring.set_keyring(previous)


def _cli(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    import contextlib
    import sys

    parser = argparse.ArgumentParser(prog="audiobook-studio")
    add_key_commands(parser.add_subparsers(dest="command", required=True))
    out, err = io.StringIO(), io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(argv)
            code = args.handler(args)
    finally:
        sys.stdin = old_stdin
    return code, out.getvalue(), err.getvalue()


def test_a_key_stored_in_the_keyring_is_found_and_masked(memory: MemoryKeyring) -> None:
    info = secrets.set_key("openai", KEY)
    assert memory.store[(secrets.SERVICE, "openai")] == KEY
    assert secrets.get_key("openai") == KEY
    assert info.masked == "sk-…i9j0" and KEY not in info.masked
    assert secrets.key_info("openai").source == "keyring"
    assert secrets.delete_key("openai") and secrets.get_key("openai") is None
    assert not secrets.delete_key("openai")


def test_the_environment_wins_for_headless_workers(
    memory: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets.set_key("elevenlabs", KEY)
    monkeypatch.setenv("ELEVENLABS_API_KEY", "el-from-the-environment-1234")
    assert secrets.get_key("elevenlabs") == "el-from-the-environment-1234"
    assert secrets.key_info("elevenlabs").source == "environment"


def test_an_insecure_fallback_keyring_is_flagged_and_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    previous = keyring.get_keyring()
    backend = PlainFileKeyring()
    keyring.set_keyring(backend)
    try:
        status = secrets.keyring_status()
        assert not status.secure and "OPENAI_API_KEY" in status.warning
        with pytest.raises(StudioError, match="no secure keyring"):
            secrets.set_key("openai", KEY)
        assert backend.store == {}  # nothing written anywhere
    finally:
        keyring.set_keyring(previous)


def test_cli_sets_shows_and_deletes_keys_without_printing_them(memory: MemoryKeyring) -> None:
    code, out, _ = _cli(["keys", "set", "openai"], stdin=KEY + "\n")
    assert code == 0 and KEY not in out and "i9j0" in out
    code, out, _ = _cli(["keys", "show", "--json"])
    shown = json.loads(out)
    assert KEY not in out
    by_provider = {k["provider"]: k for k in shown["keys"]}
    assert by_provider["openai"]["source"] == "keyring"
    assert by_provider["elevenlabs"]["source"] is None
    code, out, _ = _cli(["keys", "delete", "openai"])
    assert code == 0 and "removed" in out
    assert secrets.get_key("openai") is None


def test_nonsense_keys_are_refused(memory: MemoryKeyring) -> None:
    with pytest.raises(StudioError, match="not a openai API key"):
        secrets.set_key("openai", "two words")
    with pytest.raises(StudioError, match="unknown provider"):
        secrets.get_key("acme")
