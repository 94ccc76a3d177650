"""How long the studio's event loop stalls while it renders, regenerates and plays a chapter.

Opens the real main window offscreen on the Sherlock Holmes EPUB from the corpus, keeps the
opening paragraphs of the first story, and measures a QTimer ticking every 5 ms: each gap between
ticks beyond 5 ms is time the GUI thread could not answer. Three modes, each timed on its own
(by default all three, in this order, in one run; one line each):

- render: the Queue tab on show, the chapter rendered with the chosen voice.
- regenerate: the Text tab on show, one paragraph edited through its real path
  (`TextPanel.save_paragraph`, which saves it off the GUI thread and reloads the tab), then
  `TextPanel.regenerate()`, which queues the chapter through the RenderController; timed until
  the render has finished and the Text tab has reloaded with the new audio. The chunks the
  engine pool synthesized are counted from its log (`AUDIOBOOK_STUDIO_SYNTH_LOG`), to show only
  the changed paragraph is spoken again.
- playback: the Text tab on show, the chapter played through its PlayerBar for `--seconds`, so
  the position, slider, waveform cursor and sentence highlighting (`TextPanel.follow`) update;
  meanwhile two clicks on sentences in the spoken view and one on the waveform seek. The player
  is Qt's (QtMultimedia) where it loads and finds an audio output; otherwise (offscreen boxes,
  CI) a stand-in whose position advances with the wall clock, as a real player's would. The
  output says which.

A mode that needs the chapter rendered renders it first, untimed, when render is not run.
Prints, per mode, the gaps' median, 99th percentile and maximum and the mode's wall time, and
whether every mode's p99 stayed under the 50 ms goal.

PySide6 6.12.0 on CPython 3.11 drops a reference to None on every call of a Qt method that
returns nothing, so a long enough session aborts ("none_dealloc: deallocating None"); the
project excludes that release. The bench checks for the leak first and refuses to measure a
build that has it.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/gui_stall_bench.py
        [--mode {render,regenerate,playback}] [--voice piper:joe-us] [--paragraphs 12]
        [--rtf 0.0] [--seconds 10] [--trace-stalls MS]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
BOOK = CORPUS / "doyle_the-adventures-of-sherlock-holmes.epub"
TICK_MS = 5
MODES = ("render", "regenerate", "playback")
GOAL_MS = 50.0
ADDED = " Holmes said nothing for a while, and only watched the fire."


def prepare(home: Path, paragraphs: int, voice: str, rtf: float) -> Path:
    from pipelines.app.imports import import_manuscript
    from pipelines.cast import voices as cast_settings
    from pipelines.core.model import VoiceRef

    project = import_manuscript(BOOK, home / "sherlock")
    with project:
        titles = [c.title for c in project.chapters(with_blocks=False)]
        number = titles.index("A Scandal in Bohemia") + 1
        project.split_chapter(number, paragraphs + 1)
        for n, chapter in enumerate(project.chapters(with_blocks=False), start=1):
            if n != number and chapter.included:
                project.set_included(n, False)
        cast_settings.set_narrator(project, VoiceRef.parse(voice))
        cast_settings.set_voice_settings(project, {"rtf": rtf} if rtf else {})
        return project.root


class WallClockPlayer:
    """An `AudioPlayer` that plays nothing audible but whose position advances with the wall
    clock from play, seek and resume, and stops at the end of the file, as a real one's does."""

    def __init__(self) -> None:
        self._current: Path | None = None
        self._duration = 0.0
        self._base = 0.0  # position when the clock last (re)started
        self._since: float | None = None  # monotonic time it started, None when not playing
        self.seeks: list[float] = []

    def play(self, path: Path) -> None:
        import soundfile as sf

        self._current = path
        self._duration = float(sf.info(str(path)).duration)
        self._base, self._since = 0.0, time.monotonic()

    def stop(self) -> None:
        self._current, self._base, self._since = None, 0.0, None

    def pause(self) -> None:
        self._base, self._since = self.position, None

    def resume(self) -> None:
        if self._current is not None and self._since is None:
            self._since = time.monotonic()

    def seek(self, seconds: float) -> None:
        self.seeks.append(seconds)
        self._base = min(max(0.0, seconds), self._duration)
        if self._since is not None:
            self._since = time.monotonic()

    @property
    def position(self) -> float:
        if self._since is None:
            return self._base
        at = self._base + time.monotonic() - self._since
        if at >= self._duration:  # the end: a real player stops there
            self._base, self._since = self._duration, None
            return self._duration
        return at

    @property
    def playing(self) -> bool:
        return self._since is not None and self.position < self._duration

    @property
    def current(self) -> Path | None:
        return self._current

    @property
    def has_output(self) -> bool:
        return True


