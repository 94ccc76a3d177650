"""Roman numerals are read by one function: headings, PDF folios and speech all use it."""

from __future__ import annotations

import re

import pytest

from pipelines.core.roman import ROMAN, roman_to_int


def _to_roman(n: int) -> str:
    out = ""
    for value, numeral in (
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    ):  # fmt: skip
        while n >= value:
            out += numeral
            n -= value
    return out


@pytest.mark.parametrize(
    ("numeral", "value"),
    [("I", 1), ("IV", 4), ("ix", 9), ("XIV", 14), ("XL", 40), ("MCMXXXI", 1931), ("MMXXIV", 2024)],
)
def test_roman_to_int(numeral: str, value: int) -> None:
    assert roman_to_int(numeral) == value


@pytest.mark.parametrize(
    "word",
    ["IIII", "VV", "IC", "DID", "LIVID", "CIVIL", "", "HELLO", "MMMM", "XIV.", " XIV", "X I"],
)
def test_roman_to_int_refuses_what_is_not_a_numeral(word: str) -> None:
    assert roman_to_int(word) is None


def test_every_numeral_from_1_to_3999_reads_back_in_either_case() -> None:
    for n in range(1, 4000):
        numeral = _to_roman(n)
        assert roman_to_int(numeral) == n
        assert roman_to_int(numeral.lower()) == n


def test_only_ascii_letters_are_numerals() -> None:
    # Under IGNORECASE alone, the dotless and dotted Turkish i would pass for "I".
    assert roman_to_int("\u0131") is None
    assert roman_to_int("X\u0130") is None


def test_the_pattern_matches_a_numeral_and_never_nothing() -> None:
    pattern = re.compile(rf"^(?:{ROMAN})$")
    assert pattern.match("XLII") and pattern.match("MMXXIV")
    assert not pattern.match("") and not pattern.match("xlii") and not pattern.match("IIII")
    assert re.compile(rf"^(?:{ROMAN})$", re.IGNORECASE).match("xlii")
    # Its lookahead keeps it from an empty match at the start of any word.
    prefix = re.match(ROMAN, "Moby")
    assert prefix is not None and prefix.group() == "M"
    assert re.match(ROMAN, "abc") is None
