"""Undo and redo over every change of the explorer's face, and a list of earlier faces to return to.

``FaceHistory`` follows a ``FaceState``: each change becomes an entry holding the whole face (both
coefficient vectors and their origin), so any entry can be returned to directly, not only one step
back. The changes of one slider drag share a gesture number and become one entry holding the face at
the end of the drag; anything else (a typed value, a sample, a preset, a reset …) is an entry of its own.

Undo, redo and ``go_to`` set the state's face themselves and do not record that as a change; a
face that could not be shown (``take_back_newest``) leaves no entry of its own. A change made
after an undo drops the entries that could have been redone, as editors do. The list keeps the
latest ``limit`` entries; a face is 228 numbers, so a long session costs little.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.explorer.coefficient_display import mode_label, to_sigma
from app.explorer.face_origin import FaceOrigin
from app.explorer.face_state import FaceChange, FaceState

DEFAULT_LIMIT = 500


@dataclass(frozen=True)
class HistoryEntry:
    """One face of the history and what made it."""

    alpha_id: np.ndarray
    alpha_exp: np.ndarray
    origin: FaceOrigin
    action: str  # "sample both (seed 3)", "identity mode 3 = 1.20σ", …
    gesture: int | None = None


HistoryListener = Callable[[], None]


class FaceHistory:
    """The faces a ``FaceState`` has shown, the current one at ``position``."""

    def __init__(self, state: FaceState, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError("a history keeps at least one face")
        self.state = state
        self.limit = limit
        self.entries: list[HistoryEntry] = [self._entry("start", None)]
        self.position = 0
        self._moving = False
        self._listeners: list[HistoryListener] = []
        self._unsubscribe = state.subscribe(self._on_face_change)

    def close(self) -> None:
        """Stop following the state (a new model gets a new history)."""
        self._unsubscribe()

    def subscribe(self, listener: HistoryListener) -> Callable[[], None]:
        """Call ``listener()`` whenever the entries or the position change."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @property
    def can_undo(self) -> bool:
        return self.position > 0

    @property
    def can_redo(self) -> bool:
        return self.position < len(self.entries) - 1

    def undo(self) -> bool:
        """Back to the face before the last change; False when there is none."""
        if not self.can_undo:
            return False
        self.go_to(self.position - 1)
        return True

    def redo(self) -> bool:
        """Forward to the face an undo left; False when there is none."""
        if not self.can_redo:
            return False
        self.go_to(self.position + 1)
        return True

    def go_to(self, position: int) -> None:
        """Show the face of entry ``position`` (0 is the oldest kept)."""
        if not 0 <= position < len(self.entries):
            raise IndexError(f"history entry {position} does not exist (there are {len(self.entries)})")
        entry = self.entries[position]
        self.state.end_gesture()
        self._moving = True
        try:
            self.state.set_face(entry.alpha_id, entry.alpha_exp, f"history: {entry.action}", entry.origin)
        finally:
            self._moving = False
        self.position = position
        self._announce()

    def take_back_newest(self, restore: Callable[[], None]) -> None:
        """The newest face was refused; ``restore()`` puts the state back to the last face shown.

        The changes made since that face was shown leave the history: the entries after its
        entry go. Without such an entry (it was merged into a drag), the newest entry becomes it.
        """
        self._moving = True
        try:
            restore()
        finally:
            self._moving = False
        shown = self._entry("the last face shown", None)
        kept = next((index for index in range(self.position, -1, -1) if _same_face(self.entries[index], shown)), None)
        if kept is not None and self.position == len(self.entries) - 1:
            del self.entries[kept + 1 :]
            self.position = kept
        else:
            self.entries[self.position] = shown
        self._announce()

    # ---- recording -------------------------------------------------------------------------
    def _entry(self, action: str, gesture: int | None) -> HistoryEntry:
        return HistoryEntry(self.state.alpha_id, self.state.alpha_exp, self.state.origin, action, gesture)

    def _on_face_change(self, change: FaceChange) -> None:
        if self._moving:
            return
        if change.is_single:
            assert change.kind is not None and change.index is not None  # a single change names its coefficient
            sigma = to_sigma(self.state.model, change.kind, change.index, change.new)
            action = f"{mode_label(self.state.model, change.kind, change.index)} = {sigma:.2f}σ"
        else:
            action = change.source
        top = self.entries[self.position]
        entry = self._entry(action, change.gesture)
        if change.gesture is not None and top.gesture == change.gesture and self.position == len(self.entries) - 1:
            self.entries[self.position] = entry  # the same drag: one entry, the latest face
        else:
            del self.entries[self.position + 1 :]
            self.entries.append(entry)
            del self.entries[: max(0, len(self.entries) - self.limit)]
            self.position = len(self.entries) - 1
        self._announce()

    def _announce(self) -> None:
        for listener in list(self._listeners):
            listener()


def _same_face(a: HistoryEntry, b: HistoryEntry) -> bool:
    return np.array_equal(a.alpha_id, b.alpha_id) and np.array_equal(a.alpha_exp, b.alpha_exp) and a.origin == b.origin
