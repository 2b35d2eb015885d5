"""The explorer window for GUI tests, as a pytest plugin (conftest.py loads it): ask for ``window``.

It runs the tiny networks trained once per session, keeps its QSettings in an .ini file in the
test's temporary folder (never the user's settings), and is shown and drawn once before the
test starts. Run under ``xvfb-run -a``: VTK needs a GL context.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, tiny_checkpoints: Path) -> Any:
    from PySide6.QtCore import QSettings

    from app.workspace import Workspace
    from widgets.explorer import ExplorerWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    explorer = ExplorerWindow(Workspace(checkpoints=tiny_checkpoints, device="cpu"), settings)
    qtbot.addWidget(explorer)
    explorer.resize(1400, 850)
    explorer.show()
    qtbot.waitExposed(explorer)
    qtbot.waitUntil(lambda: explorer.views.frames > 0, timeout=20000)
    return explorer
