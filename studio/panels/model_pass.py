"""The optional model pass, from the Speakers tab: what would be sent and what it would cost,
the book's opt-in and cap, then the pass itself with its progress (`pipelines.app.speaker_pass`).

Nothing is sent until the author ticks the opt-in and presses Send; the estimate, the cap and
the key are checked again by the core before the first request.
"""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from pipelines.app import speaker_pass as sp
from pipelines.cast.casting import model_speakers
from pipelines.core.cancel import Cancelled, CancelToken
from pipelines.script.model_prices import PRICES_AS_OF
from pipelines.store import Project
from studio.context import StudioContext
from studio.tasks import describe_error
from studio.theme import set_role

PRIVACY = (
    "The rules leave some quotations unsettled. An OpenAI chat model can be asked about them: "
    "each goes with a few paragraphs around it and the book's cast list. Nothing is sent "
    "unless you allow it for this book and press Send. Its answers have no measured accuracy, "
    "so they stay on the low-confidence list for you to check."
)


def _tell(label: QLabel, text: str, role: str) -> None:
    label.setText(text)
    label.setVisible(bool(text))
    set_role(label, role)
    label.style().unpolish(label)  # the style sheet reads the role again
    label.style().polish(label)


def count(n: int, what: str) -> str:
    return f"{n:,} {what}{'s' * (n != 1)}"


def describe(plan: sp.PassPlan) -> str:
    """The plan in words: what is asked, what goes, what it costs."""
    info = plan.as_dict()
    cost = plan.cost
    if not plan.items:
        return "Every quotation here is settled: there is nothing to ask."
    cached = info["cached_requests"]
    lines = [
        f"{count(info['quotations'], 'unsettled quotation')} in "
        f"{count(info['requests'], 'request')}"
        + (f" ({cached} answered by an earlier pass: free)" if cached else "")
        + "."
    ]
    if cost.requests:
        priced = f"prices of {PRICES_AS_OF}" if cost.price_listed else "not in the price table"
        lines.append(
            f"To send: {count(cost.quotations, 'quotation')}, "
            f"{count(cost.chars, 'character')} (about {cost.input_tokens:,} tokens in, "
            f"{cost.output_tokens:,} out): about {sp.usd(cost.usd)} with {plan.model} "
            f"({priced})."
        )
    else:
        lines.append("Nothing needs sending: every answer is saved with the project.")
    return "\n".join(lines)


def outcome(result: sp.PassResult) -> str:
    """A finished pass in words."""
    text = (
        f"{count(result.named, 'quotation')} given a speaker"
        + (f", {result.unknown} the model could not tell" if result.unknown else "")
        + f"; {count(result.sent, 'request')} sent"
        + (f", {result.from_cache} answered from the project's cache" if result.from_cache else "")
        + (f", about {sp.usd(result.usd)} spent." if result.sent else ", nothing spent.")
    )
    if result.malformed:
        text += f" {count(len(result.malformed), 'reply')} unusable and ignored."
    return text


