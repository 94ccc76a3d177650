"""English text -> Kokoro phonemes: misaki's lexicon first, espeak-ng for the rest."""

from __future__ import annotations

import pytest

from pipelines.engines.kokoro import espeak
from pipelines.engines.kokoro.g2p import EnglishG2P, split_phonemes
from pipelines.engines.kokoro.lexicon import Lexicon
from pipelines.engines.kokoro.vocab import MAX_TOKENS, VOCAB, encode


@pytest.fixture(scope="module")
def us() -> EnglishG2P:
    return EnglishG2P("us")


@pytest.fixture(scope="module")
def gb() -> EnglishG2P:
    return EnglishG2P("gb")


def test_dictionary_words_and_their_inflections(us: EnglishG2P) -> None:
    lex = us.lexicon
    assert lex.lookup("harbour") == "hˈɑɹbəɹ"
    assert lex.lookup("Harbour") == "hˈɑɹbəɹ"
    assert lex.lookup("ledgers") == lex.lookup("ledger") + "z"  # type: ignore[operator]
    assert lex.lookup("fog's") == lex.lookup("fog") + "z"  # type: ignore[operator]
    assert lex.lookup("wrapped", None)
    assert Lexicon("us").lookup("zzzqx") is None


def test_every_symbol_is_in_the_models_vocabulary(us: EnglishG2P, gb: EnglishG2P) -> None:
    text = (
        'Missus O\'Hara paid fifty-five dollars at ten thirty p.m. — "Really?" she said... '
        "The BBC, NASA and Quaylebury's ferries; isn't it?"
    )
    for g2p in (us, gb):
        phonemes = g2p.phonemize(text)
        assert phonemes and all(p in VOCAB for p in phonemes), phonemes
        assert len(encode(phonemes)) == len(phonemes)


def test_words_the_lexicon_lacks_are_spelled_by_espeak(us: EnglishG2P) -> None:
    assert us.lexicon.lookup("Brindlewick") is None
    said = us.phonemize("Brindlewick")
    assert said == espeak.phonemize_word("Brindlewick", "us").replace("ɾ", "T")
    assert said.startswith("bɹ") and "ɪk" in said


def test_function_words_follow_the_next_sound(us: EnglishG2P) -> None:
    assert us.phonemize("the apple").startswith("ði ")
    assert us.phonemize("the pear").startswith("ðə ")
    assert us.phonemize("I went to eat").split()[2] == "tʊ"
    assert us.phonemize("I went to sleep").split()[2] == "tə"
    assert us.phonemize("a cat").startswith("ɐ ")


def test_a_heteronym_reads_as_a_verb_after_to(us: EnglishG2P) -> None:
    assert "lˈɪv" in us.phonemize("They wanted to live.")
    assert "lˈIv" in us.phonemize("The live show.")


def test_american_flaps_are_written_as_kokoro_learned_them(us: EnglishG2P, gb: EnglishG2P) -> None:
    assert "T" in us.phonemize("water") and "ɾ" not in us.phonemize("water")
    assert gb.phonemize("water") == "wˈɔːtə"
    assert "Q" in gb.phonemize("go home") and "O" in us.phonemize("go home")


def test_punctuation_and_quotes_are_kept(us: EnglishG2P) -> None:
    out = us.phonemize('"Where is she?" asked Martha, pulling her coat tight...')
    assert out.startswith("“") and "?”" in out and out.endswith("…") and "," in out


def test_requests_fit_the_model_and_split_at_sentences_then_clauses() -> None:
    sentence = "ðə fˈɛɹi lˈɛft, ənd ðə kˈi wəz ɛmpti."
    assert split_phonemes(f"{sentence} {sentence}") == [sentence, sentence]
    long = ", ".join(["ðə fˈɛɹi lˈɛft ðə hˈɑɹbəɹ"] * 40) + "."
    parts = split_phonemes(long)
    assert len(parts) > 1 and all(len(p) <= MAX_TOKENS for p in parts)
    assert all(p.endswith((",", ".")) for p in parts)
    assert "".join(p.replace(" ", "") for p in parts) == long.replace(" ", "")
    word = "a" * 1200
    assert [len(p) for p in split_phonemes(word)] == [510, 510, 180]
