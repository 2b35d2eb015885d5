"""A one-line label that never changes the layout around it: long text ends in "…", whole in its tooltip.

A wrapping label grows by a line when its text gets longer, and everything below it moves: a user
aiming at one slider's field hits the next one. ``ElidedLabel`` keeps one line's height whatever
it says, asks for no width of its own, and shows what does not fit in the tooltip.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """``text()`` is the whole text; the label shows as much of it as fits; ``tip`` leads the tooltip."""

    def __init__(self, text: str = "", tip: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self._tip = tip
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setText(text)

    def text(self) -> str:  # the whole text, not the part shown
        return self._full

    def shown_text(self) -> str:
        return super().text()

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        if text == self._full:
            return  # a drag repeats the same text: no relayout, no repaint
        self._full = text
        self.setToolTip("\n".join(part for part in (text, self._tip) if part))
        self.updateGeometry()  # the size it asks for follows the whole text
        self._elide()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        margins = self.contentsMargins()
        metrics = self.fontMetrics()
        return QSize(
            metrics.horizontalAdvance(self._full) + margins.left() + margins.right(),
            metrics.height() + margins.top() + margins.bottom(),
        )

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(0, self.sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        super().setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(width, 0)))
