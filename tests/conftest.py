"""Fixtures every test module can use, and checks that run after every test.

- ``tiny_checkpoints``: real shape/expression networks trained once per test session in seconds.
- After each test: no pyvista plotter left open and no window left on screen, as pyvistaqt's own
  tests check, so a leaked GL context or window shows up in the test that leaked it.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # `pytest` run without `python -m` does not put the root on the path
    sys.path.insert(0, str(REPO))


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with shape.pt and expression.pt trained for one epoch on a 200-face embedded corpus."""
    from app.denoising.training import TrainingConfig, train_denoiser
    from app.model.embedded_corpus import embedded_corpus
    from app.model.embedded_model import embedded_model

    folder = tmp_path_factory.mktemp("tiny-checkpoints")
    data = embedded_corpus(200)
    for kind in ("shape", "expression"):
        config = TrainingConfig.paper(kind, epochs=1, copies=2, test_faces=20, device="cpu")
        train_denoiser(data, config, embedded_model().provenance, folder / f"{kind}.pt", show_progress=False,
                       log=lambda _: None)
    return folder


@pytest.fixture(autouse=True)
def nothing_left_open(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a GUI test that leaves a plotter or a visible window behind once its widgets are closed."""
    yield
    if "qtbot" not in request.fixturenames:
        return
    # Runs after qtbot's own teardown (autouse fixtures are set up first, so torn down last).
    from pyvista.plotting.plotter import _ALL_PLOTTERS
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    gc.collect()
    open_plotters = [type(plotter).__name__ for plotter in _ALL_PLOTTERS.values()]
    visible = [type(widget).__name__ for widget in QApplication.topLevelWidgets() if widget.isVisible()]
    for plotter in list(_ALL_PLOTTERS.values()):  # close them so the next test starts clean
        plotter.close()
    for widget in QApplication.topLevelWidgets():
        widget.close()
    assert not open_plotters, f"plotters left open: {open_plotters}"
    assert not visible, f"windows left on screen: {visible}"