def choose_player() -> tuple[Any, str]:
    """Qt's player where it loads and has an output to play on; else the wall-clock one."""
    from studio.player import QtPlayer

    try:
        qt = QtPlayer()
    except ImportError as exc:
        why = f"QtMultimedia unavailable: {exc}"
    else:
        if qt.has_output:
            return qt, "Qt multimedia player (QMediaPlayer)"
        why = "QtMultimedia finds no audio output"
    return WallClockPlayer(), f"wall-clock player ({why})"


class Ticks:
    """Gaps between the ticks of a 5 ms QTimer, between start() and stop()."""

    def __init__(self) -> None:
        from PySide6.QtCore import QElapsedTimer, QTimer

        self.gaps: list[float] = []
        self.cpu: list[float] = []
        self._cpu = 0.0
        self.clock = QElapsedTimer()
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.started = 0.0
        self.wall = 0.0
        self.tracer: StallTracer | None = None

    def _tick(self) -> None:
        self.gaps.append(self.clock.nsecsElapsed() / 1e6)
        self.clock.restart()
        cpu = time.thread_time()
        self.cpu.append((cpu - self._cpu) * 1e3)  # the GUI thread's own CPU time in the gap
        self._cpu = cpu

    def start(self) -> None:
        self.gaps, self.cpu = [], []
        self._cpu = time.thread_time()
        self.clock.start()
        self.timer.start()
        self.started = time.monotonic()

    def stop(self) -> list[float]:
        self.timer.stop()
        self.wall = time.monotonic() - self.started
        if self.tracer is not None:
            self.tracer.account(self.gaps[1:], self.cpu[1:])
        return self.gaps[1:]


class StallTracer:
    """Where the GUI thread was when a gap passed `ms`: a sampling thread looks at its stack
    while the ticks are late (a heuristic: the sample waits for the GIL like everything else)."""

    def __init__(self, ticks: Ticks, ms: float) -> None:
        import threading

        self.ticks, self.ms = ticks, ms
        self.main = threading.main_thread().ident
        self.seen: dict[str, list[float]] = {}
        self.long = 0  # gaps over `ms`
        self.busy = 0.0  # of their time, what the GUI thread spent on the CPU
        self.total = 0.0
        ticks.tracer = self
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        import traceback

        caught = -1
        while not self._stop.wait(0.002):
            n = len(self.ticks.gaps)
            if not self.ticks.timer.isActive() or n == caught:
                continue
            late = self.ticks.clock.nsecsElapsed() / 1e6
            if late < self.ms:
                continue
            frame = sys._current_frames().get(self.main or 0)
            if frame is None:
                continue
            stack = traceback.extract_stack(frame)
            mine = [f for f in stack if "/site-packages/" not in f.filename] or stack
            where = " < ".join(
                f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(mine[-3:])
            )
            self.seen.setdefault(where, []).append(late)
            caught = n

    def account(self, gaps: list[float], cpu: list[float]) -> None:
        for gap, used in zip(gaps, cpu, strict=False):
            if gap >= self.ms:
                self.long += 1
                self.total += gap
                self.busy += min(used, gap)

    def report(self) -> None:
        self._stop.set()
        share = self.busy / self.total if self.total else 0.0
        print(
            f"{self.long} gaps over {self.ms:.0f} ms; the GUI thread was on the CPU for "
            f"{share:.0%} of them (the rest it waited: for the GIL or for a core)"
        )
        print("where it was (sampled once per gap):")
        for where, lates in sorted(self.seen.items(), key=lambda kv: -len(kv[1]))[:8]:
            print(f"  {len(lates):3d}x  {where}")


def none_leak() -> float:
    """References to None one void PySide6 call drops (0 where shiboken counts right)."""
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(100):
        probe.setObjectName("probe")
    return (before - sys.getrefcount(None)) / 100


def synthesized(log: Path) -> int:
    """Chunks the engine pool has synthesized so far (one log line each)."""
    return len(log.read_text().splitlines()) if log.exists() else 0


