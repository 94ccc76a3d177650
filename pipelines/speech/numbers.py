"""Reading numbers aloud: cardinals, ordinals, years, decimals, money, fractions, times.

Part of text preparation (`normalize.py` runs it after abbreviations are expanded, so "No. 5"
has already become "number 5"). English is read fully; other languages get plain numbers
through num2words where it supports them.
"""

from __future__ import annotations

import re
from functools import lru_cache

from num2words import CONVERTER_CLASSES, num2words


def wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


MONTHS = {
    "Jan": "January",
    "Feb": "February",
    "Mar": "March",
    "Apr": "April",
    "Jun": "June",
    "Jul": "July",
    "Aug": "August",
    "Sep": "September",
    "Sept": "September",
    "Oct": "October",
    "Nov": "November",
    "Dec": "December",
}


# -- numbers ---------------------------------------------------------------------------------------


def num2words_lang(lang: str) -> str | None:
    """The num2words language code for a book language ("en-GB" -> "en"), or None."""
    code = lang.replace("-", "_")
    if code in CONVERTER_CLASSES:
        return code
    base = code.split("_")[0].lower()
    return base if base in CONVERTER_CLASSES else None


@lru_cache(maxsize=8192)
def number_words(n: int, lang: str = "en", to: str = "cardinal") -> str:
    try:
        out = str(num2words(n, lang=lang, to=to))
    except NotImplementedError:
        out = str(num2words(n, lang=lang))
    if lang == "en":
        # American style, as a narrator reads: "one thousand two hundred thirty-four".
        out = out.replace(",", "").replace(" and ", " ")
    return out


_DIGIT_EN = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _digits(s: str, lang: str) -> str:
    return " ".join(_DIGIT_EN[int(d)] if lang == "en" else number_words(int(d), lang) for d in s)


def _cardinal(s: str, lang: str = "en") -> str:
    s = s.replace(",", "")
    if (len(s) > 1 and s[0] == "0") or len(s) > 15:
        return _digits(s, lang)  # an identifier or a code, read digit by digit
    return number_words(int(s), lang)


def _decimal(whole: str, frac: str | None) -> str:
    return _cardinal(whole) + (f" point {_digits(frac, 'en')}" if frac else "")


def _plural(words: str) -> str:
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


_FRACTIONS = {
    "½": ("a half", "one half"),
    "¼": ("a quarter", "one quarter"),
    "¾": ("three quarters", "three quarters"),
    "⅓": ("a third", "one third"),
    "⅔": ("two thirds", "two thirds"),
    "⅛": ("an eighth", "one eighth"),
    "⅜": ("three eighths", "three eighths"),
    "⅝": ("five eighths", "five eighths"),
    "⅞": ("seven eighths", "seven eighths"),
}
_FRAC = "".join(_FRACTIONS)
_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", "sen", "sen"),
}
# Counted things after a four-digit number: "1848 miles" is a quantity, not a year.
_QUANTITY_NOUNS = wordset(
    "feet foot miles yards inches fathoms leagues rods acres tons pounds dollars men women people "
    "souls soldiers times days weeks hours minutes seconds years words pages copies barrels "
    "whales ships"
)
_NEXT_WORD = re.compile(r"\s+([a-z]+)")
_INT = r"\d{1,3}(?:,\d{3})+|\d+"
_MONTH_NAMES = "|".join(dict.fromkeys([*MONTHS.values(), "May"]))
_NUMBER_EN = re.compile(
    rf"""
    (?P<cur>[$£€¥])\s?(?P<camt>{_INT})(?:\.(?P<cdec>\d{{1,2}})(?!\d))?(?P<cfrac>[{_FRAC}])?
        (?:\s(?P<scale>thousand|million|billion|trillion)\b)?
    | (?<![\w:.])(?P<hh>[01]?\d|2[0-3]):(?P<mm>[0-5]\d)(?![\d:])
    | (?<![\w'])(?P<dec4>1\d|20)(?P<dec4b>\d0)'?s\b
    | (?<![\w])'?(?P<dec2>[1-9]0)'?s\b
    | \b(?P<month>{_MONTH_NAMES})\s(?P<day>[1-9]|[12]\d|3[01])(?!\w|[.:]\d)
    | (?<![\w.])(?P<ord>{_INT})(?P<osuf>st|nd|rd|th|d|ST|ND|RD|TH)\b
    | (?<!\w)(?<!\d[.-])\#?(?P<num>{_INT})(?:\.(?P<frac>\d+))?(?P<vul>[{_FRAC}])?(?!\w|\.\d|-\d)
        (?P<pct>\s?%)?(?P<deg>°)?
    | (?P<vulgar>[{_FRAC}])
    """,
    re.VERBOSE,
)
HAS_NUMBER = re.compile(rf"[\d{_FRAC}]")
_NUMBER_OTHER = re.compile(r"(?<![\w.,])(\d+)(?![.,]\d|\w)")


