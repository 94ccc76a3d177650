"""The Account tab against the local Supabase stand-in (real HTTP, real PostgreSQL), and the sync
state in the status bar."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from pipelines.core.errors import StudioError
from pipelines.core.model import Block, BlockKind, Book, Chapter, VoiceRef
from pipelines.core.secrets import keyring_status
from pipelines.store import Project
from pipelines.sync.client import KeyringSessionStore, MemorySessionStore
from pipelines.sync.passes import pending_count, queue_for_workers, sync
from studio import prefs
from studio.dialogs.settings import SettingsDialog
from studio.main_window import MainWindow
from studio.panels.sync_status import SyncStatusLabel
from tests.gui.conftest import finish, open_in
from tests.sync.pg import Database, new_id
from tests.sync.standin import StandIn

PASSWORD = "pw-correct-horse"


def _dialog(qtbot: Any, window: MainWindow, standin: StandIn, store: Any) -> SettingsDialog:
    dialog = SettingsDialog(window.ctx, window, session_store=store)
    qtbot.addWidget(dialog)
    dialog.supabase_url.setText(standin.url)
    dialog.supabase_key.setText(standin.anon_key)
    return dialog


def test_sign_in_from_settings_stores_the_session(
    qtbot: Any, window: MainWindow, standin: StandIn
) -> None:
    email = f"gui-{new_id()}@example.com"
    user_id = standin.create_user(email, PASSWORD)
    store = MemorySessionStore()
    dialog = _dialog(qtbot, window, standin, store)
    dialog.supabase_email.setText(email)
    dialog.supabase_password.setText(PASSWORD)

    text = finish(qtbot, dialog.sign_in())

    assert text == f"Signed in as {email}"
    assert dialog.account_status.text() == text
    assert dialog.supabase_password.text() == ""  # not kept in the widget either
    assert store.session is not None and store.session["user_id"] == user_id
    # the project URL and the (public) anon key are kept in the prefs; the password is not
    assert window.prefs.get(prefs.SUPABASE_URL) == standin.url
    assert window.prefs.get(prefs.SUPABASE_ANON_KEY) == standin.anon_key
    saved = {k: str(window.prefs.qs.value(k)) for k in window.prefs.qs.allKeys()}
    assert not any(PASSWORD in v for v in saved.values())

    # a new dialog shows the stored session; signing out forgets it
    again = _dialog(qtbot, window, standin, store)
    qtbot.waitUntil(lambda: again.account_status.text() == f"Signed in as {email}")
    assert finish(qtbot, again.sign_out()) == "Signed out"
    assert store.session is None


def test_magic_link_code_signs_in(qtbot: Any, window: MainWindow, standin: StandIn) -> None:
    email = f"link-{new_id()}@example.com"
    store = MemorySessionStore()
    dialog = _dialog(qtbot, window, standin, store)
    dialog.supabase_email.setText(email)
    assert "sent to" in finish(qtbot, dialog.send_link())
    dialog.supabase_code.setText(standin.mailbox[email])
    assert finish(qtbot, dialog.verify_code()) == f"Signed in as {email}"
    assert store.session is not None and store.session["email"] == email


def test_wrong_password_shows_one_line_without_the_password(
    qtbot: Any, window: MainWindow, standin: StandIn
) -> None:
    email = f"wrong-{new_id()}@example.com"
    standin.create_user(email, PASSWORD)
    store = MemorySessionStore()
    dialog = _dialog(qtbot, window, standin, store)
    dialog.supabase_email.setText(email)
    dialog.supabase_password.setText("not-the-password-42")

    text = finish(qtbot, dialog.sign_in())

    assert "sign-in failed" in text and "Invalid login credentials" in text
    assert "\n" not in text and "Traceback" not in text
    assert "not-the-password-42" not in text
    assert dialog.account_status.text() == text
    assert dialog.account_status.property("role") == "error"
    assert store.session is None


def test_sign_in_without_a_secure_keyring_says_so(
    qtbot: Any, window: MainWindow, standin: StandIn
) -> None:
    if keyring_status().secure:
        pytest.skip("this machine has a secure keyring")
    email = f"nokeyring-{new_id()}@example.com"
    standin.create_user(email, PASSWORD)
    dialog = _dialog(qtbot, window, standin, KeyringSessionStore())
    dialog.supabase_email.setText(email)
    dialog.supabase_password.setText(PASSWORD)

    text = finish(qtbot, dialog.sign_in())

    assert "no secure keyring is available" in text, text
    assert "\n" not in text and PASSWORD not in text
    with pytest.raises(StudioError):
        KeyringSessionStore().save({"access_token": "x"})


def test_status_label_counts_pending_rows(
    qtbot: Any, window: MainWindow, sherlock_project: Path
) -> None:
    with Project.open(sherlock_project) as project:
        expected = pending_count(project)
    assert expected > 0  # never synced: the book and every chapter wait to go up
    signed_in = MemorySessionStore()  # the counter shows only to someone who signed in
    signed_in.save({"access_token": "x", "email": "a@example.com"})
    window.sync_label.session_store = signed_in

    open_in(qtbot, window, sherlock_project)
    qtbot.waitUntil(lambda: window.sync_label.isVisibleTo(window), timeout=5_000)

    assert window.sync_label.isVisibleTo(window)
    assert window.sync_label.text() == f"Sync: offline · {expected} waiting"
    assert "never" in window.sync_label.toolTip()


def test_status_label_after_a_sync(
    qtbot: Any,
    qloop: Any,
    tmp_path: Path,
    standin: StandIn,
    pg_database: Database,
) -> None:
    """Everything pushed, a worker rendering one chapter: nothing waiting, one remote render."""
    email = f"sync-{new_id()}@example.com"
    standin.create_user(email, PASSWORD)
    remote = standin.signed_in(email, PASSWORD)
    with Project.open(tmp_path / "p", create=True) as project:
        project.save_book(
            Book("T", chapters=[Chapter("One", [Block(BlockKind.PARAGRAPH, "Words here.")])])
        )
        chapter_id = project.chapters(with_blocks=False)[0].id or 0
        (job_id,) = queue_for_workers(project, [chapter_id], VoiceRef("silence", "default"))
        assert sync(project, remote).online
        with pg_database.connect() as conn:  # a worker claims it, as the server sees it
            conn.execute("update public.jobs set state = 'running' where id = %s", (job_id,))
        assert sync(project, remote).online
        label = SyncStatusLabel()
        qtbot.addWidget(label)
        text = finish(qtbot, asyncio.ensure_future(label.refresh(project)))
    assert text == "Sync: 1 rendering remotely"
