"""Cancellation: a token set from any thread and checked between chunks, downloads and batches."""

from __future__ import annotations

import threading


class Cancelled(Exception):
    """Raised where work stops because its cancel token is set."""


class CancelToken:
    """Set from any thread; engines check it between chunks, the scheduler before each chunk."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()
