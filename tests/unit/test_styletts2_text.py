"""Text to StyleTTS2 tokens: sentence segments, phonemes with punctuation, symbol ids."""

from __future__ import annotations

import pytest

pytest.importorskip("gruut", reason="StyleTTS2 text needs the styletts2 extra (gruut)")

from pipelines.engines.styletts2 import text


def test_symbol_table_matches_the_model_vocabulary() -> None:
    assert text.SYMBOLS["$"] == 0
    assert max(text.SYMBOLS.values()) == 177  # n_token 178 in every published config
    assert text.SYMBOLS["ˈ"] != text.SYMBOLS["ə"]


def test_segments_follow_sentences_and_keep_abbreviations() -> None:
    parts = text.segments('Mr. Smith arrived late. Was it raining? "Yes," he said.')
    assert parts == ["Mr. Smith arrived late.", "Was it raining?", '"Yes," he said.']


def test_a_long_sentence_is_cut_at_commas_within_the_limit() -> None:
    clause = "the lamps were lit along the street one after another"
    sentence = ", ".join([clause] * 12) + "."
    parts = text.segments(sentence, limit=120)
    assert len(parts) > 1
    assert all(len(p) <= 120 for p in parts)
    assert " ".join(parts).replace(" ", "") == sentence.replace(" ", "")


def test_phonemes_keep_punctuation_and_tokens_start_with_the_pad() -> None:
    phonemes = text.phonemize("Hello, world! Is it “late”?")
    assert "," in phonemes and "!" in phonemes and "?" in phonemes
    assert "ˈ" in phonemes  # stress marks: real IPA, not letters
    tokens = text.tokenize(phonemes)
    assert tokens[0] == 0
    assert all(0 < t <= 177 for t in tokens[1:])
    assert len(tokens) == 1 + sum(ch in text.SYMBOLS for ch in phonemes)
