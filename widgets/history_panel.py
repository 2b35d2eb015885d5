"""The list of earlier faces: every change of the face is a line; a click returns to that face.

The list follows the session's ``FaceHistory`` (app/explorer/history.py) and asks it to move;
it holds no history of its own. A drag rewrites the newest line on every slider event, so the
list is brought up to date at most every ``SYNC_MS`` rather than per event.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.explorer.history import FaceHistory

SYNC_MS = 150


class HistoryPanel(QWidget):
    def __init__(self, history: FaceHistory, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self.list = QListWidget()
        self.list.setToolTip("every change of the face; click one to return to that face (Ctrl+Z / Ctrl+Shift+Z step)")
        self.list.itemClicked.connect(self._clicked)
        self.list.setMinimumWidth(170)  # "12. sample both (seed 3)" readable when the window is narrow
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        self._sync_timer = QTimer(self)
        self._sync_timer.setSingleShot(True)
        self._sync_timer.setInterval(SYNC_MS)
        self._sync_timer.timeout.connect(self.sync)
        self._bold_row = -1
        history.subscribe(self._sync_timer.start)  # a new model brings a new history and a new panel
        self.sync()

    def sync(self) -> None:
        """Make the lines and the marked current line match the history."""
        entries = self.history.entries
        while self.list.count() > len(entries):
            self.list.takeItem(self.list.count() - 1)
        while self.list.count() < len(entries):
            self.list.addItem(QListWidgetItem())
        for row, entry in enumerate(entries):
            item = self.list.item(row)
            text = f"{row + 1}. {entry.action}"
            if item.text() != text:
                item.setText(text)
                item.setToolTip(f"{text}\n{entry.origin.describe()}")  # the whole line where the list cuts it
        for row, bold in ((self._bold_row, False), (self.history.position, True)):
            if 0 <= row < self.list.count():
                font = QFont(self.list.item(row).font())
                font.setBold(bold)
                self.list.item(row).setFont(font)
        self._bold_row = self.history.position
        self.list.setCurrentRow(self.history.position)
        self.list.scrollToItem(self.list.item(self.history.position))

    def _clicked(self, item: QListWidgetItem) -> None:
        row = self.list.row(item)
        if row != self.history.position:
            self.history.go_to(row)