def _money(m: re.Match[str]) -> str:
    one, many, sub_one, sub_many = _CURRENCIES[m.group("cur")]
    amount, cents, frac = m.group("camt").replace(",", ""), m.group("cdec"), m.group("cfrac")
    if m.group("scale"):  # "$2.5 million" -> two point five million dollars
        return f"{_decimal(amount, cents)} {m.group('scale')} {many}"
    parts = []
    whole = int(amount)
    if whole or not (cents or frac):
        parts.append(f"{_cardinal(amount)} {one if whole == 1 else many}")
    if cents or frac:
        n = int(cents.ljust(2, "0")) if cents else 0
        spoken = _cardinal(str(n))
        if frac:
            spoken = f"{spoken} and {_FRACTIONS[frac][0]}" if n else _FRACTIONS[frac][1]
        if n or frac:
            parts.append(f"{spoken} {sub_one if n == 1 and not frac else sub_many}")
    return " and ".join(parts)


def _ordinal(m: re.Match[str]) -> str:
    digits, suffix = m.group("ord").replace(",", ""), m.group("osuf").lower()
    n = int(digits)
    if suffix == "d" and not (n % 10 in (2, 3) and n % 100 not in (12, 13)):
        return m.group()  # "12d" is twelve pence, not an ordinal
    return number_words(n, "en", "ordinal")


def _plain_number(m: re.Match[str]) -> str:
    digits, frac, vul = m.group("num"), m.group("frac"), m.group("vul")
    prefix = "number " if m.group().startswith("#") else ""
    if frac is not None:
        spoken = _decimal(digits, frac)
    elif len(digits) == 4 and 1000 <= int(digits) <= 2099 and not (m.group("pct") or vul):
        after = _NEXT_WORD.match(m.string, m.end())
        counted = after is not None and after.group(1) in _QUANTITY_NOUNS
        n = int(digits)
        spoken = _cardinal(digits) if counted and n % 100 else number_words(n, "en", "year")
    else:
        spoken = _cardinal(digits)
    if vul:
        spoken = f"{spoken} and {_FRACTIONS[vul][0]}"
    if m.group("pct"):
        spoken += " percent"
    if m.group("deg"):
        spoken += " degrees"
    return prefix + spoken


def _number_en(m: re.Match[str]) -> str:
    if m.group("cur"):
        return _money(m)
    if m.group("hh"):
        hour, minute = _cardinal(m.group("hh")), int(m.group("mm"))
        if minute == 0:
            rest = m.string[m.end() : m.end() + 5].lstrip().lower()
            return hour if rest.startswith(("a.m", "p.m", "am", "pm")) else f"{hour} o'clock"
        return (
            f"{hour} oh {number_words(minute)}" if minute < 10 else f"{hour} {number_words(minute)}"
        )
    if m.group("dec4"):
        return _plural(number_words(int(m.group("dec4") + m.group("dec4b")), "en", "year"))
    if m.group("dec2"):
        return _plural(number_words(int(m.group("dec2"))))
    if m.group("month"):
        return f"{m.group('month')} {number_words(int(m.group('day')), 'en', 'ordinal')}"
    if m.group("ord"):
        return _ordinal(m)
    if m.group("num"):
        return _plain_number(m)
    if m.group("vulgar"):
        return _FRACTIONS[m.group("vulgar")][1]
    return m.group()


def _number_other(m: re.Match[str], lang: str) -> str:
    digits = m.group(1)
    n = int(digits)
    if len(digits) == 4 and 1000 <= n <= 2099:
        return number_words(n, lang, "year")
    return _cardinal(digits, lang)


def expand_numbers(text: str, lang: str = "en") -> str:
    """Digits -> words: money, times, decades, ordinals, years, decimals, percentages."""
    if lang == "en":
        return _NUMBER_EN.sub(_number_en, text)
    code = num2words_lang(lang)
    if code is None:
        return text  # leave digits to the voice, which reads its own language's numbers
    return _NUMBER_OTHER.sub(lambda m: _number_other(m, code), text)
