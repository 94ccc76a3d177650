"""The Speakers tab's model pass: what would go and its cost shown first, nothing sent until the
opt-in is ticked and Send pressed, the no-key and over-cap cases said in the dialog, then the
pass through the real `openai` SDK to the local stand-in, its answers in the table, and forget.
The stand-in answers by a fixed rule: this checks the studio's handling, not a model's skill."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipelines.app import speaker_pass as sp
from pipelines.cast.casting import model_speakers
from pipelines.script import model_prices
from pipelines.store import Project
from studio.main_window import MainWindow
from tests.gui.conftest import open_in
from tests.standins.openai_server import OpenAIStandIn
from tests.standins.quay import quay_project, serving_openai

pytestmark = pytest.mark.gui


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIStandIn]:
    yield from serving_openai(monkeypatch)


@pytest.fixture
def quay(tmp_path: Path) -> Path:
    return quay_project(tmp_path)


def _speakers_tab(qtbot: Any, window: MainWindow, root: Path) -> Any:
    open_in(qtbot, window, root)
    book = window.project_view.book  # type: ignore[union-attr]
    panel = book.speakers
    rows = book.chapters.model.rows
    number = [r.title for r in rows].index("Chapter 1. Fog") + 1
    book.chapters.select_numbers([number])
    book.tabs.setCurrentWidget(panel)
    wanted = rows[number - 1].id
    qtbot.waitUntil(lambda: panel.chapter_id == wanted and bool(panel.quotes), timeout=30_000)
    return panel


def test_the_dialog_sends_only_after_the_opt_in_and_the_answers_reach_the_table(
    qtbot: Any, window: MainWindow, quay: Path, server: OpenAIStandIn
) -> None:
    panel = _speakers_tab(qtbot, window, quay)
    low = [q for q in panel.quotes if q.method != "model" and q.confidence < 0.7]
    assert low
    dialog = panel.ask_model()
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=10_000)
    # The estimate first, and no send without the opt-in.
    assert f"{len(low)} unsettled quotation" in dialog.summary.text()
    assert "characters" in dialog.summary.text() and "$" in dialog.summary.text()
    assert not dialog.allow.isChecked() and not dialog.send_button.isEnabled()
    assert "Tick the box" in dialog.verdict.text()
    dialog.allow.setChecked(True)
    assert dialog.send_button.isEnabled()  # this story costs far under the default $1 cap
    assert server.chats == []

    dialog.send_button.click()
    qtbot.waitUntil(
        lambda: dialog.cancel is None and "given a speaker" in dialog.verdict.text(), timeout=20_000
    )
    assert len(server.chats) == 1
    assert sp.opted_in(panel.project)  # the choice is the book's from now on
    qtbot.waitUntil(lambda: any(q.method == "model" for q in panel.quotes), timeout=10_000)
    model_rows = [r for r, q in enumerate(panel.shown) if q.method == "model"]
    assert model_rows and all(panel.table.item(r, 2).text() == "model" for r in model_rows)
    # Asked again, everything comes from the cache: free, and nothing sent.
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=10_000)
    assert "Nothing needs sending" in dialog.summary.text()

    dialog.forget_button.click()
    qtbot.waitUntil(lambda: not model_speakers(panel.project), timeout=10_000)
    qtbot.waitUntil(lambda: not any(q.method == "model" for q in panel.quotes), timeout=10_000)
    # The saved answers come back without a request.
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=10_000)
    assert dialog.send_button.text() == "Use saved answers" and dialog.send_button.isEnabled()
    dialog.send_button.click()
    qtbot.waitUntil(lambda: any(q.method == "model" for q in panel.quotes), timeout=10_000)
    assert len(server.chats) == 1 and "nothing spent" in dialog.verdict.text()
    dialog.close_button.click()
    assert not dialog.isVisible()


def test_without_a_key_or_over_the_cap_the_dialog_says_why_it_cannot_send(
    qtbot: Any,
    window: MainWindow,
    quay: Path,
    server: OpenAIStandIn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipelines.core import secrets

    with Project.open(quay) as project:
        sp.set_opt_in(project, True)
        sp.set_cap_usd(project, 0.01)
    panel = _speakers_tab(qtbot, window, quay)
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setattr(secrets, "_keyring_get", lambda provider: None)
    dialog = panel.ask_model()
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=10_000)
    assert dialog.allow.isChecked() and dialog.cap.value() == pytest.approx(0.01)
    assert "No OpenAI key" in dialog.verdict.text() and "Settings" in dialog.verdict.text()
    assert not dialog.send_button.isEnabled()
    monkeypatch.setenv("OPENAI_API_KEY", server.api_key)
    # Prices a thousand times today's: the same story now costs dollars, over the cent cap.
    monkeypatch.setitem(model_prices.PRICES, sp.DEFAULT_MODEL, model_prices.Price(150.0, 600.0))
    dialog.replan()
    qtbot.waitUntil(lambda: dialog.plan is not None, timeout=10_000)
    assert dialog.plan.cost.usd > 0.01
    assert "over this book's cap of $0.01" in dialog.verdict.text()
    assert not dialog.send_button.isEnabled()
    dialog.cap.setValue(dialog.cap.maximum())
    assert dialog.send_button.isEnabled() and dialog.verdict.text() == ""
    assert server.chats == []
    dialog.reject()
    assert not dialog.isVisible()
    with Project.open(quay) as project:
        assert sp.cap_usd(project) == pytest.approx(0.01)  # nothing saved without a send
