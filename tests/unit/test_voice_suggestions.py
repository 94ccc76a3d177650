"""Voice suggestions for the full cast: gender first, distinct voices, the narrator's kept."""

from __future__ import annotations

from pipelines.cast.casting import suggest_voices
from pipelines.core.model import VoiceRef
from pipelines.engines.base import Voice
from pipelines.script.characters import Character, CharacterList

FEMALE = [Voice("piper", f"f{i}", f"F{i}", gender="female") for i in range(3)]
MALE = [Voice("piper", f"m{i}", f"M{i}", gender="male") for i in range(3)]
UNKNOWN = [Voice("piper", f"u{i}", f"U{i}") for i in range(2)]
VOICES = [*MALE, *UNKNOWN, *FEMALE]  # mixed, so order alone cannot pass the tests
GENDER = {f"{v.engine}:{v.id}": v.gender for v in VOICES}


def _cast(*people: tuple[str, str], narrator: str | None = None) -> CharacterList:
    return CharacterList(
        [Character(n, {n}, 10, g, 10 - i) for i, (n, g) in enumerate(people)], narrator
    )


def _gender(ref: VoiceRef) -> str:
    return GENDER[str(ref)]


def test_women_get_female_voices_and_men_male_ones() -> None:
    cast = _cast(("Irene", "female"), ("Holmes", "male"), ("Mary", "female"), ("Watson", "male"))
    out = suggest_voices(cast, VOICES)
    assert [_gender(out[n]) for n in ("Irene", "Mary")] == ["female", "female"]
    assert [_gender(out[n]) for n in ("Holmes", "Watson")] == ["male", "male"]
    assert len(set(out.values())) == 4


def test_distinct_voices_go_round_before_any_repeats() -> None:
    cast = _cast(*((f"W{i}", "female") for i in range(7)))
    out = suggest_voices(cast, VOICES)
    firsts = [out[f"W{i}"] for i in range(3)]
    assert len(set(firsts)) == 3 and all(_gender(r) == "female" for r in firsts)
    # more women than female voices: the voices of unknown gender next, never a man's
    assert [_gender(out[n]) for n in ("W3", "W4")] == ["", ""] and out["W3"] != out["W4"]
    # every fitting voice used once: the female ones again, before a man's
    assert {_gender(out[n]) for n in ("W5", "W6")} == {"female"} and out["W5"] != out["W6"]


def test_unknown_gender_prefers_voices_that_cannot_be_wrong() -> None:
    cast = _cast(("Someone", ""), ("Other", ""), ("Third", ""))
    out = suggest_voices(cast, VOICES)
    assert {_gender(out["Someone"]), _gender(out["Other"])} == {""}
    assert out["Someone"] != out["Other"]
    assert _gender(out["Third"]) in ("female", "male")  # the neutral ones are both taken


def test_no_voice_of_the_gender_falls_back_to_unknown_then_any() -> None:
    cast = _cast(("Irene", "female"), ("Mary", "female"), ("Ann", "female"))
    out = suggest_voices(cast, [*MALE, *UNKNOWN])
    assert [_gender(out[n]) for n in ("Irene", "Mary")] == ["", ""]
    assert _gender(out["Ann"]) == ""  # shared, as a man's voice would sound wrong
    assert out["Ann"] in (out["Irene"], out["Mary"])
    only_men = suggest_voices(cast, MALE)
    assert len(set(only_men.values())) == 3  # still voices of their own rather than nothing
    assert suggest_voices(cast, []) == {}


def test_engines_gender_labels_are_read_loosely() -> None:
    labelled = [Voice("el", "a", "A", gender="Male"), Voice("el", "b", "B", gender="F")]
    out = suggest_voices(_cast(("Irene", "female"), ("Holmes", "male")), labelled)
    assert out == {"Irene": VoiceRef("el", "b"), "Holmes": VoiceRef("el", "a")}


def test_the_narrator_keeps_their_voice_and_nobody_else_gets_it() -> None:
    narrator = VoiceRef("piper", "m0")
    cast = _cast(*((f"M{i}", "male") for i in range(3)), ("Watson", "male"), narrator="Watson")
    out = suggest_voices(cast, VOICES, narrator)
    assert out["Watson"] == narrator
    others = [out[f"M{i}"] for i in range(3)]
    assert narrator not in others
    assert [_gender(r) for r in others] == ["male", "male", ""]  # m1, m2, then a neutral one
    # the narrator's voice the only one: the narrator keeps it, nobody else is suggested one
    assert suggest_voices(cast, [MALE[0]], narrator) == {"Watson": narrator}


def test_kept_voices_count_as_used_and_their_characters_are_left_alone() -> None:
    cast = _cast(("Irene", "female"), ("Mary", "female"))
    kept = {"Irene": VoiceRef("piper", "f0")}
    out = suggest_voices(cast, VOICES, keep=kept)
    assert "Irene" not in out
    assert out["Mary"] != kept["Irene"] and _gender(out["Mary"]) == "female"


def test_only_the_main_speakers_are_suggested_voices() -> None:
    cast = _cast(*((f"C{i}", "") for i in range(6)))
    assert list(suggest_voices(cast, VOICES, limit=4)) == ["C0", "C1", "C2", "C3"]
