"""Drive the real studio window through the whole job under Xvfb, with real X input, taking a
screenshot at each step.

    .venv/bin/python scripts/walkthrough.py [--sizes 800x600,1920x1080] [--out DIR]

For each screen size: a fresh Xvfb display, a throwaway settings folder and data folder, then the
studio itself (main.py) with AUDIOBOOK_STUDIO_PROBE set, so it writes what is on screen to a JSON
file (studio/probe.py). The script reads that file only to find where widgets are and to wait
for what they show; every action is an X event from xdotool (mouse moves, clicks, wheel, keys),
as a person would make. Steps: start page, import the bundled sample through "Open manuscript…"
and its file dialog, the chapters, a chapter's Text tab, render it with Piper, edit a paragraph,
see it marked, regenerate it, listen, switch the narrator to another engine and back, export the
M4B. A step that does not reach its state in time fails the run, naming the step.

Needs Xvfb, xdotool and ImageMagick's `import` on the PATH.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "resources" / "samples" / "the-lamplighter-of-harrow-street.md"
CHAPTER = "Chapter 1. The Last Lamp"
PARAGRAPH_START = "Every evening"
NEW_TEXT = (
    "Every evening at half past six, Tobias Wren climbed the iron ladder and lit the last gas"
    " lamp in the city, as he had done for forty-two years."
)
MAIN_TITLE = "Audiobook Studio"
DEFAULT_SIZES = "800x600,1920x1080"
DEFAULT_OUT = ROOT / "docs" / "screenshots" / "walkthrough"
RENDER_TIMEOUT = 300.0  # Piper renders a chapter of the sample in seconds; a slow CPU gets room
POLL = 0.2

Widget = dict[str, Any]
Snapshot = dict[str, Any]


class StepFailed(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    @classmethod
    def of(cls, widget: Widget, key: str = "visible") -> Box:
        r = widget.get(key) or widget["rect"]
        return cls(int(r[0]), int(r[1]), int(r[2]), int(r[3]))

    @property
    def centre(self) -> tuple[int, int]:
        return self.x + self.w // 2, self.y + self.h // 2

    @property
    def area(self) -> int:
        return max(0, self.w) * max(0, self.h)


def visible_fraction(widget: Widget) -> float:
    full = Box.of(widget, "rect").area
    return Box.of(widget).area / full if full else 0.0


def run(cmd: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, timeout=30)
    if done.returncode != 0:
        raise StepFailed(f"{' '.join(cmd)} failed: {done.stderr.strip()}")
    return done.stdout


class Walkthrough:
    """One screen size: the display, the studio, and the steps."""

    def __init__(self, size: str, out: Path, work: Path, display: int) -> None:
        self.size = size
        self.width, self.height = (int(v) for v in size.split("x"))
        self.out = out
        self.work = work
        self.display = f":{display}"
        self.probe_file = work / "probe.json"
        self.env = dict(os.environ, DISPLAY=self.display)
        self.env.pop("WAYLAND_DISPLAY", None)
        self.xvfb: subprocess.Popen[bytes] | None = None
        self.app: subprocess.Popen[bytes] | None = None
        self.shots: list[Path] = []
        self.step = "setup"
        self.count = 0
        self.export_dir = work / "export"

    # -- processes -------------------------------------------------------------------------------

    def start_display(self) -> None:
        log = (self.work / "xvfb.log").open("wb")
        self.xvfb = subprocess.Popen(
            ["Xvfb", self.display, "-screen", "0", f"{self.size}x24", "-nolisten", "tcp"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.until("the X display to answer", self._display_up, 20)

    def _display_up(self) -> bool:
        if self.xvfb is not None and self.xvfb.poll() is not None:
            raise StepFailed(f"Xvfb exited (see {self.work / 'xvfb.log'})")
        done = subprocess.run(
            ["xdotool", "getdisplaygeometry"], env=self.env, capture_output=True, check=False
        )
        return done.returncode == 0

    def start_studio(self) -> None:
        config = self.work / "config"
        conf = config / "AudiobookStudio" / "Audiobook Studio.conf"
        conf.parent.mkdir(parents=True)
        # The first start's System check would open a dialog over the start page.
        conf.write_text("[start]\nfirst_run_checked=true\n", encoding="utf-8")
        env = dict(
            self.env,
            QT_QPA_PLATFORM="xcb",
            XDG_CONFIG_HOME=str(config),
            AUDIOBOOK_STUDIO_HOME=str(self.work / "home"),
            AUDIOBOOK_STUDIO_PROBE=str(self.probe_file),
        )
        log = (self.work / "studio.log").open("wb")
        self.app = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.app is not None and self.app.poll() is None:
            self.app.terminate()
            try:
                self.app.wait(20)
            except subprocess.TimeoutExpired:
                self.app.kill()
        if self.xvfb is not None and self.xvfb.poll() is None:
            self.xvfb.terminate()
            self.xvfb.wait(10)

    # -- reading the probe -----------------------------------------------------------------------

    def snapshot(self) -> Snapshot | None:
        if self.app is not None and self.app.poll() is not None:
            raise StepFailed(
                f"the studio exited with {self.app.returncode} (see {self.work / 'studio.log'})"
            )
        try:
            data: Snapshot = json.loads(self.probe_file.read_text(encoding="utf-8"))
            return data
        except (OSError, ValueError):
            return None

    def until(self, what: str, check: Callable[[], Any], timeout: float = 20.0) -> Any:
        """Poll `check` until it returns something truthy; fail the step after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise StepFailed(
                    f"step {self.step!r}: timed out after {timeout:.0f}s waiting for {what}"
                )
            time.sleep(POLL)

    def wait_for(self, what: str, pick: Callable[[Snapshot], Any], timeout: float = 20.0) -> Any:
        """Wait until `pick(snapshot)` finds something in a probe written after this call."""
        since = time.time()

        def check() -> Any:
            snap = self.snapshot()
            if snap is None or snap.get("time", 0) < since:
                return None
            return pick(snap)

        return self.until(what, check, timeout)

    # -- acting ----------------------------------------------------------------------------------

    def xdo(self, *args: str) -> str:
        return run(["xdotool", *args], self.env)

    def click(self, widget: Widget, double: bool = False, button: int = 1) -> None:
        if Box.of(widget).area == 0:
            what = widget.get("text") or widget.get("class")
            raise StepFailed(f"step {self.step!r}: {what!r} is off screen, nowhere to click")
        x, y = Box.of(widget).centre
        self.click_at(x, y, double, button)

    def click_at(self, x: int, y: int, double: bool = False, button: int = 1) -> None:
        self.xdo("mousemove", "--sync", str(x), str(y))
        time.sleep(0.1)  # Qt sees the hover before the press, as with a hand on the mouse
        if double:
            self.xdo("click", "--repeat", "2", "--delay", "80", str(button))
        else:
            self.xdo("click", str(button))

    def keys(self, *combo: str) -> None:
        self.xdo("key", "--delay", "60", *combo)

    def main_keys(self, *combo: str) -> None:
        """Keys for the main window's shortcuts. With no window manager under Xvfb nothing gives
        the main window back the keyboard when a dialog closes: do what a window manager would
        (set the X input focus on it) before pressing them."""
        snap = self.wait_for("a probe", lambda s: s)
        if not (snap.get("active_window") or "").endswith(MAIN_TITLE):
            wid = self.until("the main window", lambda: self._window_id(MAIN_TITLE))
            self.xdo("windowfocus", "--sync", wid)
            self.wait_for(
                "the main window to be active again",
                lambda s: (s.get("active_window") or "").endswith(MAIN_TITLE),
            )
        self.keys(*combo)

    def type_text(self, text: str) -> None:
        self.xdo("type", "--delay", "15", text)

    def shot(self, name: str) -> Path:
        self.count += 1
        path = self.out / f"{self.size}-{self.count:02d}-{name}.png"
        time.sleep(0.4)  # one more paint after the state the step waited for
        run(["import", "-display", self.display, "-window", "root", str(path)], self.env)
        self.shots.append(path)
        print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        return path

    def bring_into_view(self, find: Callable[[Snapshot], Widget | None], what: str) -> Widget:
        """The widget `find` names, scrolled (with the wheel over the page's scroll bars) until
        most of it shows: at small sizes the page is larger than the window."""
        for _ in range(60):
            snap = self.wait_for(what, lambda s: s)
            widget = find(snap)
            if widget is None:
                time.sleep(POLL)
                continue
            if visible_fraction(widget) >= 0.6:
                return widget
            full, seen = Box.of(widget, "rect"), self.page_area(snap)
            bars = page_scrollbars(snap)
            if seen is None or not bars:
                return widget
            if full.y + full.h > seen.y + seen.h and "v" in bars:
                self.wheel(bars["v"], 5)
            elif full.y < seen.y and "v" in bars:
                self.wheel(bars["v"], 4)
            elif full.x + full.w > seen.x + seen.w and "h" in bars:
                self.wheel(bars["h"], 5)
            elif full.x < seen.x and "h" in bars:
                self.wheel(bars["h"], 4)
            else:
                return widget
        raise StepFailed(f"step {self.step!r}: could not scroll {what} into view")

    def page_area(self, snap: Snapshot) -> Box | None:
        for w in snap["widgets"]:
            if w.get("qt_class") == "QScrollArea" and w["window"].endswith(MAIN_TITLE):
                return Box.of(w)
        return None

    def wheel(self, bar: Widget, button: int) -> None:
        x, y = Box.of(bar).centre
        self.xdo("mousemove", "--sync", str(x), str(y))
        self.xdo("click", str(button))
        time.sleep(0.35)  # the next probe shows where the page went

    # -- the steps -------------------------------------------------------------------------------

    def run_all(self) -> None:
        steps: list[tuple[str, Callable[[], None]]] = [
            ("start page", self.step_start),
            ("import a manuscript", self.step_import),
            ("chapters shown", self.step_chapters),
            ("open the Text tab of a chapter", self.step_text),
            ("render the chapter with Piper", self.step_render),
            ("edit a paragraph", self.step_edit),
            ("paragraph marked to regenerate", self.step_marked),
            ("regenerate it", self.step_regenerate),
            ("listen", self.step_listen),
            ("switch voices in the Cast tab", self.step_cast),
            ("export the M4B", self.step_export),
            ("quit", self.step_quit),
        ]
        for name, step in steps:
            self.step = name
            print(f"[{self.size}] {name}")
            step()

    def step_start(self) -> None:
        self.start_display()
        self.start_studio()
        self.wait_for(
            "the start page's “Open manuscript…” button",
            lambda s: button(s, "Open manuscript…", cls="QPushButton"),
            60,
        )
        # No window manager under Xvfb: give the window the whole screen ourselves.
        wid = self.until(
            "the main window on the X display",
            lambda: self._window_id(MAIN_TITLE),
            20,
        )
        self.xdo("windowmove", wid, "0", "0")
        self.xdo("windowsize", wid, str(self.width), str(self.height))
        self.wait_for(
            f"the main window to fill the {self.size} screen",
            lambda s: any(
                w["rect"] == [0, 0, self.width, self.height]
                for w in s["windows"]
                if w["title"].endswith(MAIN_TITLE)
            ),
        )
        self.shot("start")

    def _window_id(self, name: str) -> str:
        done = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", name],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        ids = done.stdout.split()
        return ids[0] if ids else ""

    def step_import(self) -> None:
        snap = self.wait_for("a probe", lambda s: s)
        self.click(need(button(snap, "Open manuscript…", cls="QPushButton"), "Open manuscript…"))
        self.wait_for(
            "the “Open manuscript” file dialog with its file name field focused",
            lambda s: (
                s["active_window"] == "Open manuscript"
                and (s.get("focus") or {}).get("class") == "QLineEdit"
            ),
        )
        self.type_text(str(SAMPLE))
        self.wait_for(
            "the path typed into the file dialog",
            lambda s: (s.get("focus") or {}).get("text") == str(SAMPLE),
        )
        self.shot("open-manuscript-dialog")
        self.keys("Return")

    def step_chapters(self) -> None:
        self.wait_for(
            f"the imported book's chapters (a row “{CHAPTER}”)",
            lambda s: (
                row(s, CHAPTER) is not None
                and any(w["title"].startswith("The Lamplighter") for w in s["windows"])
            ),
            60,
        )
        self.wait_for("the studio to be idle", lambda s: label(s, "Idle"), 30)
        self.shot("chapters")

    def step_text(self) -> None:
        snap = self.wait_for("a probe", lambda s: s)
        self.click(need(row(snap, CHAPTER), f"the chapter row {CHAPTER}"))
        text_tab = self.bring_into_view(lambda s: tab(s, "Text"), "the Text tab")
        self.click(text_tab)
        self.wait_for(
            f"the Text tab showing “{CHAPTER}” and its first paragraph",
            lambda s: label(s, CHAPTER) and written_paragraph(s, PARAGRAPH_START),
        )
        self.shot("text-tab")

    def step_render(self) -> None:
        self.ensure_piper()
        # Ctrl+R: "Regenerate this paragraph", which queues the chapter and starts rendering.
        self.click(need(written_view(self.wait_for("a probe", lambda s: s)), "As written"))
        self.main_keys("ctrl+r")
        self.wait_for(
            "the render to start (status “Rendering …”) or finish",
            lambda s: label_starting(s, "Rendering") or player_ready(s),
            60,
        )
        self.shot("rendering")
        self.wait_for(
            "the chapter's audio in the player (Play enabled) and the studio idle",
            lambda s: player_ready(s) and label(s, "Idle"),
            RENDER_TIMEOUT,
        )
        self.shot("rendered")

    def ensure_piper(self) -> None:
        """Renders use Piper's joe-us: a new book's default; chosen in the Cast tab if not."""
        self.click(self.bring_into_view(lambda s: tab(s, "Cast"), "the Cast tab"))
        combo = self.wait_for("the Cast tab's narrator chooser", narrator_combo, 30)
        if "(piper)" not in combo["text"]:
            self.choose_narrator("(piper)")
        self.click(self.bring_into_view(lambda s: tab(s, "Book"), "the Book tab"))
        self.wait_for("the Book tab again", lambda s: written_view(s))

    def step_edit(self) -> None:
        para = self.bring_into_view(
            lambda s: written_paragraph(s, PARAGRAPH_START), "the paragraph in “As written”"
        )
        self.click(para, double=True)
        self.wait_for(
            "the “Edit paragraph …” dialog",
            lambda s: (
                (s["active_window"] or "").startswith("Edit paragraph")
                and (s.get("focus") or {}).get("class") == "QPlainTextEdit"
            ),
        )
        self.keys("ctrl+a")
        self.type_text(NEW_TEXT)
        self.wait_for(
            "the new text in the editor",
            lambda s: any(
                w.get("qt_class") == "QPlainTextEdit" and w["text"] == NEW_TEXT
                for w in s["widgets"]
            ),
        )
        self.shot("edit-paragraph")
        self.keys("ctrl+Return")

    def step_marked(self) -> None:
        self.wait_for(
            "“1 paragraph to regenerate” and the new text in “As written”",
            lambda s: (
                label(s, "1 paragraph to regenerate")
                and written_paragraph(s, NEW_TEXT[:40])
                and not any(w["title"].startswith("Edit paragraph") for w in s["windows"])
            ),
        )
        self.shot("marked-to-regenerate")

    def step_regenerate(self) -> None:
        self.main_keys("ctrl+r")
        self.wait_for(
            "the render to start or the mark to clear",
            lambda s: label_starting(s, "Rendering") or not label(s, "1 paragraph to regenerate"),
            60,
        )
        self.wait_for(
            "the mark to clear, the new audio in the player and the studio idle",
            lambda s: (
                not label(s, "1 paragraph to regenerate") and player_ready(s) and label(s, "Idle")
            ),
            RENDER_TIMEOUT,
        )
        self.shot("regenerated")

    def step_listen(self) -> None:
        play = self.bring_into_view(
            lambda s: button(s, "Play", cls="QPushButton", enabled=True), "the Play button"
        )
        self.click(play)
        self.wait_for(
            "playback (“Pause”) or the studio saying there is no audio output",
            lambda s: button(s, "Pause", cls="QPushButton") or label_containing(s, "audio output"),
        )
        self.show_player_message()
        self.shot("listen-play")
        sentence = self.bring_into_view(
            lambda s: spoken_paragraph(s, "Every evening"), "a sentence in “As it will be spoken”"
        )
        self.click(sentence)
        self.wait_for(
            "playback from the sentence or the no-output message with its WAV offer",
            lambda s: (
                button(s, "Pause", cls="QPushButton")
                or button(s, "Export WAV of this sentence", cls="QPushButton")
            ),
        )
        self.show_player_message()
        self.shot("listen-sentence")

    def show_player_message(self) -> None:
        """Scroll the player's message (what it says about playing) into view when it shows."""
        snap = self.wait_for("a probe", lambda s: s)
        if label_containing(snap, "audio output") is not None:
            self.bring_into_view(
                lambda s: label_containing(s, "audio output"), "the player's message"
            )

    def step_cast(self) -> None:
        self.click(self.bring_into_view(lambda s: tab(s, "Cast"), "the Cast tab"))
        self.wait_for("the narrator chooser", narrator_combo, 30)
        self.shot("cast")
        other = self.choose_narrator("(silence)", shot_name="cast-voice-chooser")
        self.shot("cast-other-engine")
        print(f"    chose {other!r}")
        self.choose_narrator("(piper)")
        self.shot("cast-back-to-piper")

    def choose_narrator(self, engine: str, shot_name: str = "") -> str:
        """Open the narrator chooser, pick the first voice of `engine`; the voice's text."""
        combo = self.bring_into_view(narrator_combo, "the narrator chooser")
        self.click(combo)
        self.wait_for("the chooser's list to open", lambda s: popup_rows(s))
        if shot_name:
            self.shot(shot_name)
        target = self.bring_popup_row(engine)
        chosen = target["text"]
        self.click(target)
        spec = engine.strip("()")
        self.wait_for(
            f"the narrator to read “{chosen}” and the status line to confirm it was saved",
            lambda s: (
                (c := narrator_combo(s)) is not None
                and c["text"] == chosen
                and not popup_rows(s)
                and statusbar_has(s, f"Narrator: {spec}:")
            ),
        )
        return str(chosen)

    def bring_popup_row(self, engine: str) -> Widget:
        """The chooser row of `engine`'s first voice, wheeled into view inside the list."""
        for _ in range(40):
            snap = self.wait_for("the chooser's list", lambda s: s)
            rows = popup_rows(snap)
            hits = [r for r in rows if engine in r["text"]]
            if hits and visible_fraction(hits[0]) > 0.8:
                return hits[0]
            if not rows:
                raise StepFailed(f"step {self.step!r}: the voice chooser closed")
            items = narrator_items(snap)
            wanted = next((i for i, t in enumerate(items) if engine in t), None)
            if wanted is None:
                raise StepFailed(f"step {self.step!r}: the chooser offers no {engine} voice")
            down = wanted > max(r["row"] for r in rows)
            self.wheel(rows[len(rows) // 2], 5 if down else 4)
        raise StepFailed(f"step {self.step!r}: could not scroll to a {engine} voice")

    def step_export(self) -> None:
        self.click(
            need(
                button(self.wait_for("a probe", lambda s: s), "Export", cls="QToolButton"),
                "the toolbar's Export… button",
            )
        )
        self.wait_for("the “Export audiobook” dialog", lambda s: window(s, "Export audiobook"))
        snap = self.wait_for("a probe", lambda s: s)
        mp3 = checkbox(snap, "One MP3")
        if mp3 is not None and mp3.get("checked"):
            self.click(mp3)  # the M4B alone: fewer files to wait for
        m4b = need(checkbox(snap, "One M4B"), "the M4B checkbox")
        if not m4b.get("checked"):
            self.click(m4b)
        folder = need(export_folder(snap), "the output folder field")
        self.click(folder)
        self.keys("ctrl+a")
        self.type_text(str(self.export_dir))
        self.wait_for(
            "the folder typed and an .m4b in “Will be written”",
            lambda s: (
                (f := export_folder(s)) is not None
                and f["text"] == str(self.export_dir)
                and any(r["text"].endswith(".m4b") for r in dialog_rows(s))
            ),
        )
        self.shot("export-dialog")
        snap = self.wait_for("a probe", lambda s: s)
        go = button(snap, "Render the missing chapters, then export", enabled=True)
        go = go or button(snap, "Export", cls="QPushButton", enabled=True)
        self.click(need(go, "the dialog's export button"))
        self.wait_for(
            "the export to finish (“Show in folder” enabled)",
            lambda s: button(s, "Show in folder", enabled=True),
            RENDER_TIMEOUT + 120,
        )
        m4bs = sorted(self.export_dir.rglob("*.m4b"))
        if not m4bs:
            raise StepFailed(f"step {self.step!r}: no .m4b under {self.export_dir}")
        self.shot("exported")
        print(f"    wrote {m4bs[0]} ({m4bs[0].stat().st_size // 1024} KiB)")

    def step_quit(self) -> None:
        snap = self.wait_for("a probe", lambda s: s)
        close = button(snap, "Close", cls="QPushButton")
        if close is not None and visible_fraction(close) > 0.6:
            self.click(close)
        elif window(snap, "Export audiobook"):
            self.keys("Escape")  # its Close button is below the screen's edge
        self.wait_for("the export dialog to close", lambda s: not window(s, "Export audiobook"))
        self.main_keys("ctrl+q")
        assert self.app is not None
        try:
            self.app.wait(60)
        except subprocess.TimeoutExpired as exc:
            raise StepFailed("the studio did not quit within 60 s of Ctrl+Q") from exc


# -- finding widgets in a snapshot -----------------------------------------------------------------


def need(widget: Widget | None, what: str) -> Widget:
    if widget is None:
        raise StepFailed(f"{what} is not on screen")
    return widget


def _on_screen(w: Widget) -> bool:
    return Box.of(w).area > 0


def button(
    snap: Snapshot, text: str, cls: str | None = None, enabled: bool | None = None
) -> Widget | None:
    for w in snap["widgets"]:
        if cls is not None and w.get("qt_class") != cls:
            continue
        if cls is None and w.get("qt_class") not in ("QPushButton", "QToolButton"):
            continue
        if w["text"].replace("&", "") != text:
            continue
        if enabled is not None and w["enabled"] != enabled:
            continue
        return w
    return None


def checkbox(snap: Snapshot, starts: str) -> Widget | None:
    return next(
        (
            w
            for w in snap["widgets"]
            if w.get("qt_class") == "QCheckBox" and w["text"].startswith(starts)
        ),
        None,
    )


def tab(snap: Snapshot, text: str) -> Widget | None:
    return next((w for w in snap["widgets"] if w["class"] == "tab" and w["text"] == text), None)


def label(snap: Snapshot, text: str) -> Widget | None:
    return next(
        (w for w in snap["widgets"] if w.get("qt_class") == "QLabel" and w["text"] == text), None
    )


def label_starting(snap: Snapshot, text: str) -> Widget | None:
    return next(
        (
            w
            for w in snap["widgets"]
            if w.get("qt_class") == "QLabel" and w["text"].startswith(text)
        ),
        None,
    )


def label_containing(snap: Snapshot, text: str) -> Widget | None:
    return next(
        (w for w in snap["widgets"] if w.get("qt_class") == "QLabel" and text in w["text"]), None
    )


def statusbar_has(snap: Snapshot, text: str) -> bool:
    return any(w["class"] == "statusbar" and text in w["text"] for w in snap["widgets"])


def window(snap: Snapshot, title: str) -> Snapshot | None:
    return next((w for w in snap["windows"] if w["title"] == title), None)


def row(snap: Snapshot, cell: str) -> Widget | None:
    return next(
        (w for w in snap["widgets"] if w["class"] == "row" and cell in w.get("cells", [])), None
    )


def _view_under(snap: Snapshot, caption: str) -> Widget | None:
    """The text view whose caption label sits right above it (the Text tab's two panes)."""
    cap = label(snap, caption)
    if cap is None:
        return None
    cx, cy = cap["rect"][0], cap["rect"][1] + cap["rect"][3]
    for w in snap["widgets"]:
        if w.get("qt_class") == "QTextEdit" and w["rect"][0] == cx and 0 <= w["rect"][1] - cy < 20:
            return w
    return None


def written_view(snap: Snapshot) -> Widget | None:
    return _view_under(snap, "As written")


def _paragraph(snap: Snapshot, caption: str, starts: str) -> Widget | None:
    view = _view_under(snap, caption)
    if view is None:
        return None
    return next(
        (
            w
            for w in snap["widgets"]
            if w["class"] == "paragraph"
            and w["view"] == view["id"]
            and w["text"].startswith(starts)
        ),
        None,
    )


def written_paragraph(snap: Snapshot, starts: str) -> Widget | None:
    return _paragraph(snap, "As written", starts)


def spoken_paragraph(snap: Snapshot, starts: str) -> Widget | None:
    return _paragraph(snap, "As it will be spoken", starts)


def player_ready(snap: Snapshot) -> bool:
    """The player bar has the chapter's audio: Play (or Pause) enabled, no "Not rendered"."""
    ready = button(snap, "Play", cls="QPushButton", enabled=True) or button(
        snap, "Pause", cls="QPushButton", enabled=True
    )
    return bool(ready) and label_starting(snap, "Not rendered yet") is None


def narrator_combo(snap: Snapshot) -> Widget | None:
    """The combo box beside the Cast tab's "Narrator" label."""
    cap = label(snap, "Narrator")
    if cap is None:
        return None
    mid = cap["rect"][1] + cap["rect"][3] / 2
    for w in snap["widgets"]:
        if w.get("qt_class") != "QComboBox" or w["window"] != cap["window"]:
            continue
        y, h = w["rect"][1], w["rect"][3]
        if y <= mid <= y + h and w["rect"][0] > cap["rect"][0]:
            return w
    return None


def narrator_items(snap: Snapshot) -> list[str]:
    combo = narrator_combo(snap)
    return list(combo.get("items", [])) if combo else []


def popup_rows(snap: Snapshot) -> list[Widget]:
    """The rows of an open combo box list."""
    views = {
        w["id"] for w in snap["widgets"] if w.get("qt_class") == "QComboBoxListView" and "id" in w
    }
    return [
        w for w in snap["widgets"] if w["class"] == "row" and w["view"] in views and _on_screen(w)
    ]


def export_folder(snap: Snapshot) -> Widget | None:
    return next(
        (
            w
            for w in snap["widgets"]
            if w.get("qt_class") == "QLineEdit" and w["window"] == "Export audiobook"
        ),
        None,
    )


def dialog_rows(snap: Snapshot) -> list[Widget]:
    return [w for w in snap["widgets"] if w["class"] == "row" and w["window"] == "Export audiobook"]


def page_scrollbars(snap: Snapshot) -> dict[str, Widget]:
    """The main window's page scroll bars (not a text view's), by direction, when shown."""
    out: dict[str, Widget] = {}
    for w in snap["widgets"]:
        if w.get("qt_class") != "QScrollBar" or "QScrollArea" not in w.get("path", [])[:2]:
            continue
        if not w["window"].endswith(MAIN_TITLE) or not _on_screen(w):
            continue
        r = w["rect"]
        out["v" if r[3] > r[2] else "h"] = w
    return out


# -- running ---------------------------------------------------------------------------------------


def free_display(start: int = 91) -> int:
    for n in range(start, start + 50):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise SystemExit("no free X display number between :91 and :140")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="screen sizes, WxH, comma-separated")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the PNGs go")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    args = parser.parse_args(argv)
    for tool in ("Xvfb", "xdotool", "import"):
        if shutil.which(tool) is None:
            print(f"walkthrough: {tool} is not installed", file=sys.stderr)
            return 2
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    taken: list[Path] = []
    failures: list[str] = []
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        for old in out.glob(f"{size}-*.png"):
            old.unlink()  # a rerun replaces the set: no stale step left beside new ones
        work = Path(tempfile.mkdtemp(prefix=f"walkthrough-{size}-"))
        walk = Walkthrough(size, out, work, free_display())
        try:
            walk.run_all()
        except StepFailed as exc:
            failures.append(f"{size}: step {walk.step!r} failed: {exc}")
            try:
                failed = work / f"FAILED-{size}.png"
                run(["import", "-display", walk.display, "-window", "root", str(failed)], walk.env)
                failures[-1] += f" (screen at failure: {failed}; studio log: {work}/studio.log)"
            except (StepFailed, subprocess.TimeoutExpired):
                pass
        finally:
            walk.stop()
            taken += walk.shots
            if not args.keep and not failures:
                shutil.rmtree(work, ignore_errors=True)
    print(f"\n{len(taken)} screenshots in {out}:")
    for path in taken:
        print(f"  {path.name}")
    for line in failures:
        print(f"FAILED {line}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