async def until(what: Callable[[], bool], timeout: float, why: str) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {why}")
        await asyncio.sleep(0.02)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=MODES, help="one mode only (default: all three)")
    parser.add_argument("--voice", default="piper:joe-us")
    parser.add_argument("--paragraphs", type=int, default=12)
    parser.add_argument("--rtf", type=float, default=0.0, help="silence engine's slowness")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to play")
    parser.add_argument(
        "--trace-stalls",
        type=float,
        metavar="MS",
        help="sample where the GUI thread is while a gap passes MS, and print the places",
    )
    args = parser.parse_args()
    modes = [args.mode] if args.mode else list(MODES)

    home = Path(tempfile.mkdtemp(prefix="stall-bench-"))
    os.environ["AUDIOBOOK_STUDIO_HOME"] = str(home)
    from pipelines.engines.pool import SYNTH_LOG_ENV

    synth_log = home / "synthesized.log"
    os.environ[SYNTH_LOG_ENV] = str(synth_log)  # before any engine worker starts
    root = prepare(home, args.paragraphs, args.voice, args.rtf)

    import numpy as np
    import qasync
    from PySide6.QtCore import QPoint, QSettings, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from pipelines.core.model import BlockKind
    from studio import theme
    from studio.main_window import MainWindow
    from studio.prefs import Prefs

    app = QApplication([])
    leak = none_leak() if sys.version_info < (3, 12) else 0.0
    if leak > 0:
        import PySide6

        print(
            f"PySide6 {PySide6.__version__} on Python {sys.version.split()[0]} drops {leak:.0f}"
            " reference to None per void call and would abort mid-run: install the locked"
            " version (make venv)",
            file=sys.stderr,
        )
        return 2
    theme.apply(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    prefs = Prefs(QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat))
    player, player_name = choose_player()
    window = MainWindow(prefs, player)
    window.resize(1280, 800)
    window.show()
    ticks = Ticks()
    tracer = StallTracer(ticks, args.trace_stalls) if args.trace_stalls else None

    results: list[tuple[str, list[float], float, str, bool]] = []
    chunks_in_chapter = 0

    async def render(timed: bool) -> None:
        nonlocal chunks_in_chapter
        view = window.project_view
        assert view is not None
        view.tabs.setCurrentWidget(view.queue)
        await view.render_control.enqueue(view.chosen_chapters("all"))
        before = synthesized(synth_log)
        ticks.start()
        view.render_control.start()
        while view.render_control.running:
            await asyncio.sleep(0.05)
        gaps = ticks.stop()
        done = [r.state for r in view.queue.model.rows].count("done")
        chunks_in_chapter = synthesized(synth_log) - before
        if timed:
            note = f"{done} chapter(s) rendered, {chunks_in_chapter} chunks synthesized"
            results.append(("render", gaps, ticks.wall, note, done > 0))

    async def text_tab() -> Any:
        """The Text tab on show, on the bench's chapter, its audio loaded."""
        view = window.project_view
        assert view is not None
        view.tabs.setCurrentWidget(view.book)
        view.book.tabs.setCurrentWidget(view.book.text)
        panel = view.book.text
        cid = view.chosen_chapters("all")[0]
        numbers = [n for n, r in enumerate(view.book.chapters.model.rows, 1) if r.id == cid]
        view.book.chapters.select_numbers(numbers)
        if panel.chapter_id != cid:
            panel.show_chapter(cid)
        await until(
            lambda: panel.chapter_id == cid and panel.text.render is not None,
            30,
            "the Text tab to load the chapter",
        )
        if panel.text.stale or not panel.sentence_ranges:
            panel.reload()
            await until(lambda: bool(panel.sentence_ranges), 30, "the chapter's sentences")
        await until(lambda: bool(panel.player.waveform.peaks), 30, "the waveform")
        return panel

    async def regenerate() -> None:
        view = window.project_view
        assert view is not None
        panel = await text_tab()
        cid = panel.chapter_id
        paragraphs = [
            i for i, (b, _) in enumerate(panel.text.pairs) if b.kind is BlockKind.PARAGRAPH
        ]
        index = paragraphs[len(paragraphs) // 2]  # a paragraph in the middle of the chapter
        block_id = panel.text.block_ids[index]
        text = panel.text.pairs[index][0].text + ADDED
        old = panel.text.render
        assert old is not None
        before = synthesized(synth_log)
        ticks.start()
        panel.save_paragraph(cid, block_id, text)
        await until(lambda: panel.is_stale(index + 1), 30, "the edit to show in the Text tab")
        task = panel.regenerate()
        assert task is not None
        await task
        await until(lambda: not view.render_control.running, 600, "the render")
        await until(
            lambda: (
                not panel.text.stale
                and panel.text.render is not None
                and (panel.text.render.job_id, panel.text.render.rendered_at)
                != (old.job_id, old.rendered_at)
            ),
            30,
            "the Text tab to reload with the new audio",
        )
        gaps = ticks.stop()
        spoken = synthesized(synth_log) - before
        total = f" of {chunks_in_chapter}" if chunks_in_chapter else ""
        note = f"paragraph {index + 1} edited: {spoken}{total} chunks synthesized again"
        ok = 0 < spoken < (chunks_in_chapter or spoken + 1)
        results.append(("regenerate", gaps, ticks.wall, note, ok))

    async def playback() -> None:
        panel = await text_tab()
        bar = panel.player
        spoken = panel.spoken
        lit: set[int] = set()
        direct: list[int] = []  # sentences clicked through click_at, not a mouse event
        bar.position_changed.connect(
            lambda _s: lit.add(-1 if panel.reading is None else panel.reading)
        )
        far = max(panel.player.duration, 1.0)

        def click_sentence(k: int) -> None:
            k = min(k, len(panel.sentence_ranges) - 1)
            cursor = spoken.textCursor()  # scroll the sentence into sight, as a reader would
            cursor.setPosition(panel.sentence_ranges[k][0])
            spoken.setTextCursor(cursor)
            spoken.ensureCursorVisible()
            point = panel.sentence_rect(k)
            if spoken.viewport().rect().contains(point):  # a real click, through the filter
                QTest.mouseClick(spoken.viewport(), Qt.MouseButton.LeftButton, pos=point)
            else:  # scrolled out of sight: what the click would call
                panel.click_at(point)
                direct.append(k)

        def click_waveform(fraction: float) -> None:
            wave = bar.waveform
            point = QPoint(round(wave.width() * fraction), wave.height() // 2)
            QTest.mouseClick(wave, Qt.MouseButton.LeftButton, pos=point)

        n = len(panel.sentence_ranges)
        actions = [
            (0.25, lambda: click_sentence(n // 3)),
            (0.5, lambda: click_waveform(min(0.5, 20 / far))),
            (0.75, lambda: click_sentence(2)),
        ]
        seeks = 0
        ticks.start()
        bar.play_button.click()
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < args.seconds:
            while actions and elapsed >= actions[0][0] * args.seconds:
                actions.pop(0)[1]()
                seeks += 1
            await asyncio.sleep(0.05)
        position = player.position
        playing = player.playing
        bar.stop()
        gaps = ticks.stop()
        lit.discard(-1)
        note = (
            f"{player_name}: {args.seconds:.0f} s of a {bar.duration:.0f} s chapter, "
            f"{seeks} clicks ({len(direct)} through click_at), {len(lit)} sentences lit, "
            f"ended at {position:.1f} s"
        )
        results.append(("playback", gaps, ticks.wall, note, playing and position > 0))

    async def run() -> None:
        await window._open(root)
        await render(timed="render" in modes)  # the other modes need the chapter rendered
        if "regenerate" in modes:
            await regenerate()
        if "playback" in modes:
            await playback()
        await window.shutdown()

    executor = qasync.QThreadExecutor(4)
    loop.set_default_executor(executor)
    with loop:
        loop.run_until_complete(run())
    window.close()
    window.deleteLater()
    app.processEvents()
    shutil.rmtree(home, ignore_errors=True)

    print(f"voice {args.voice}, {args.paragraphs} paragraphs, ticks every {TICK_MS} ms")
    ok = True
    for mode, gaps, wall, note, passed in results:
        g = np.array(gaps) if gaps else np.zeros(1)
        p99 = np.percentile(g, 99)
        print(
            f"{mode:<10} gap p50 {np.percentile(g, 50):5.1f} ms, p99 {p99:5.1f} ms, "
            f"max {g.max():6.1f} ms, wall {wall:5.1f} s, {len(gaps)} ticks; {note}"
            f"{'' if passed else ' [FAILED]'}"
        )
        ok = ok and passed
    if tracer is not None:
        tracer.report()
    worst = max((np.percentile(g, 99) for _, g, *_ in results if g), default=0.0)
    print(f"goal p99 under {GOAL_MS:.0f} ms: {'met' if worst < GOAL_MS else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
