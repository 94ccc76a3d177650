"""Digital-voice credits/tags wording, the ACX note and network errors at sign-in."""

from __future__ import annotations

import pytest

from pipelines.app.export import credits_text, digital_voice, disclosure, synthetic_policy
from pipelines.audio.export import _with_disclosure
from pipelines.core.errors import StudioError
from pipelines.sync.client import Remote, SyncConfig


class _Store:
    def save(self, data: dict[str, str]) -> None: ...
    def load(self) -> dict[str, str] | None:
        return None

    def clear(self) -> None: ...


def test_closing_credits_name_the_digital_voice() -> None:
    digital = digital_voice("piper", "Joe")
    assert digital == "a digital voice (Piper, Joe)"
    _, closing = credits_text("Book", "Ann", digital, digital)
    assert "Narrated by a digital voice (Piper, Joe)." in closing
    assert _with_disclosure("", disclosure(digital)) == "Narrated by a digital voice (Piper, Joe)."


def test_acx_policy_says_synthetic_is_refused() -> None:
    assert "does not accept synthetic" in synthetic_policy("acx")
    assert "Spotify, Google Play and Kobo" in synthetic_policy("google_play")


@pytest.mark.parametrize("url", ["http://127.0.0.1:9", "http://nohost.invalid"])
def test_unreachable_server_is_a_network_problem(url: str) -> None:
    remote = Remote(SyncConfig(url, "key"), _Store())
    with pytest.raises(StudioError) as info:
        remote.sign_in_password("a@b.c", "pw")
    assert f"cannot reach the sync server at {url} (network problem:" in info.value.problem
    assert "password" not in info.value.fix
