"""How well proof-listening tells audio that says its sentence from audio that says another, on
real prose: a chapter of A Christmas Carol rendered with Piper and heard by Whisper base.

Prints, over the chapter's utterances: the share of script words heard, the share of
utterances flagged (each one a false alarm: Piper said the sentence), and, with every
utterance's script swapped for a sentence from elsewhere in the chapter while its audio stays,
the share of those flagged (each one missed is a wrong chunk that would pass).

Hearing is the slow part, and Piper's noise makes each render differ, so the words heard can be
kept: `--heard FILE` writes them on the first run and reads them on later ones, so that two
versions of the alignment are compared on the very same hearing.

    .venv/bin/python bench/proof_align_bench.py [--book BOOK] [--chapter 1] [--blocks 60]
        [--heard /tmp/carol-heard.json] [-v]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import soundfile as sf  # noqa: E402

from pipelines.app.editing import regenerate_chapter  # noqa: E402
from pipelines.cast.voices import set_narrator  # noqa: E402
from pipelines.core.model import Book, VoiceRef  # noqa: E402
from pipelines.manuscript import load_book  # noqa: E402
from pipelines.proof import whisper_files  # noqa: E402
from pipelines.proof.align import Span, align_window  # noqa: E402
from pipelines.proof.asr import Recogniser  # noqa: E402
from pipelines.proof.proofer import PAD_S, read_window, windows  # noqa: E402
from pipelines.proof.results import HeardWord  # noqa: E402
from pipelines.render.service import RenderService  # noqa: E402
from pipelines.store import Project  # noqa: E402
from pipelines.store.renders import render_of  # noqa: E402

Window = tuple[list[Span], list[HeardWord]]
SWAP_STEP = 37  # the sentence put in an utterance's place: this many utterances on


def model_root() -> Path:
    if whisper_files.is_installed():
        return whisper_files.model_root()
    from tests.whisper_files import source_dir

    return source_dir()  # joined from the PyPI parts (dev dependencies)


def hear(book_path: Path, chapter: int, blocks: int) -> list[Window]:
    """The chapter's first `blocks` blocks rendered with Piper and heard, window by window."""
    book = load_book(book_path)
    source = book.chapters[chapter - 1]
    source.blocks = source.blocks[:blocks]
    with tempfile.TemporaryDirectory() as tmp, Project.open(Path(tmp) / "p", create=True) as p:
        p.save_book(Book(title=book.title, chapters=[source]))
        set_narrator(p, VoiceRef("piper", "joe-us"))
        cid = p.chapters()[0].id or 0
        with RenderService(p) as service:
            regenerate_chapter(p, service, cid)
            assert service.run() == 1, "the chapter did not render"
        render = render_of(p, cid)
        assert render is not None
        wav = p.root / render.wav
        duration = float(sf.info(str(wav)).duration)
        spans = [
            Span(i, float(s["start"]), float(s["end"]), str(s.get("text", "")))
            for i, s in enumerate(render.spans)
        ]
        listener = Recogniser(model_root())
        out: list[Window] = []
        for run in windows(spans):
            start = max(0.0, run[0].start_s - PAD_S)
            end = min(duration, run[-1].end_s + PAD_S)
            out.append((run, listener.transcribe(read_window(wav, start, end), start)))
        print(f"rendered and heard {len(spans)} utterances, {duration / 60:.1f} min of audio")
        return out


def save(path: Path, heard: list[Window]) -> None:
    rows = [
        {
            "spans": [[s.index, s.start_s, s.end_s, s.text] for s in spans],
            "heard": [[w.word, w.start_s, w.end_s, w.probability] for w in words],
        }
        for spans, words in heard
    ]
    path.write_text(json.dumps(rows))


def load(path: Path) -> list[Window]:
    return [
        ([Span(*s) for s in row["spans"]], [HeardWord(*w) for w in row["heard"]])
        for row in json.loads(path.read_text())
    ]


def score(heard: list[Window], verbose: bool) -> None:
    texts = [s.text for spans, _ in heard for s in spans]
    utterances = flagged = words = heard_words = swapped = caught = 0
    at = 0
    for spans, words_heard in heard:
        for proof in align_window(spans, words_heard):
            if not proof.words:
                continue
            utterances += 1
            words += proof.words
            heard_words += proof.heard_words
            if proof.flagged():
                flagged += 1
                if verbose:
                    print(f"flagged {proof.score:.2f}: {proof.text}\n   heard: {proof.heard}")
        for k, span in enumerate(spans):
            other = texts[(at + k + SWAP_STEP) % len(texts)]
            wrong = [*spans[:k], Span(span.index, span.start_s, span.end_s, other), *spans[k + 1 :]]
            proof = align_window(wrong, words_heard)[k]
            if proof.words >= 4:  # a short sentence may share its few words by chance
                swapped += 1
                caught += proof.flagged()
        at += len(spans)
    print(f"utterances {utterances}: script words heard {heard_words / words:.2%}")
    print(f"flagged though right: {flagged} ({flagged / utterances:.1%})")
    print(f"swapped sentences flagged: {caught}/{swapped} ({caught / swapped:.1%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = REPO.parent / "shared/corpus/dickens_a-christmas-carol.md"
    parser.add_argument("--book", type=Path, default=default)
    parser.add_argument("--chapter", type=int, default=1, help="1-based")
    parser.add_argument("--blocks", type=int, default=60)
    parser.add_argument("--heard", type=Path, help="the words heard: written once, then read")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each flagged one")
    args = parser.parse_args()
    if args.heard and args.heard.is_file():
        heard = load(args.heard)
    else:
        heard = hear(args.book, args.chapter, args.blocks)
        if args.heard:
            save(args.heard, heard)
    score(heard, args.verbose)


if __name__ == "__main__":
    main()
