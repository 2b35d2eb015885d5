"""Windows sized to the screen they open on, and tool windows placed on their owner's screen.

A window asks for the size it would like; it gets at most the screen's free area less room for
the window manager's title bar and borders (``FRAME``), so a 1366×768 laptop shows every part of
it. A tool window opens centred on its owner and is then pushed inside the owner's screen.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtWidgets import QWidget

FRAME = QSize(16, 48)  # a typical title bar plus borders; Qt's sizes exclude them


def fitted_size(wanted: QSize, area: QRect) -> QSize:
    """``wanted``, shrunk to fit ``area`` with the window frame around it."""
    return wanted.boundedTo(area.size() - FRAME)


def fit_to_screen(window: QWidget, wanted: QSize, area: QRect | None = None) -> None:
    """Resize ``window`` to ``wanted`` or less and centre it in ``area`` (its screen's free area by default)."""
    area = area if area is not None else window.screen().availableGeometry()
    size = fitted_size(wanted, area)
    window.resize(size)
    window.move(area.center() - QPoint(size.width() // 2, size.height() // 2))


def place_over_owner(window: QWidget, owner: QWidget, wanted: QSize) -> None:
    """Size ``window`` for ``owner``'s screen and open it centred on ``owner``, wholly on that screen."""
    area = owner.screen().availableGeometry()
    size = fitted_size(wanted, area)
    window.resize(size)
    centre = owner.frameGeometry().center()
    left = min(max(centre.x() - size.width() // 2, area.left()), area.right() - size.width() - FRAME.width() + 1)
    top = min(max(centre.y() - size.height() // 2, area.top()), area.bottom() - size.height() - FRAME.height() + 1)
    window.move(left, top)
