"""The project's settings, each declared once: its key, type, default and what it holds.

Book-specific choices (the cast, the pauses, the delivery profile, the cost cap, the sync state)
live in the project database's `settings` table as JSON. Code names a `Setting` instead of a
string, so a key is spelled in one place and every value read back has the declared type. Keys
that change meaning are upgraded by a schema migration (see `migrations.V7_SETTING_NAMES`).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)  # not slots: a subscripted generic sets __orig_class__ on its instances
class Setting(Generic[T]):
    key: str
    kinds: tuple[type, ...]  # the JSON types a stored value may have (None is always allowed)
    default: T
    about: str
    plans: bool = True  # a change means chapter scripts must be planned again

    def accepts(self, value: Any) -> bool:
        if value is None:
            return True
        if isinstance(value, bool) and bool not in self.kinds:
            return False  # JSON true is not a number, whatever Python thinks
        return isinstance(value, self.kinds)

    def fresh_default(self) -> T:
        return copy.deepcopy(self.default)  # callers may mutate a dict they read


Voices = dict[str, str]

NARRATOR = Setting[str | None]("narrator", (str,), None, "the narrator's voice, engine:voice")
DIALOGUE_VOICE = Setting[str | None](
    "dialogue_voice", (str,), None, "who reads quoted speech in dual-voice books"
)
CHAPTER_VOICES = Setting[Voices](
    "chapter_voices", (dict,), {}, "chapter id → the voice that reads that chapter"
)
VOICE_SETTINGS = Setting[dict[str, Any]](
    "voice_settings", (dict,), {}, "the narrator voice's engine settings (speed, style…)"
)
CAST_MODE = Setting[str]("cast_mode", (str,), "single", "single, dual or full cast")
CHAPTER_CAST_MODES = Setting[Voices](
    "chapter_cast_modes", (dict,), {}, "chapter id → its own cast mode"
)
CHARACTER_VOICES = Setting[Voices](
    "character_voices", (dict,), {}, "character name → the voice that speaks their lines"
)
CHARACTER_EDITS = Setting[Voices](
    "character_edits",
    (dict,),
    {},
    "the author's fixes to the found characters: name → the name it becomes ('' deletes it)",
)
UNKNOWN_SPEAKER_VOICE = Setting[str | None](
    "unknown_speaker_voice", (str,), None, "who speaks a quotation no character is found for"
)
PAUSES = Setting[dict[str, Any] | None](
    "pauses", (dict,), None, "the pause model's lengths in seconds (None: the defaults)"
)
DELIVERY_PROFILE = Setting[str | None](
    "delivery_profile", (str,), None, "the retailer whose mastering targets apply (None: ACX)"
)
COST_CAP_USD = Setting[float | None](
    "cost_cap_usd", (int, float), None, "the most a cloud render may cost", plans=False
)
SPOKEN_TITLES = Setting[list[int]](
    "spoken_titles",
    (list,),
    [],
    "chapter ids whose title, as the author renamed it, is read in place of its opening heading",
)
LOCAL_PRONUNCIATIONS = Setting[dict[str, list[list[Any]]]](
    "local_pronunciations",
    (dict,),
    {},
    "block id → [word, spoken, case-sensitive] fixes that apply in that paragraph only",
)
TAKES = Setting[dict[str, dict[str, int]]](
    "takes",
    (dict,),
    {},
    "chapter id → digest of a spoken text → the take asked for (a new take of that sentence)",
)
PROOF = Setting[bool](
    "proof",
    (bool,),
    False,
    "proof-listen each chapter after it renders (a speech recogniser checks every word)",
    plans=False,
)
PROOF_ACCEPTED = Setting[dict[str, list[str]]](
    "proof_accepted",
    (dict,),
    {},
    "chapter id → digests of flagged sentences the author listened to and accepted as they are",
    plans=False,
)
MODEL_PASS = Setting[bool](
    "model_pass",
    (bool,),
    False,
    "the author agrees to send unsettled quotations, with their context, to an OpenAI chat model",
    plans=False,
)
MODEL_PASS_CAP_USD = Setting[float](
    "model_pass_cap_usd",
    (int, float),
    1.0,
    "the most one model pass over the book may cost",
    plans=False,
)
MODEL_SPEAKERS = Setting[dict[str, str]](
    "model_speakers",
    (dict,),
    {},
    "quotation key → the speaker the model pass named (keys follow the text: a changed "
    "quotation is not matched)",
)
SYNC_PROJECT_ID = Setting[str | None](
    "sync_project_id", (str,), None, "this project's id in the sync account", plans=False
)
SYNC_LAST = Setting[str | None](
    "sync_last", (str,), None, "when the project last synced (ISO time)", plans=False
)

SETTINGS: dict[str, Setting[Any]] = {
    s.key: s
    for s in (
        NARRATOR,
        DIALOGUE_VOICE,
        CHAPTER_VOICES,
        VOICE_SETTINGS,
        CAST_MODE,
        CHAPTER_CAST_MODES,
        CHARACTER_VOICES,
        CHARACTER_EDITS,
        UNKNOWN_SPEAKER_VOICE,
        PAUSES,
        DELIVERY_PROFILE,
        COST_CAP_USD,
        SPOKEN_TITLES,
        LOCAL_PRONUNCIATIONS,
        TAKES,
        PROOF,
        PROOF_ACCEPTED,
        MODEL_PASS,
        MODEL_PASS_CAP_USD,
        MODEL_SPEAKERS,
        SYNC_PROJECT_ID,
        SYNC_LAST,
    )
}

# what a render worker on another machine needs besides the chapter's script and voice
WORKER_SETTINGS: tuple[Setting[Any], ...] = (PAUSES, DELIVERY_PROFILE)


def named(key: str) -> Setting[Any]:
    """The declared setting for a key read from outside (a sync row, a test); KeyError if none."""
    return SETTINGS[key]


def decode(setting: Setting[T], stored: Any) -> T:
    """A stored value as the declared type, or the default (with a warning) if it has another."""
    if stored is None:
        return setting.fresh_default()
    if not setting.accepts(stored):
        log.warning(
            "project setting %s holds %r, not a %s: using the default",
            setting.key,
            stored,
            "/".join(k.__name__ for k in setting.kinds),
        )
        return setting.fresh_default()
    return stored
