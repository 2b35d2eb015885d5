"""The explorer window for GUI tests, as a pytest plugin (conftest.py loads it): ask for ``window``.

It runs the tiny networks trained once per session, keeps its QSettings in an .ini file in the
test's temporary folder (never the user's settings), and is shown and drawn once before the
test starts; ``prior_checkpoints`` adds the shipped learned prior beside the tiny networks,
``open_explorer`` opens a window on any checkpoints folder and ``type_into`` types into a field.
Run under ``xvfb-run -a``: VTK needs a GL context.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

PRIOR_FILES = ("prior-shape.pt", "prior-expression.pt")


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, tiny_checkpoints: Path) -> Any:
    return open_explorer(qtbot, tmp_path, tiny_checkpoints)


@pytest.fixture(scope="session")
def prior_checkpoints(tmp_path_factory: pytest.TempPathFactory, tiny_checkpoints: Path) -> Path:
    """The tiny networks beside the shipped learned prior."""
    from app.denoising.checkpoint_folders import SHIPPED_CHECKPOINTS

    folder = tmp_path_factory.mktemp("checkpoints-with-prior")
    for name in ("shape.pt", "expression.pt"):
        shutil.copy(tiny_checkpoints / name, folder / name)
    for name in PRIOR_FILES:
        shutil.copy(SHIPPED_CHECKPOINTS / name, folder / name)
    return folder


def open_explorer(qtbot: Any, tmp_path: Path, checkpoints: Path, size: tuple[int, int] = (1400, 850)) -> Any:
    """An explorer window on ``checkpoints``, shown at ``size`` and drawn once."""
    from PySide6.QtCore import QSettings

    from app.workspace import Workspace
    from widgets.explorer import ExplorerWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    explorer = ExplorerWindow(Workspace(checkpoints=checkpoints, device="cpu"), settings)
    qtbot.addWidget(explorer)
    explorer.resize(*size)
    explorer.show()
    qtbot.waitExposed(explorer)
    qtbot.waitUntil(lambda: explorer.views.frames > 0, timeout=20000)
    return explorer


def type_into(qtbot: Any, field: Any, text: str) -> None:
    """Type ``text`` into ``field`` (a line edit, or a spin box's) with real key presses, then Enter."""
    from PySide6.QtCore import Qt

    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=5000)
    field.selectAll()
    qtbot.keyClicks(field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)
