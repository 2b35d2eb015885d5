"""Windows the explorer opens beside itself (gallery, interpolation): one of each, closed with it."""

from __future__ import annotations

from typing import Any, TypeVar

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QWidget

Window = TypeVar("Window", bound="ToolWindow")


class ToolWindow(QWidget):
    """A top-level window owned by ``owner``: it closes when the owner closes."""

    def __init__(self, owner: QWidget) -> None:
        super().__init__(owner, Qt.WindowType.Window)
        owner.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.parent() and event.type() == QEvent.Type.Close:
            self.close()
        return False


def show_tool_window(owner: QWidget, kind: type[Window], *args: Any) -> tuple[Window, bool]:
    """The owner's window of ``kind``, made (with ``args``) if it has none; True when it was just made."""
    window = owner.findChild(kind)
    made = window is None
    if made:
        window = kind(owner, *args)
    window.show()
    window.raise_()
    window.activateWindow()
    return window, made
