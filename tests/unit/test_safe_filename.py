"""Export file names never start with a dot: a title like '.hack' must not make a hidden file."""

from __future__ import annotations

import pytest

from pipelines.audio.names import m4b_name, m4b_names, safe_filename


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (".hack", "hack"),
        ("...And Then There Were None", "And Then There Were None"),
        (" . . . ellipsis", "ellipsis"),
        ("\t.\u00a0.hidden.", "hidden"),
        (".CON", "CON_"),
        ("....", "Untitled"),
        (". ", "Untitled"),
        ("Mr. Smith Goes.", "Mr. Smith Goes"),
    ],
)
def test_no_leading_dots_or_spaces(title: str, expected: str) -> None:
    assert safe_filename(title) == expected


def test_long_title_after_leading_dots_is_still_short() -> None:
    name = safe_filename("." * 50 + "x" * 500)
    assert name == "x" * 120


def test_m4b_of_a_dotted_title_is_not_hidden() -> None:
    assert m4b_name(".hack//Sign") == "hack Sign.m4b"
    assert all(not n.startswith(".") for n in m4b_names(".hack", parts=2))
