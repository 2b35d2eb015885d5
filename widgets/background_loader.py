"""Slow file reading off the GUI thread, so the window keeps drawing and answering meanwhile.

``BackgroundLoader.start(work, on_result, on_error)`` runs ``work()`` on a worker thread and
calls ``on_result(value)`` or ``on_error(problem)`` for a FaceExplorerError back on the GUI
thread; any other exception is raised there, as a bug would be in a slot. Only the latest load
counts: starting another one makes the results of those still running void (they finish in the
background and are dropped). ``work`` must not touch Qt objects or the session it loads for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal

from app.errors import FaceExplorerError


class BackgroundLoader(QObject):
    busy_changed = Signal(bool)  # True while the latest load runs
    _finished = Signal(int, bool, object)  # ticket, succeeded, value or exception (from a worker thread)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        # Superseded loads may still be reading; the latest one must not queue behind them.
        self._pool.setMaxThreadCount(4)
        self._latest = 0
        self._handlers: tuple[Callable[[Any], None], Callable[[FaceExplorerError], None]] | None = None
        # Emitted by workers; Qt delivers it through the GUI thread's event queue (the loader lives there).
        self._finished.connect(self._deliver)

    @property
    def busy(self) -> bool:
        return self._handlers is not None

    def start(
        self, work: Callable[[], Any], on_result: Callable[[Any], None], on_error: Callable[[FaceExplorerError], None]
    ) -> None:
        """Run ``work`` on a worker thread; any load started earlier no longer reports back."""
        self._latest += 1
        was_busy = self.busy
        self._handlers = (on_result, on_error)
        self._pool.start(functools.partial(self._run, self._latest, work))
        if not was_busy:
            self.busy_changed.emit(True)

    def shut_down(self) -> None:
        """Drop all pending results and wait for running loads (before the window goes away)."""
        self._latest += 1
        self._pool.clear()
        self._pool.waitForDone()
        if self._handlers is not None:
            self._handlers = None
            self.busy_changed.emit(False)

    def _run(self, ticket: int, work: Callable[[], Any]) -> None:
        try:
            value, succeeded = work(), True
        except Exception as problem:
            value, succeeded = problem, False
        self._finished.emit(ticket, succeeded, value)

    def _deliver(self, ticket: int, succeeded: bool, value: Any) -> None:
        if ticket != self._latest or self._handlers is None:
            return  # superseded by a later load
        on_result, on_error = self._handlers
        self._handlers = None
        self.busy_changed.emit(False)
        if succeeded:
            on_result(value)
        elif isinstance(value, FaceExplorerError):
            on_error(value)
        else:
            raise value
