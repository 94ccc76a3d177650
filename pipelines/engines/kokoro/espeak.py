"""espeak-ng phonemes for words the lexicon lacks, rewritten into Kokoro's phoneme set.

espeak-ng comes with piper-tts (its `espeakbridge` extension and data), so this needs nothing
more. espeak writes plain IPA; Kokoro was trained on misaki's symbols, which fold diphthongs and
affricates into one letter each (eɪ -> A, tʃ -> ʧ) and mark the American flap as T. espeak-ng
keeps one voice per process, so every call sets the voice under a lock.
"""

from __future__ import annotations

import re
import threading

_LOCK = threading.Lock()
_STARTED: list[bool] = []

VOICES = {"us": "en-us", "gb": "en-gb-x-rp"}

# Longest first: each rule sees the text after the longer ones ran.
_COMMON = (
    ("ʔn̩", "tᵊn"),
    ("dʒ", "ʤ"),
    ("tʃ", "ʧ"),
    ("aɪ", "I"),
    ("aʊ", "W"),
    ("eɪ", "A"),
    ("ɔɪ", "Y"),
    ("ɐ", "ə"),
    ("r", "ɹ"),
    ("x", "k"),
    ("ç", "k"),
    ("ɬ", "l"),
    ("ʲ", ""),
)
_US = (
    ("oʊ", "O"),
    ("ɜːɹ", "ɜɹ"),
    ("ɜː", "ɜɹ"),
    ("ɚ", "əɹ"),
    ("ɝ", "ɜɹ"),
    ("ɪə", "iə"),
    ("ː", ""),
    ("ɾ", "T"),
    ("ʔ", "t"),
    ("o", "ɔ"),
)
_GB = (
    ("əʊ", "Q"),
    ("eə", "ɛː"),
    ("ɚ", "ə"),
    ("ʔ", "t"),
    ("ɾ", "t"),
    ("æ", "a"),
    ("e", "ɛ"),
    ("o", "ɒ"),
)
_FLAGS = re.compile(r"\([^)]*\)")  # espeak's language-switch marks, e.g. "(fr)"
_SYLLABIC = re.compile(r"(\S)\u0329")
_CONSONANT = "bdfkmnpstvzðŋɡʃʒʤʧθ"
# espeak writes a word-final syllabic l as "əl" (pretzel); misaki, and so Kokoro, as "ᵊl".
_FINAL_L = re.compile(rf"(?<=[{_CONSONANT}])əl\b")
# RP's final "happy" vowel: espeak writes ɪ, misaki's British lexicon i.
_FINAL_I = re.compile(r"ɪ\b")


def _ensure_started() -> None:
    if _STARTED:
        return
    from piper import espeakbridge
    from piper.phonemize_espeak import ESPEAK_DATA_DIR

    espeakbridge.initialize(str(ESPEAK_DATA_DIR))
    _STARTED.append(True)


def raw_phonemes(text: str, accent: str) -> str:
    """espeak-ng's IPA for `text`, clauses joined by spaces, punctuation dropped."""
    from piper import espeakbridge

    with _LOCK:
        _ensure_started()
        espeakbridge.set_voice(VOICES[accent])
        clauses = espeakbridge.get_phonemes(text)
    return " ".join(_FLAGS.sub("", p).strip() for p, _, _ in clauses).strip()


def to_kokoro(ipa: str, accent: str) -> str:
    """espeak IPA rewritten in Kokoro's symbols for one accent ("us" or "gb")."""
    out = ipa
    for old, new in _COMMON:
        out = out.replace(old, new)
    for old, new in _US if accent == "us" else _GB:
        out = out.replace(old, new)
    out = _SYLLABIC.sub(r"ᵊ\1", out).replace("\u0329", "")
    out = _FINAL_L.sub("ᵊl", out).replace("ɹɹ", "ɹ")
    if accent == "gb":
        out = _FINAL_I.sub("i", out)
    return out


def phonemize_word(word: str, accent: str) -> str:
    return to_kokoro(raw_phonemes(word, accent), accent)
