"""Export file names are built in one place (`pipelines.audio.names`); the plan uses the same."""

from __future__ import annotations

from pathlib import Path

from pipelines.audio import names
from pipelines.audio.encode import m4b_groups
from pipelines.audio.export import plan_files
from pipelines.audio.profiles import ACX
from pipelines.audio.split import mp3_part_count

TITLES = ["Chapter 1: Arrival", "", "Chapter 3 — Ends."]


def test_tracks_number_credits_from_zero_and_name_untitled_chapters() -> None:
    tracks = names.tracks(TITLES, opening_credits=True, closing_credits=True)
    assert [(t.number, t.title) for t in tracks] == [
        (0, "Opening Credits"),
        (1, "Chapter 1: Arrival"),
        (2, "Chapter 2"),
        (3, "Chapter 3 — Ends."),
        (4, "Closing Credits"),
    ]
    bare = names.tracks(TITLES, opening_credits=False, closing_credits=False)
    assert [t.number for t in bare] == [1, 2, 3]


def test_mp3_names_and_parts() -> None:
    tracks = names.tracks(TITLES, opening_credits=True, closing_credits=True)
    assert names.mp3_names(tracks, [1, 1, 3, 1, 1]) == [
        ["00 - Opening Credits.mp3"],
        ["01 - Chapter 1 Arrival.mp3"],
        [
            "02 - Chapter 2 (Part 1).mp3",
            "02 - Chapter 2 (Part 2).mp3",
            "02 - Chapter 2 (Part 3).mp3",
        ],
        ["03 - Chapter 3 — Ends.mp3"],
        ["04 - Closing Credits.mp3"],
    ]
    assert names.part_title("Chapter 2", 3) == "Chapter 2, Part 3"


def test_caption_names_pair_each_track() -> None:
    tracks = names.tracks(["One"], opening_credits=False, closing_credits=False)
    assert names.caption_names(tracks) == [["01 - One.srt", "01 - One.vtt"]]


def test_numbers_are_as_wide_as_the_book_needs() -> None:
    tracks = names.tracks(
        [f"C{i}" for i in range(1, 121)], opening_credits=True, closing_credits=True
    )
    mp3 = names.mp3_names(tracks, [1] * len(tracks))
    assert mp3[0] == ["000 - Opening Credits.mp3"] and mp3[-1] == ["121 - Closing Credits.mp3"]
    assert names.caption_names(tracks)[1] == ["001 - C1.srt", "001 - C1.vtt"]
    # With 99 as the last number, every file of the book takes two digits: the MP3s and their
    # captions sort side by side.
    tracks = names.tracks(
        [f"C{i}" for i in range(1, 99)], opening_credits=True, closing_credits=True
    )
    assert names.mp3_names(tracks, [1] * len(tracks))[1] == ["01 - C1.mp3"]
    assert names.caption_names(tracks)[1] == ["01 - C1.srt", "01 - C1.vtt"]


def test_m4b_names_and_parts() -> None:
    assert names.m4b_names("The Book: A Test?") == ["The Book A Test.m4b"]
    assert names.m4b_names("Book", 2) == ["Book - Part 1.m4b", "Book - Part 2.m4b"]
    assert names.m4b_part_path(Path("/out/Book.m4b"), 2) == Path("/out/Book - Part 2.m4b")


def test_partial_names_are_hidden_and_swept() -> None:
    tmp = Path("/out/.01 - One.3f2a9c0d1e4b.part.mp3")  # as core.files.atomic_path names it

    assert tmp.match(names.PARTIAL_GLOB)


def test_the_plan_lists_files_in_the_exporters_order() -> None:
    assert plan_files("The Book: A Test?", TITLES, chapter_captioned=[True, False, True]) == [
        "00 - Opening Credits.mp3",
        "01 - Chapter 1 Arrival.mp3",
        "02 - Chapter 2.mp3",
        "03 - Chapter 3 — Ends.mp3",
        "04 - Closing Credits.mp3",
        "01 - Chapter 1 Arrival.srt",
        "01 - Chapter 1 Arrival.vtt",
        "03 - Chapter 3 — Ends.srt",
        "03 - Chapter 3 — Ends.vtt",
        "The Book A Test.m4b",
        "sample.mp3",
        "export.json",
    ]
    assert plan_files("B", ["One"], m4b=False, mp3=False, sample=False, captions=False) == [
        "export.json"
    ]


def test_the_plan_splits_what_the_encoders_split() -> None:
    hours = [3.0 * 3600, 0.5 * 3600] + [2.0 * 3600] * 11  # 25.5 hours: two M4Bs
    titles = [f"Chapter {i}" for i in range(1, len(hours) + 1)]
    planned = plan_files("Long", titles, chapter_seconds=hours, captions=False, sample=False)
    assert mp3_part_count(hours[0], ACX) == 2
    assert "01 - Chapter 1 (Part 1).mp3" in planned and "01 - Chapter 1 (Part 2).mp3" in planned
    assert "02 - Chapter 2.mp3" in planned
    assert len(m4b_groups([0.0, *hours, 0.0], ACX)) == 2
    assert planned[-3:] == ["Long - Part 1.m4b", "Long - Part 2.m4b", "export.json"]
    # A chapter not rendered yet counts as one file.
    assert "01 - Chapter 1.mp3" in plan_files("Long", titles, chapter_seconds=[None] * len(titles))
