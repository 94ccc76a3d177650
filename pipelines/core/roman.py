"""Roman numerals, read one way everywhere: chapter headings, PDF folios, numbers to be spoken.

`ROMAN` is the pattern of one well-formed numeral (I to MMMCMXCIX: no "IIII", no "IC"), to be
built into larger patterns; `roman_to_int` is the only place a numeral is given its value.
"""

from __future__ import annotations

import re

# Upper case as written; compile with re.IGNORECASE (or wrap in "(?i:...)") to take "xiv" too.
# The lookahead keeps it from matching nothing: a match starts with a numeral's letter. It can
# still match a prefix ("MI" of "MIX..."), so callers anchor it or fence it with a lookahead.
ROMAN = r"(?=[MDCLXVI])M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})"

# ASCII: under IGNORECASE alone "ı" and "İ" would pass for "I" and have no value.
_NUMERAL = re.compile(ROMAN, re.IGNORECASE | re.ASCII)
_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def roman_to_int(text: str) -> int | None:
    """The value of a well-formed numeral in either case ("XIV", "xiv" -> 14); None otherwise.

    The whole string must be the numeral: no spaces, no stop, nothing empty.
    """
    if not text or not _NUMERAL.fullmatch(text):
        return None
    values = [_VALUES[c] for c in text.upper()]
    total = 0
    for i, v in enumerate(values):
        total += -v if i + 1 < len(values) and values[i + 1] > v else v
    return total
