"""Windows the explorer opens beside itself (gallery, interpolation): one of each, closed with it.

They show faces as thumbnails from one off-screen renderer per window, made on first use and
closed with the window (a GL window per picture would cost more than the drawing).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QWidget

from app.explorer.gallery import ThumbnailRenderer
from app.explorer.plausibility_readout import PlausibilityReadout
from app.explorer.session import ExplorerSession
from app.model.morphable_model import MorphableModel
from widgets.screen_fit import place_over_owner

Window = TypeVar("Window", bound="ToolWindow")


class ToolWindow(QWidget):
    """A top-level window owned by ``owner`` (it closes when the owner closes) that works on the
    explorer's ``session``, reports errors with ``show_error`` and judges faces with the
    explorer's plausibility ``readout`` (None while that is being calibrated)."""

    PREFERRED_SIZE = QSize(900, 700)  # the size it opens at, less on a smaller screen

    def __init__(
        self,
        owner: QWidget,
        session: ExplorerSession,
        show_error: Callable[[str], None],
        readout: Callable[[], PlausibilityReadout | None],
    ) -> None:
        super().__init__(owner, Qt.WindowType.Window)
        self.session = session
        self.show_error = show_error
        self.readout = readout
        self._renderer: ThumbnailRenderer | None = None
        self.addActions(owner.actions())  # the owner's window-wide keys (undo, redo) work here too
        owner.installEventFilter(self)

    def thumbnails(self, model: MorphableModel, size: int) -> ThumbnailRenderer:
        """This window's renderer for faces of ``model`` at ``size`` pixels (made again for another)."""
        renderer = self._renderer
        if renderer is None or renderer.model is not model or renderer.size != size:
            self.release_thumbnails()
            self._renderer = renderer = ThumbnailRenderer(model, size)
        return renderer

    def release_thumbnails(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.parent() and event.type() == QEvent.Type.Close:
            self.close()
        return False

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        self.release_thumbnails()
        super().closeEvent(event)


def pixmap(image: np.ndarray) -> QPixmap:
    """An (H, W, 3) uint8 image as a pixmap (a copy: the array may change afterwards)."""
    image = np.ascontiguousarray(image)
    height, width = image.shape[:2]
    return QPixmap.fromImage(QImage(image.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy())


def show_tool_window(owner: QWidget, kind: type[Window], *args: Any) -> tuple[Window, bool]:
    """The owner's window of ``kind``, made (with ``args``) if it has none; True when it was just made."""
    window = owner.findChild(kind)
    made = window is None
    if window is None:
        window = kind(owner, *args)
        place_over_owner(window, owner, window.PREFERRED_SIZE)
    window.show()
    window.raise_()
    window.activateWindow()
    return window, made
