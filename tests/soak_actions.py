"""Ordinary use of the explorer, action by action, for the soak test and ``bench/bench_soak.py``.

Imported by those two; nothing here is a test. Every action goes through a real widget the way
a user's does: key presses on sliders and value fields, clicks on buttons and check boxes,
values in spin boxes. A disabled widget drops the input, as it would a user's. The actions are
drawn from a seeded generator, so a failing soak can be replayed exactly.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QPushButton

from widgets.explorer import ExplorerWindow

SLIDER_KEYS = (Qt.Key.Key_PageUp, Qt.Key.Key_PageDown, Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Home, Qt.Key.Key_End)
# Typed text: numbers with a point, and the typos the window must refuse without changing the face.
REFUSED_TEXT = ("1,5", "abc", "nan", "1e400", "1e30", "")
ROWS_USED = 12  # sliders per kind the soak touches: enough variety, and rows stay cheap to find


def resident_bytes() -> int:
    """The process's resident set size now, from /proc/self/statm (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def singleton_references() -> dict[str, int]:
    """Reference counts of None, True and False: a leaking Qt binding runs them down."""
    return {"None": sys.getrefcount(None), "True": sys.getrefcount(True), "False": sys.getrefcount(False)}


def press(widget, key: Qt.Key) -> None:
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        QApplication.sendEvent(widget, QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier))


class SoakDriver:
    """Drives one explorer window through ``run(count)`` random ordinary actions."""

    def __init__(self, window: ExplorerWindow, seed: int = 0) -> None:
        self.window = window
        self.rng = np.random.default_rng(seed)
        self.performed: dict[str, int] = {}
        panel, views, sampling = window.coefficient_panel, window.views, window.sampling_panel
        self._rows = [panel.row(kind, index) for kind in ("shape", "expression") for index in range(ROWS_USED)]
        self._view_buttons = [button for button in views.findChildren(QPushButton)]
        self._sample_buttons = [*sampling.buttons.values(), panel.reset_all_button]
        weighted: list[tuple[int, str, Callable[[], None]]] = [
            (40, "slider key", self._slider_key),
            (20, "typed value", self._typed_value),
            (8, "sample or reset", lambda: self._pick(self._sample_buttons).click()),
            (4, "row reset", lambda: self._pick(self._rows).reset_button.click()),
            (8, "view button", lambda: self._pick(self._view_buttons).click()),
            (5, "show denoised", panel.denoised_box.click),
            (5, "heat map", views.heat_map_box.click),
            (4, "seed", lambda: sampling.seed_box.setValue(int(self.rng.integers(0, 10_000)))),
            (3, "range", lambda: sampling.r_shape_box.setValue(float(self.rng.choice([5.0, 10.0, 20.0])))),
            (2, "tab", lambda: panel.tabs.setCurrentIndex(1 - panel.tabs.currentIndex())),
            (1, "slider span", lambda: panel.span_box.setValue(float(self.rng.choice([2.0, 8.0, 20.0])))),
        ]
        weights = np.array([weight for weight, _, _ in weighted], dtype=float)
        self._probabilities = weights / weights.sum()
        self._actions = [(name, action) for _, name, action in weighted]

    def run(self, count: int, process_every: int = 50) -> None:
        """Perform ``count`` actions, letting Qt run (refresh, paint) after every ``process_every``."""
        for start in range(0, count, process_every):
            chosen = self.rng.choice(len(self._actions), size=min(process_every, count - start), p=self._probabilities)
            for index in chosen:
                name, action = self._actions[index]
                action()
                self.performed[name] = self.performed.get(name, 0) + 1
            QApplication.processEvents()

    def _pick(self, items: list):
        return items[int(self.rng.integers(len(items)))]

    def _slider_key(self) -> None:
        press(self._pick(self._rows).slider, SLIDER_KEYS[int(self.rng.integers(len(SLIDER_KEYS)))])

    def _typed_value(self) -> None:
        row = self._pick(self._rows)
        if row.field.isEnabled():  # nobody types into a read-only field
            if self.rng.random() < 0.2:
                text = str(self.rng.choice(REFUSED_TEXT))
            else:
                text = f"{self.rng.uniform(-3.0, 3.0):.4f}σ"
            row.field.setText(text)
        press(row.field, Qt.Key.Key_Return)
