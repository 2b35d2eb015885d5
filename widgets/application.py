"""The one QApplication of a process, created only where a display exists."""

from __future__ import annotations

import os
import sys

from PySide6.QtWidgets import QApplication

from app.errors import FaceExplorerError


def application() -> QApplication:
    """The running QApplication, or a new one; without a display Qt would abort the process."""
    existing = QApplication.instance()
    if existing is not None:
        # a QCoreApplication (a process without widgets) could not show the windows
        assert isinstance(existing, QApplication), f"the running {type(existing).__name__} has no widgets"
        return existing
    if sys.platform.startswith("linux") and not any(
        os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    ):
        raise FaceExplorerError(
            "no display to open a window on (DISPLAY is not set): run on a desktop, "
            "or under a virtual display with `xvfb-run -a python main.py …`"
        )
    return QApplication(sys.argv[:1])
