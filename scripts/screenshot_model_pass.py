"""Drive the real studio window under Xvfb through the Speakers tab's model pass, with real X
input, into docs/screenshots/model-pass-*.png.

    .venv/bin/python scripts/screenshot_model_pass.py [--size 1280x800]

A short two-voice story is opened through "Open manuscript…"; its first chapter's Speakers tab
lists the quotations; "Ask a model…" shows what would be sent and its cost; the opt-in is
ticked and Send pressed. The chat model is the tests' local stand-in for OpenAI (it answers by
a fixed rule), started here, so no text leaves the machine. Needs Xvfb, xdotool and `import`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.walkthrough import (  # noqa: E402
    StepFailed,
    Walkthrough,
    button,
    checkbox,
    label_containing,
    label_starting,
    need,
    row,
    tab,
)
from tests.standins.openai_server import OpenAIStandIn  # noqa: E402
from tests.standins.quay import STORY  # noqa: E402

CHAPTER = "Chapter 1. Fog"


class ModelPassShots(Walkthrough):
    def __init__(self, size: str, out: Path, work: Path, server: OpenAIStandIn) -> None:
        super().__init__(size, out, work, display=97)
        self.manuscript = work / "the-quay.md"
        self.manuscript.write_text(STORY, encoding="utf-8")
        self.env.update(OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY=server.api_key)

    def shot(self, name: str) -> Path:
        self.count += 1
        path = self.out / f"model-pass-{self.count}-{name}-{self.size}.png"
        return self._grab(path)

    def _grab(self, path: Path) -> Path:
        import subprocess
        import time

        time.sleep(0.4)
        subprocess.run(
            ["import", "-display", self.display, "-window", "root", str(path)],
            env=self.env,
            check=True,
        )
        self.shots.append(path)
        print(f"  {path.relative_to(ROOT)}")
        return path

    def run_steps(self) -> None:
        self.step = "open"
        snap = self.wait_for("a probe", lambda s: s, 60)
        self.click(need(button(snap, "Open manuscript…", cls="QPushButton"), "Open manuscript…"))
        self.wait_for(
            "the file dialog",
            lambda s: (
                s["active_window"] == "Open manuscript"
                and (s.get("focus") or {}).get("class") == "QLineEdit"
            ),
        )
        self.type_text(str(self.manuscript))
        self.keys("Return")
        self.step = "speakers"
        self.click(self.wait_for(f"the chapter row {CHAPTER}", lambda s: row(s, CHAPTER), 60))
        speakers = self.bring_into_view(lambda s: tab(s, "Speakers"), "the Speakers tab")
        self.click(speakers)
        self.wait_for(
            "the chapter's quotations", lambda s: label_containing(s, "low confidence"), 30
        )
        self.shot("speakers")
        self.step = "ask"
        self.click(self.wait_for("Ask a model…", lambda s: button(s, "Ask a model…")))
        self.wait_for(
            "the estimate", lambda s: label_starting(s, "To send:") or label_containing(s, "$"), 30
        )
        self.shot("estimate")
        self.step = "opt in"
        self.click(self.wait_for("the opt-in", lambda s: checkbox(s, "Allow this book")))
        self.step = "send"
        self.click(self.wait_for("Send enabled", lambda s: button(s, "Send", enabled=True)))
        self.wait_for("the result", lambda s: label_containing(s, "given a speaker"), 60)
        self.shot("answered")
        self.click(self.wait_for("Close", lambda s: button(s, "Close")))
        self.wait_for("the model's rows", lambda s: label_containing(s, "low confidence"), 30)
        self.shot("table")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="model-pass-shots-") as tmp, OpenAIStandIn() as server:
        shots = ModelPassShots(args.size, args.out, Path(tmp), server)
        try:
            shots.start_display()
            shots.start_studio()
            shots.run_steps()
        except StepFailed as exc:
            print(f"failed: {exc}", file=sys.stderr)
            print((Path(tmp) / "studio.log").read_text(errors="replace")[-3000:], file=sys.stderr)
            return 1
        finally:
            shots.stop()
    print(f"sent to the stand-in: {len(server.chats)} chat requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
