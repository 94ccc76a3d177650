"""Proof-listening's comparison of words heard with the script, without a recogniser: heard
words are given with their times, as faster-whisper reports them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli.main import main as cli_main
from pipelines.core.errors import StudioError
from pipelines.proof import whisper_files
from pipelines.proof.align import Span, align_window
from pipelines.proof.proofer import windows
from pipelines.proof.results import ChapterProof, HeardWord, UtteranceProof
from pipelines.proof.words import fold, heard_forms, script_words, soundex
from pipelines.store import Project
from pipelines.store.migrations import MIGRATIONS
from pipelines.store.proofs import (
    KEEP_PER_CHAPTER,
    ProofRow,
    TakeScore,
    latest_proof,
    proof_for,
    save_proof,
    save_take_scores,
    take_scores,
)


def timed(text: str, start: float, step: float = 0.3) -> list[HeardWord]:
    """Words heard one after another from `start`, `step` seconds each."""
    return [
        HeardWord(" " + w, start + i * step, start + (i + 1) * step)
        for i, w in enumerate(text.split())
    ]


def test_words_fold_case_punctuation_and_apostrophes() -> None:
    assert fold("“Don’t,” she said — twenty-one.") == ["dont", "she", "said", "twenty", "one"]
    assert [w.tokens for w in script_words('Missus Alder, "yes."')] == [
        ("missus",),
        ("alder",),
        ("yes",),
    ]
    assert heard_forms(" 12,") == (frozenset({"twelve"}),)
    assert heard_forms("1931") == tuple(frozenset({t}) for t in ("nineteen", "thirty", "one"))
    assert heard_forms("Mrs.") == (frozenset({"mrs", "missus"}),)
    assert heard_forms("St.") == (frozenset({"street", "saint"}),)
    assert soundex("lamp") == soundex("lamb") != soundex("lame")


def test_numbers_written_as_digits_and_titles_are_no_error() -> None:
    span = Span(0, 1.0, 4.0, "Missus Alder counted twelve lamps in nineteen thirty-one.")
    heard = timed("Mrs. Alder counted 12 lamps in 1931.", 1.0, 0.4)
    (proof,) = align_window([span], heard)
    assert (proof.words, proof.heard_words, proof.missing, proof.inserted) == (9, 9, [], [])
    assert proof.score == 1.0 and not proof.flagged()
    assert proof.heard == "Mrs. Alder counted 12 lamps in 1931."


def test_missing_and_inserted_words_are_listed_in_order() -> None:
    span = Span(0, 0.0, 3.0, "The lamp hissed and caught at last.")
    heard = timed("The lamp purple and caught elephants at", 0.0)
    (proof,) = align_window([span], heard)
    assert proof.missing == ["hissed", "last"]
    assert proof.inserted == ["purple", "elephants"]
    assert proof.score == pytest.approx(5 / 7) and proof.flagged()


def test_words_the_recogniser_cuts_otherwise_count_as_heard() -> None:
    # Joined, split, or a name heard as the common words it sounds like: all heard.
    for script, heard_as in [
        ("Marley was as dead as a door-nail.", "Marley was as dead as a doornail."),
        ("You will therefore permit me.", "You will there for permit me."),
        ("Tobias read it twice, and folded it.", "To buy us a reddit twice, and folded it."),
        ("Tobias read it twice, and folded it.", "To buy us read it twice, and folded it."),
    ]:
        (proof,) = align_window([Span(0, 0.0, 4.0, script)], timed(heard_as, 0.0))
        assert (proof.score, proof.missing, proof.inserted) == (1.0, [], []), script
        assert proof.heard == heard_as
    # A word left out is still missing, and other words that do not sound alike stay wrong.
    (proof,) = align_window(
        [Span(0, 0.0, 4.0, "He said he would not go home.")], timed("He said he would go home.", 0)
    )
    assert proof.missing == ["not"]
    (proof,) = align_window(
        [Span(0, 0.0, 4.0, "The lamp hissed and caught at last.")],
        timed("The lamp was purple in the cold at last.", 0.0),
    )
    assert proof.missing == ["hissed", "and", "caught"] and proof.flagged()
    # Each heard word makes up for one utterance's words at most.
    spans = [Span(0, 0.0, 2.0, "Door nail."), Span(1, 2.0, 4.0, "Door nail.")]
    proofs = align_window(spans, [HeardWord(" Doornail.", 1.4, 2.4)])
    assert sorted(p.score for p in proofs) == [0.0, 1.0]


def test_a_sentence_heard_in_another_utterances_place_does_not_count() -> None:
    spans = [
        Span(0, 0.0, 2.0, "One two three four."),
        Span(1, 3.0, 5.0, "Five six seven eight."),
        Span(2, 6.0, 8.0, "Nine ten eleven twelve."),
    ]
    # The second utterance's audio says the first's words: its own are nowhere heard in time.
    heard = timed("One two three four.", 0.1, 0.4) + timed("One two three four.", 3.1, 0.4)
    heard += timed("Nine ten eleven twelve.", 6.1, 0.4)
    proofs = align_window(spans, heard)
    assert [p.score for p in proofs] == [1.0, 0.0, 1.0]
    assert [p.flagged() for p in proofs] == [False, True, False]
    assert proofs[1].heard == "One two three four."
    assert len(proofs[1].inserted) == 4
    # Words heard a little outside their span (times are approximate) still count.
    early = timed("Five six seven eight.", 2.6, 0.4)
    assert align_window(spans[1:2], early)[0].score == 1.0


def test_script_words_are_timed_from_the_words_heard() -> None:
    span = Span(0, 1.0, 3.0, "Two cats came to sit.")
    heard = [
        HeardWord(" Two", 1.0, 1.2),
        HeardWord(" cats", 1.2, 1.5),
        HeardWord(" sit.", 2.5, 2.9),
    ]
    (proof,) = align_window([span], heard)
    assert [w for w, _, _ in proof.timings] == ["Two", "cats", "came", "to", "sit."]
    assert proof.timings[0][1:] == (1.0, 1.2) and proof.timings[4][1:] == (2.5, 2.9)
    # The unheard words share out the time between their heard neighbours, by length.
    came, to = proof.timings[2], proof.timings[3]
    assert came[1] == pytest.approx(1.5) and to[2] == pytest.approx(2.5)
    assert came[2] == pytest.approx(1.5 + 1.0 * 4 / 6)


def test_windows_cut_at_utterances_and_skip_silent_ones() -> None:
    spans = [Span(i, i * 10.0, i * 10.0 + 8.0, f"Sentence {i}.") for i in range(6)]
    spans.insert(2, Span(9, 18.5, 19.0, " "))
    runs = [[s.index for s in run] for run in windows(spans, 25.0)]
    assert runs == [[0, 1], [2, 3], [4, 5]]  # each under 25 s; the silent one left out
    long = [Span(0, 0.0, 40.0, "A very long one."), Span(1, 41.0, 45.0, "Short.")]
    assert [[s.index for s in r] for r in windows(long, 25.0)] == [[0], [1]]


def test_results_round_trip_and_summarise() -> None:
    u = UtteranceProof(3, 1.0, 2.0, "Hello there.", "piper:joe-us", 2, 1, ["there"], [], "Hello")
    u.timings = [("Hello", 1.0, 1.4), ("there.", 1.4, 2.0)]
    again = UtteranceProof.from_dict(u.as_dict())
    assert again == u
    proof = ChapterProof(1, "h", "whisper-base", [u, UtteranceProof(4, 2, 3, "", "", 0, 0)])
    assert proof.heard_share == 0.5 and [f.index for f in proof.flagged()] == [3]
    summary = proof.as_dict()
    assert summary["heard_share"] == 0.5 and summary["flagged"][0]["heard"] == "Hello"


def test_proofs_are_stored_by_script_hash_and_pruned(tmp_path: Path) -> None:
    project = Project.open(tmp_path / "p", create=True)
    assert project.schema_version == len(MIGRATIONS)
    from pipelines.core.model import Block, BlockKind, Book, Chapter

    project.save_book(Book("B", chapters=[Chapter("One", [Block(BlockKind.PARAGRAPH, "Hi.")])]))
    cid = project.chapters()[0].id or 0
    for i in range(KEEP_PER_CHAPTER + 2):
        save_proof(project, ProofRow(cid, f"h{i}", "whisper-base", "sha", i / 10, f"t{i:02d}"))
    assert proof_for(project, cid, "h0") is None  # the oldest are forgotten
    row = proof_for(project, cid, f"h{KEEP_PER_CHAPTER + 1}")
    assert row is not None and row.heard_share == pytest.approx(0.5)
    latest = latest_proof(project, cid)
    assert latest is not None and latest.script_hash == f"h{KEEP_PER_CHAPTER + 1}"
    save_take_scores(project, cid, [TakeScore("d", 0, 0.4, "x"), TakeScore("d", 1, 0.9, "x")])
    save_take_scores(project, cid, [TakeScore("d", 1, 0.95, "x")])
    assert {t: s.score for t, s in take_scores(project, cid)["d"].items()} == {0: 0.4, 1: 0.95}
    project.close()


def test_a_missing_whisper_model_names_the_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(whisper_files.MODEL_DIR_ENV, raising=False)
    assert not whisper_files.is_installed()
    with pytest.raises(StudioError, match=r"run `audiobook-studio models download whisper`"):
        whisper_files.require_model()
    with pytest.raises(StudioError, match="no Whisper model size"):
        whisper_files.model_root("huge")
    monkeypatch.setenv(whisper_files.MODEL_DIR_ENV, str(tmp_path))
    with pytest.raises(StudioError, match=r"model\.bin"):
        whisper_files.require_model()
    # --size belongs to the whisper model only.
    assert cli_main(["models", "download", "kokoro", "--size", "small"]) == 2
    assert "--size is for the whisper model" in capsys.readouterr().err
