"""The studio's own preferences (QSettings): declared once, typed, with defaults.

Window geometry, the last project, output defaults and engine choices live here; book-specific
choices (the cast, the lexicon) live in the project database instead, and keys in the keyring.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

ORG = "AudiobookStudio"
APP = "Audiobook Studio"
VERSION = 1  # bump, and upgrade in `Prefs.__init__`, when a key changes meaning


@dataclass(frozen=True, slots=True)
class Pref:
    key: str
    default: Any
    kind: type


WINDOW_GEOMETRY = Pref("window/geometry", QByteArray(), QByteArray)
WINDOW_STATE = Pref("window/state", QByteArray(), QByteArray)
LAST_PROJECT = Pref("projects/last", "", str)
LAST_TAB = Pref("window/tab", 0, int)
OUTPUT_DIR = Pref("output/folder", "", str)  # Settings' default for every book ("": per book)
# each book's export folder once chosen: JSON, project folder -> output folder
EXPORT_FOLDERS = Pref("output/book_folders", "{}", str)
EXPORT_M4B = Pref("output/m4b", True, bool)
EXPORT_MP3 = Pref("output/mp3", True, bool)
DELIVERY_PROFILE = Pref("output/profile", "acx", str)
WORKERS = Pref("render/workers", 0, int)  # 0: as many as the engine tolerates
DEFAULT_VOICE = Pref("engines/default_voice", "piper:joe-us", str)
STYLETTS2_DIR = Pref("engines/styletts2_dir", "", str)
SUPABASE_URL = Pref("account/supabase_url", "", str)
SUPABASE_EMAIL = Pref("account/supabase_email", "", str)
# the anon key is public by design (row level security guards the data), so it is a pref
SUPABASE_ANON_KEY = Pref("account/supabase_anon_key", "", str)
# set once the first start has run the System check (shown then only when something is wrong)
FIRST_RUN_CHECKED = Pref("start/first_run_checked", False, bool)


class Prefs:
    def __init__(self, settings: QSettings | None = None) -> None:
        self.qs = settings or QSettings(ORG, APP)
        if int(str(self.qs.value("meta/version", 0))) < VERSION:
            self.qs.setValue("meta/version", VERSION)

    def get(self, pref: Pref) -> Any:
        value = self.qs.value(pref.key, pref.default)
        if pref.kind is bool and isinstance(value, str):
            return value.lower() in {"1", "true", "yes"}
        if pref.kind is int:
            try:
                return int(str(value))
            except (TypeError, ValueError):
                return pref.default
        if pref.kind is QByteArray:
            return value if isinstance(value, QByteArray) else QByteArray()
        return pref.kind(value) if value is not None else pref.default

    def set(self, pref: Pref, value: Any) -> None:
        self.qs.setValue(pref.key, value)

    def last_project(self) -> Path | None:
        text = self.get(LAST_PROJECT)
        return Path(text) if text else None

    def sync(self) -> None:
        self.qs.sync()
