"""Undo and redo keys that reach the window's actions wherever the keyboard focus is.

A text field or spin box claims Ctrl+Z, Ctrl+Shift+Z and Ctrl+Y for undoing its own text (it
accepts Qt's ShortcutOverride event), so a user who types a value, presses Enter and then Ctrl+Z
saw nothing happen. ``HistoryKeys`` declines that claim for every widget that takes the focus in
a window carrying the undo and redo actions (the explorer and the tool windows it opens), so the
key reaches the face's history. A filter is put only on widgets that get the focus, not on the
whole application, so the events of a drag pay nothing for it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QWidget


class HistoryKeys(QObject):
    """Gives the shortcuts of ``actions`` precedence over text editing in ``window`` and in any window
    the actions are added to (``QWidget.addActions``)."""

    def __init__(self, window: QWidget, actions: list[QAction]) -> None:
        super().__init__(window)
        self._actions = actions
        window.addActions(actions)
        application = QApplication.instance()
        assert isinstance(application, QApplication)  # widgets exist only inside a QApplication
        application.focusChanged.connect(self._focus_changed)

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if new is not None and self._actions[0] in new.window().actions():
            new.installEventFilter(self)  # installing it again only moves it to the front

    def _is_history_key(self, event: QKeyEvent) -> bool:
        pressed = QKeySequence(event.keyCombination())
        return any(pressed == shortcut for action in self._actions for shortcut in action.shortcuts())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and self._is_history_key(event)
        ):
            event.ignore()  # not claimed by the field: the shortcut map runs the action
            return True
        return False
