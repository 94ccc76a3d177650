"""How many chapters finish side by side follows the measured speed of synthesis and finishing."""

from __future__ import annotations

from pipelines.render.pace import Pace


def feed(pace: Pace, every_s: float, finish_s: float, chapters: int = 6) -> None:
    for n in range(chapters):
        pace.ready(n * every_s)
        pace.finished(finish_s)


def test_one_finisher_until_both_stages_are_measured() -> None:
    pace = Pace(4)
    assert pace.finishers == 1
    pace.ready(0.0)
    pace.finished(5.0)
    assert pace.finishers == 1


def test_a_slow_voice_keeps_one_finisher_and_the_cores_for_itself() -> None:
    pace = Pace(2)
    feed(pace, every_s=20.0, finish_s=4.0)  # Piper: a chapter every 20 s, mastered in 4 s
    assert pace.finishers == 1


def test_a_fast_voice_gets_as_many_finishers_as_keep_up_within_the_cores() -> None:
    pace = Pace(8)
    feed(pace, every_s=2.0, finish_s=5.0)
    assert pace.finishers == 3
    fast = Pace(2)
    feed(fast, every_s=0.1, finish_s=5.0)  # the silence engine: limited by the cores
    assert fast.finishers == 2


def test_it_follows_a_change_of_voice() -> None:
    pace = Pace(4)
    feed(pace, every_s=0.5, finish_s=2.0)
    assert pace.finishers == 4
    for n in range(6):
        pace.ready(100.0 + n * 30.0)
        pace.finished(2.0)
    assert pace.finishers == 1
