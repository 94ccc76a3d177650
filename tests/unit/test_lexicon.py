"""The pronunciation lexicon: matching, its version, files and PLS export."""

from __future__ import annotations

import json
import os
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from pipelines.core.errors import ManuscriptError
from pipelines.speech.lexicon import PLS_NAMESPACE, Lexicon, LexiconEntry

NS = {"pls": PLS_NAMESPACE}


def test_whole_words_only_case_insensitive_by_default() -> None:
    lex = Lexicon([("Hermione", "her-MY-oh-nee")])
    assert lex.apply("Hermione and HERMIONE and hermione") == " and ".join(["her-MY-oh-nee"] * 3)
    assert lex.apply("Hermione's wand") == "her-MY-oh-nee's wand"
    assert lex.apply("Hermiones and preHermione") == "Hermiones and preHermione"


def test_case_sensitive_entries_match_only_their_spelling() -> None:
    lex = Lexicon()
    lex.add("US", "U S", case_sensitive=True)
    assert lex.apply("the US and us") == "the U S and us"


def test_case_sensitive_entry_wins_over_a_loose_one() -> None:
    lex = Lexicon([("Reading", "Redding", True), ("reading", "reeding")])
    assert (
        lex.apply("Reading is in Berkshire; reading is fun")
        == "Redding is in Berkshire; reeding is fun"
    )


def test_phrases_match_across_any_whitespace_and_the_longest_wins() -> None:
    lex = Lexicon([("New York", "noo york"), ("New York City", "the big apple")])
    assert lex.apply("New  York City and New\nYork") == "the big apple and noo york"


def test_entries_with_punctuation_match_as_written() -> None:
    lex = Lexicon([("C++", "see plus plus"), ("Ph.D.", "P H D")])
    assert (
        lex.apply("She knew C++ and had a Ph.D. in it")
        == "She knew see plus plus and had a P H D in it"
    )


def test_replacement_is_one_pass() -> None:
    # A spoken form is never looked up again, so entries cannot chain or loop.
    lex = Lexicon([("a", "b"), ("b", "a")])
    assert lex.apply("a b") == "b a"


def test_an_empty_lexicon_changes_nothing() -> None:
    assert Lexicon().apply("Anything at all.") == "Anything at all."
    assert not Lexicon()


def test_entries_need_both_forms() -> None:
    with pytest.raises(ValueError):
        Lexicon([("  ", "x")])
    with pytest.raises(ValueError):
        Lexicon().add("word", " ")


def test_add_replaces_and_remove_deletes() -> None:
    lex = Lexicon([("Nguyen", "win")])
    lex.add("NGUYEN", "nwen")  # the same word, case-insensitively
    assert len(lex) == 1 and lex.apply("Nguyen") == "nwen"
    assert "nguyen" in lex
    assert lex.remove("Nguyen")
    assert not lex.remove("Nguyen")
    assert lex.apply("Nguyen") == "Nguyen"


def test_store_rows_build_a_lexicon() -> None:
    rows = [("Cthulhu", "kuh-THOO-loo", False), ("SQL", "sequel", True)]
    lex = Lexicon(rows)
    assert [(e.written, e.spoken, e.case_sensitive) for e in lex] == rows
    assert lex.entries[0] == LexiconEntry("Cthulhu", "kuh-THOO-loo", False)


# -- version ---------------------------------------------------------------------------------------


def test_version_depends_on_entries_not_their_order() -> None:
    a = Lexicon([("one", "1"), ("two", "2")])
    b = Lexicon([("two", "2"), ("one", "1")])
    assert a.version == b.version
    assert a == b
    assert Lexicon().version == Lexicon().version


def test_version_changes_exactly_when_entries_change() -> None:
    lex = Lexicon([("Ahab", "AY-hab")])
    seen = {lex.version}
    lex.add("Ahab", "AH-hab")  # spoken form changed
    seen.add(lex.version)
    lex.add("Ahab", "AH-hab", case_sensitive=True)  # a second, case-sensitive entry
    seen.add(lex.version)
    lex.add("Queequeg", "KWEE-kweg")
    seen.add(lex.version)
    assert len(seen) == 4
    before = lex.version
    lex.add("Queequeg", "KWEE-kweg")  # the same entry again: nothing changed
    assert lex.version == before
    lex.remove("Queequeg")
    lex.add("Queequeg", "KWEE-kweg")
    assert lex.version == before


def test_version_survives_a_save_and_load(tmp_path: Path) -> None:
    lex = Lexicon([("Moriarty", "mor-ee-AR-tee"), ("Watson", "WOT-son", True)])
    lex.save(tmp_path / "lexicon.json")
    assert Lexicon.load(tmp_path / "lexicon.json").version == lex.version


# -- files -----------------------------------------------------------------------------------------


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    lex = Lexicon([("Hermione", "her-MY-oh-nee"), ("US", "U S", True), ("Pépé", "pay-pay")])
    path = tmp_path / "project" / "lexicon.json"
    lex.save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == 1 and len(data["entries"]) == 3
    loaded = Lexicon.load(path)
    assert loaded.entries == lex.entries
    assert loaded.apply("the US, Pépé and Hermione") == "the U S, pay-pay and her-MY-oh-nee"
    assert [p.name for p in path.parent.iterdir()] == ["lexicon.json"]  # no temp files left


def test_a_failed_save_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "lexicon.json"
    Lexicon([("old", "OLD")]).save(path)
    before = path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        Lexicon([("new", "NEW")]).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["lexicon.json"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('["a", "b"]', "not a pronunciation lexicon"),
        ('{"entries": [{"written": "x"}]}', "entry 1 is invalid"),
        ('{"entries": [{"written": "", "spoken": "y"}]}', "entry 1 is invalid"),
        ('{"format": 99, "entries": []}', "newer version"),
    ],
)
def test_bad_files_are_reported_with_their_path(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "lexicon.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ManuscriptError) as caught:
        Lexicon.load(path)
    assert str(path) in caught.value.message
    assert problem in caught.value.message
    assert "\n" not in caught.value.message


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ManuscriptError, match="not found"):
        Lexicon.load(tmp_path / "nope.json")


# -- PLS -------------------------------------------------------------------------------------------


def test_pls_export_is_a_pls_document() -> None:
    lex = Lexicon([("Hermione", "her-MY-oh-nee"), ("AT&T", "A T and T", True), ("<x>", "ex")])
    xml = lex.to_pls("en-GB")
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(xml.encode("utf-8"))
    assert root.tag == f"{{{PLS_NAMESPACE}}}lexicon"
    assert root.get("version") == "1.0"
    assert root.get("alphabet") == "ipa"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-GB"
    lexemes = root.findall("pls:lexeme", NS)
    assert len(lexemes) == len(lex)
    by_alias = {
        lx.findtext("pls:alias", namespaces=NS): [g.text for g in lx.findall("pls:grapheme", NS)]
        for lx in lexemes
    }
    # Case-sensitive entries give one spelling; others the spellings a book is likely to use.
    assert by_alias["A T and T"] == ["AT&T"]
    assert by_alias["her-MY-oh-nee"] == ["Hermione", "hermione", "HERMIONE"]
    assert by_alias["ex"] == ["<x>", "<X>"]


def test_pls_export_of_an_empty_lexicon_is_valid_xml() -> None:
    root = ET.fromstring(Lexicon().to_pls().encode("utf-8"))
    assert root.findall("pls:lexeme", NS) == []
