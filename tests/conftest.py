"""Fixtures every test module can use, and checks that run after every test.

- ``tiny_checkpoints``: real shape/expression networks trained once per test session in seconds.
- ``shipped_workspace``: the embedded model, its corpus and the shipped networks, read once.
- ``generation_inputs``: the embedded model, the tiny networks on the CPU and their provenance.
- ``small_disk`` and ``disk_full_at_sync`` from tests/full_disk.py: a real and a simulated full disk.
- ``window`` from tests/explorer_window.py: the explorer window, shown, on the tiny networks.
- After each test: no pyvista plotter left open (on screen or off, e.g. dataset images) and no
  window left on screen, as pyvistaqt's own tests check, so a leaked GL context or window shows
  up in the test that leaked it.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from core_fixtures import REPO

if str(REPO) not in sys.path:  # `pytest` run without `python -m` does not put the root on the path
    sys.path.insert(0, str(REPO))

pytest_plugins = ["full_disk", "explorer_window"]  # small_disk, disk_full_at_sync; window


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
        train_denoiser(
            data, config, embedded_model().provenance, folder / f"{kind}.pt", show_progress=False, log=lambda _: None
        )
    return folder


@pytest.fixture(scope="session")
def shipped_workspace() -> Any:
    """The embedded model, its corpus and the shipped networks, each read once per test session."""
    from app.workspace import Workspace

    return Workspace()


@pytest.fixture(scope="session")
def generation_inputs(tiny_checkpoints: Path) -> tuple:
    """What ``generate`` takes: the embedded model, the tiny networks on the CPU and their provenance."""
    from app.dataset.settings import Provenance
    from app.denoising.denoiser import Denoiser
    from app.model.embedded_model import embedded_model

    model = embedded_model()
    denoiser = Denoiser.from_folder(model, tiny_checkpoints, "cpu")
    return model, denoiser, Provenance.of(model, denoiser)


@pytest.fixture(autouse=True)
def nothing_left_open() -> Iterator[None]:
    """Fail a test that leaves a pyvista plotter (on or off screen) or a visible window behind."""
    yield
    # Runs after the test's other fixtures (qtbot's included) are torn down: autouse ones are set up first.
    leaked = _open_plotters_and_windows()
    if leaked:  # a window closed by dropping its last reference may only be waiting for the collector
        gc.collect()  # ~0.1 s with torch loaded: too slow for every test
        leaked = _open_plotters_and_windows()
    for thing in leaked:  # so that the next test starts clean
        thing.close()
    assert not leaked, f"left open: {[type(thing).__name__ for thing in leaked]}"


def _open_plotters_and_windows() -> list[Any]:
    """Every pyvista plotter not closed and every visible top-level Qt widget (none if never imported)."""
    plotter_module = sys.modules.get("pyvista.plotting.plotter")
    widgets_module = sys.modules.get("PySide6.QtWidgets")
    application = widgets_module.QApplication.instance() if widgets_module else None
    if application is not None:
        application.processEvents()  # deferred deletions and close events
    plotters = list(plotter_module._ALL_PLOTTERS.values()) if plotter_module else []
    windows = [widget for widget in application.topLevelWidgets() if widget.isVisible()] if application else []
    return plotters + windows
