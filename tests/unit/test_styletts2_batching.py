"""Batched inference on the tiny random-weight model: padding must not change a sentence."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="needs the styletts2 extra")
pytest.importorskip("styletts2", reason="needs the styletts2 extra")

from pipelines.engines.styletts2 import files, loader, text  # noqa: E402
from pipelines.engines.styletts2.inference import (  # noqa: E402
    SentenceJob,
    StyleSettings,
    synthesize_batch,
)
from tests.styletts2_tiny import tiny_model_for_tests  # noqa: E402

SENTENCES = [
    "The ferry left the harbour an hour before dawn.",
    "Nobody on the quay had expected the fog to lift so quickly.",
    "By noon.",
]


@pytest.fixture(scope="module")
def model() -> Any:
    return loader.load(files.ModelFiles(tiny_model_for_tests()), "cpu")


@pytest.fixture(scope="module")
def ref(model: Any) -> Any:
    gen = torch.Generator().manual_seed(5)
    return torch.randn((1, model.style_dim * 2), generator=gen) * 0.3


def _jobs(sentences: list[str], seed: int = 11) -> list[SentenceJob]:
    return [
        SentenceJob(text.tokenize(text.phonemize(s)), seed + i) for i, s in enumerate(sentences)
    ]


def test_batched_output_matches_each_sentence_alone(model: Any, ref: Any) -> None:
    settings = StyleSettings(carry=0.0)
    jobs = _jobs(SENTENCES)
    batched, _ = synthesize_batch(model, jobs, ref, settings)
    assert len({len(j.tokens) for j in jobs}) == 3  # really padded
    for job, together in zip(jobs, batched, strict=True):
        (alone,), _ = synthesize_batch(model, [job], ref, settings)
        assert len(alone) == len(together)
        assert float(np.max(np.abs(alone - together))) < 1e-3
        assert float(np.std(alone)) > 1e-3  # not silence


def test_style_carry_is_the_same_batched_or_sentence_by_sentence(model: Any, ref: Any) -> None:
    settings = StyleSettings(carry=0.7)
    jobs = _jobs(SENTENCES)
    batched, last = synthesize_batch(model, jobs, ref, settings)
    previous = None
    for job, together in zip(jobs, batched, strict=True):
        (alone,), previous = synthesize_batch(model, [job], ref, settings, previous)
        assert float(np.max(np.abs(alone - together))) < 1e-3
    assert previous is not None and last is not None
    assert torch.allclose(previous, last, atol=1e-5)


def test_carry_changes_later_sentences_only(model: Any, ref: Any) -> None:
    jobs = _jobs(SENTENCES[:2])
    free, _ = synthesize_batch(model, jobs, ref, StyleSettings(carry=0.0))
    carried, _ = synthesize_batch(model, jobs, ref, StyleSettings(carry=0.7))
    assert np.array_equal(free[0], carried[0])
    assert len(free[1]) != len(carried[1]) or not np.allclose(free[1], carried[1], atol=1e-4)


def test_seeds_make_a_sentence_reproducible_and_distinct(model: Any, ref: Any) -> None:
    settings = StyleSettings(carry=0.0)
    (a,), _ = synthesize_batch(model, _jobs(SENTENCES[:1], seed=3), ref, settings)
    (b,), _ = synthesize_batch(model, _jobs(SENTENCES[:1], seed=3), ref, settings)
    (c,), _ = synthesize_batch(model, _jobs(SENTENCES[:1], seed=4), ref, settings)
    assert np.array_equal(a, b)
    assert len(a) != len(c) or not np.allclose(a, c, atol=1e-4)


def test_speed_shortens_speech(model: Any, ref: Any) -> None:
    jobs = _jobs(SENTENCES[1:2])
    (normal,), _ = synthesize_batch(model, jobs, ref, StyleSettings(speed=1.0))
    (fast,), _ = synthesize_batch(model, jobs, ref, StyleSettings(speed=1.5))
    assert 0.5 < len(fast) / len(normal) < 0.85
