"""Stacks of pages (a QStackedWidget, a QTabWidget) sized by the page on show.

Qt sizes a stack by its largest page, so the start page's or the Cast tab's height made every
page taller than an 800×600 window, and the Text tab's player bar sat below the fold. A page out
of sight is given the Ignored size policy, which drops its size hint from the stack's sums.
"""

from __future__ import annotations

from PySide6.QtWidgets import QSizePolicy, QStackedWidget, QTabWidget


def size_by_current_page(stack: QStackedWidget | QTabWidget) -> None:
    def update(_index: int = 0) -> None:
        current = stack.currentWidget()
        for i in range(stack.count()):
            page = stack.widget(i)
            policy = QSizePolicy.Policy.Preferred if page is current else QSizePolicy.Policy.Ignored
            page.setSizePolicy(policy, policy)
        stack.updateGeometry()

    stack.currentChanged.connect(update)
    update()