class ModelPassDialog(QDialog):
    """Scope, estimate, opt-in, cap; Send runs the pass off the GUI thread."""

    finished_pass = Signal(str)  # the result in words, once speakers may have changed

    def __init__(
        self, parent: QWidget, project: Project, ctx: StudioContext, chapter: int | None
    ) -> None:
        super().__init__(parent)
        self.project = project
        self.ctx = ctx
        self.chapter = chapter  # 1-based number of the chapter on view
        self.plan: sp.PassPlan | None = None
        self.cancel: CancelToken | None = None
        self._told = False  # the verdict line shows an outcome (kept until the next choice)
        self.setWindowTitle("Ask a model about speakers")

        intro = QLabel(PRIVACY)
        intro.setWordWrap(True)
        set_role(intro, "muted")
        self.this_chapter = QRadioButton(f"This chapter ({chapter})" if chapter else "This chapter")
        self.this_chapter.setEnabled(chapter is not None)
        self.whole_book = QRadioButton("The whole book")
        (self.this_chapter if chapter else self.whole_book).setChecked(True)
        scope = QButtonGroup(self)
        scope.addButton(self.this_chapter)
        scope.addButton(self.whole_book)
        self.this_chapter.toggled.connect(lambda *_: self._rescoped())

        self.summary = QLabel("Counting the unsettled quotations…")
        self.summary.setWordWrap(True)
        self.cap = QDoubleSpinBox()
        self.cap.setPrefix("$")
        self.cap.setDecimals(2)
        self.cap.setRange(0.01, 1000.0)
        self.cap.setSingleStep(0.5)
        self.cap.setValue(sp.cap_usd(project))
        self.cap.setMaximumWidth(140)
        self.cap.setToolTip("The most this book's pass may cost; a dearer pass is refused")
        self.cap.valueChanged.connect(lambda *_: self._changed())
        self.allow = QCheckBox("Allow this book's text to be sent to OpenAI")
        self.allow.setChecked(sp.opted_in(project))
        self.allow.toggled.connect(lambda *_: self._changed())
        self.verdict = QLabel("")
        self.verdict.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setVisible(False)

        self.buttons = QDialogButtonBox()
        self.send_button = QPushButton("Send")
        self.send_button.setProperty("primary", True)
        self.send_button.setEnabled(False)
        self.send_button.clicked.connect(lambda: self.ctx.tasks.spawn(self.send()))
        self.forget_button = QPushButton("Forget the model's answers")
        self.forget_button.setToolTip("Back to the rules' speakers (and your corrections)")
        self.forget_button.clicked.connect(lambda: self.ctx.tasks.spawn(self.forget()))
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self._close_or_stop)
        self.buttons.addButton(self.send_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.forget_button, QDialogButtonBox.ButtonRole.ResetRole)
        self.buttons.addButton(self.close_button, QDialogButtonBox.ButtonRole.RejectRole)

        form = QFormLayout()
        form.addRow("Ask about", self.this_chapter)
        form.addRow("", self.whole_book)
        form.addRow("Cap", self.cap)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(form)
        lay.addWidget(self.summary)
        lay.addWidget(self.allow)
        lay.addWidget(self.verdict)
        lay.addWidget(self.progress)
        lay.addStretch(1)
        lay.addWidget(self.buttons)
        self.resize(600, 400)
        self.replan()

    # -- planning -------------------------------------------------------------------------------

    def _changed(self) -> None:
        self._told = False
        self._show()

    def _rescoped(self) -> None:
        self._told = False
        self.replan()

    def replan(self) -> None:
        self.plan = None
        self._show()
        self.ctx.tasks.spawn(self._plan(), slot="model-pass-plan")

    async def _plan(self) -> sp.PassPlan:
        chapter = self.chapter if self.this_chapter.isChecked() else None
        plan = await asyncio.to_thread(sp.plan_pass, self.project, sp.DEFAULT_MODEL, chapter)
        if (chapter is None) == self.whole_book.isChecked():  # still the scope asked for
            self.plan = plan
            self._show()
        return plan

    def _show(self) -> None:
        """Summary, what stops a send (in words), and the buttons to match."""
        plan = self.plan
        has_answers = bool(model_speakers(self.project))
        self.forget_button.setEnabled(has_answers and self.cancel is None)
        if plan is None:
            self.summary.setText("Counting the unsettled quotations…")
            if self.cancel is None and not self._told:
                _tell(self.verdict, "", "muted")
            self.send_button.setEnabled(False)
            return
        self.summary.setText(describe(plan))
        cost = plan.cost
        blocker = ""
        if not plan.items:
            blocker = " "
        elif not self.allow.isChecked():
            blocker = "Tick the box above to allow this book's text to be sent."
        elif cost.requests and not plan.key_present:
            blocker = (
                "No OpenAI key is set: add one in Settings (Ctrl+,), or set OPENAI_API_KEY, "
                "then open this again."
            )
        elif cost.usd > self.cap.value():
            blocker = (
                f"About {sp.usd(cost.usd)} is over this book's cap of "
                f"{sp.usd(self.cap.value())}: raise the cap or ask about one chapter."
            )
        if self.cancel is None and (blocker.strip() or not self._told):
            _tell(self.verdict, blocker.strip(), "warning")
        # With every answer saved, "sending" only applies them again (after a forget, say).
        self.send_button.setText("Send" if cost.requests else "Use saved answers")
        self.send_button.setEnabled(not blocker and self.cancel is None)

    # -- the pass -------------------------------------------------------------------------------

    def _save_choices(self) -> None:
        sp.set_opt_in(self.project, self.allow.isChecked())
        sp.set_cap_usd(self.project, self.cap.value())

    async def send(self) -> str:
        plan = self.plan
        if plan is None or not self.send_button.isEnabled():
            return ""
        self._save_choices()
        plan.opted_in, plan.cap_usd = self.allow.isChecked(), self.cap.value()
        self.cancel = CancelToken()
        self.send_button.setEnabled(False)
        self.forget_button.setEnabled(False)
        self.close_button.setText("Stop")
        self.progress.setRange(0, max(1, len(plan.items)))
        self.progress.setValue(0)
        self.progress.setFormat("Asking %v of %m…")
        self.progress.setVisible(True)
        loop = asyncio.get_running_loop()

        def progress(done: int, total: int) -> None:
            loop.call_soon_threadsafe(self.progress.setValue, done)

        try:
            result = await asyncio.to_thread(
                sp.run_pass, self.project, plan, progress=progress, cancel=self.cancel
            )
        except Cancelled:
            text = "Stopped: the answers received so far are kept."
        except Exception as exc:  # refused, no credit, offline: said in the dialog
            text = f"Nothing more was asked: {describe_error(exc)}"
            self._after_pass(text, "warning")
            return text
        else:
            text = outcome(result)
        self._after_pass(text, "muted")
        return text

    def _after_pass(self, text: str, role: str) -> None:
        self.cancel = None
        self.progress.setVisible(False)
        self.close_button.setText("Close")
        self.close_button.setEnabled(True)
        _tell(self.verdict, text, role)
        self._told = True  # the outcome stays on view while the plan is counted again
        self.finished_pass.emit(text)
        # The replies now sit in the cache: a new plan shows them as free.
        self.replan()

    async def forget(self) -> int:
        count = await asyncio.to_thread(sp.forget, self.project)
        text = f"Forgot the model's speakers for {count} quotations."
        _tell(self.verdict, text, "muted")
        self._told = True
        self.forget_button.setEnabled(False)
        self.finished_pass.emit(text)
        self.replan()
        return count

    def _close_or_stop(self) -> None:
        if self.cancel is not None:
            self.cancel.cancel()
            self.close_button.setEnabled(False)
            self.close_button.setText("Stopping…")
            return
        self.reject()

    def reject(self) -> None:
        if self.cancel is not None:  # Escape while asking: stop first, keep what came
            self.cancel.cancel()
            return
        super().reject()
