"""Qt calls must not leak references to the None/True/False singletons.

PySide6-Essentials 6.12.0 on CPython 3.11 drops one reference to ``None`` on every Qt call that
returns nothing and one to ``True``/``False`` on every ``Signal.emit`` with a bool. The counts
of those immortal-looking objects run down to zero after minutes of use and the interpreter
aborts with "Fatal Python error: none_dealloc". No short GUI test notices, so this probe counts
references directly over 10,000 calls of the kinds the explorer makes.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QSlider

ROUNDS = 10_000
# A healthy binding shows a drift of a few references at most (caches warming up); the broken
# release shows one per call, i.e. ROUNDS.
TOLERATED_DRIFT = 50


class Emitter(QObject):
    toggled = Signal(bool)
    changed = Signal()


def singleton_counts() -> dict[str, int]:
    return {"None": sys.getrefcount(None), "True": sys.getrefcount(True), "False": sys.getrefcount(False)}


def drift(action, rounds: int = ROUNDS, chunk: int = 100) -> dict[str, int]:
    """Change in the singletons' reference counts over ``rounds`` calls of ``action``.

    Checked every ``chunk`` rounds so that a leaking binding fails here with numbers instead of
    running the counts down to zero and aborting the whole test process.
    """
    action(0)  # first calls may create cached objects
    before = singleton_counts()
    change = dict.fromkeys(before, 0)
    for start in range(0, rounds, chunk):
        for i in range(start, min(start + chunk, rounds)):
            action(i)
        after = singleton_counts()
        change = {name: after[name] - before[name] for name in before}
        if any(abs(value) > TOLERATED_DRIFT for value in change.values()):
            return {**change, "after_rounds": min(start + chunk, rounds)}
    return change


def assert_no_leak(result: dict[str, int]) -> None:
    assert all(abs(result[name]) <= TOLERATED_DRIFT for name in ("None", "True", "False")), result


def test_setters_returning_nothing_do_not_leak_none(qtbot):
    slider, label, field = QSlider(), QLabel(), QLineEdit()
    for widget in (slider, label, field):
        qtbot.addWidget(widget)
    slider.setRange(0, 100)

    def one_round(i: int) -> None:
        slider.setValue(i % 100)
        label.setText("x")
        field.setText(f"{i}")

    assert_no_leak(drift(one_round))


def test_emitting_signals_does_not_leak_booleans(qtbot):
    emitter, received = Emitter(), [0]

    def count(_value: bool) -> None:  # keeps no reference to the booleans it receives
        received[0] += 1

    emitter.toggled.connect(count)
    emitter.changed.connect(lambda: None)

    def one_round(i: int) -> None:
        emitter.toggled.emit(i % 2 == 0)
        emitter.changed.emit()

    assert_no_leak(drift(one_round))
    assert received[0] == ROUNDS + 1


def test_checkable_widgets_do_not_leak_booleans(qtbot):
    box = QCheckBox()
    qtbot.addWidget(box)

    def one_round(i: int) -> None:
        box.setChecked(i % 2 == 0)
        box.isChecked()

    assert_no_leak(drift(one_round))
