"""What a proof found: per utterance, the words heard, missing and inserted, its score and the
times of its words; per chapter, the share of the script heard. Stored as JSON in the project
(`store.proofs`), read back with `from_dict`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# An utterance whose share of words heard in order is under this is flagged for listening (or a
# retake): one word in five missed or misheard.
FLAG_BELOW = 0.8
# More words heard than the script has, beyond this, is flagged too (a voice that babbles).
MAX_INSERTED = 3

Timed = tuple[str, float, float]  # (word, start_s, end_s), chapter-relative


@dataclass(frozen=True, slots=True)
class HeardWord:
    word: str  # as the recogniser wrote it, punctuation included
    start_s: float  # chapter-relative
    end_s: float
    probability: float = 1.0

    @property
    def mid_s(self) -> float:
        return (self.start_s + self.end_s) / 2


@dataclass(slots=True)
class UtteranceProof:
    index: int  # the span's place in the chapter's render
    start_s: float
    end_s: float
    text: str  # the spoken text the utterance should say (the span's)
    voice: str
    words: int  # comparable words in `text`
    heard_words: int  # of them, heard in order
    missing: list[str] = field(default_factory=list)
    inserted: list[str] = field(default_factory=list)
    heard: str = ""  # what the recogniser wrote for this stretch of audio
    heard_timed: list[Timed] = field(default_factory=list)  # the recogniser's words, timed
    timings: list[Timed] = field(default_factory=list)  # the script's words, timed

    @property
    def score(self) -> float:
        """The share of the script's words heard, in order (1.0 for nothing to say)."""
        return self.heard_words / self.words if self.words else 1.0

    def flagged(self, threshold: float = FLAG_BELOW) -> bool:
        if not self.words:
            return False
        return self.score < threshold or len(self.inserted) > max(MAX_INSERTED, self.words // 2)

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start": round(self.start_s, 3),
            "end": round(self.end_s, 3),
            "text": self.text,
            "voice": self.voice,
            "words": self.words,
            "heard_words": self.heard_words,
            "score": round(self.score, 4),
            "missing": self.missing,
            "inserted": self.inserted,
            "heard": self.heard,
            "heard_timed": [[w, round(a, 3), round(b, 3)] for w, a, b in self.heard_timed],
            "timings": [[w, round(a, 3), round(b, 3)] for w, a, b in self.timings],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> UtteranceProof:
        return cls(
            index=int(d["index"]),
            start_s=float(d["start"]),
            end_s=float(d["end"]),
            text=str(d["text"]),
            voice=str(d.get("voice", "")),
            words=int(d["words"]),
            heard_words=int(d["heard_words"]),
            missing=[str(w) for w in d.get("missing", [])],
            inserted=[str(w) for w in d.get("inserted", [])],
            heard=str(d.get("heard", "")),
            heard_timed=[(str(w), float(a), float(b)) for w, a, b in d.get("heard_timed", [])],
            timings=[(str(w), float(a), float(b)) for w, a, b in d.get("timings", [])],
        )


@dataclass(slots=True)
class ChapterProof:
    chapter_id: int
    script_hash: str  # of the render listened to
    model: str
    utterances: list[UtteranceProof]
    proofed_at: str = ""
    current: bool = True  # False: the chapter's render has changed since

    @property
    def words(self) -> int:
        return sum(u.words for u in self.utterances)

    @property
    def heard_share(self) -> float:
        """The share of the chapter's script heard, in order, utterance by utterance."""
        words = self.words
        return sum(u.heard_words for u in self.utterances) / words if words else 1.0

    def flagged(self, threshold: float = FLAG_BELOW) -> list[UtteranceProof]:
        return [u for u in self.utterances if u.flagged(threshold)]

    def as_dict(self, threshold: float = FLAG_BELOW) -> dict[str, Any]:
        """A summary for `proof --json`: the share heard and the flagged utterances."""
        return {
            "chapter_id": self.chapter_id,
            "script_hash": self.script_hash,
            "model": self.model,
            "proofed_at": self.proofed_at,
            "current": self.current,
            "words": self.words,
            "heard_share": round(self.heard_share, 4),
            "utterances": len(self.utterances),
            "flagged": [
                {
                    "index": u.index,
                    "text": u.text,
                    "heard": u.heard,
                    "score": round(u.score, 4),
                    "missing": u.missing,
                    "inserted": u.inserted,
                    "start": round(u.start_s, 3),
                    "end": round(u.end_s, 3),
                }
                for u in self.flagged(threshold)
            ],
        }
