"""A BFM 2019-layout HDF5 and a FLAME pickle open in the explorer, sample and denoise; FLAME's jaw opens by skinning.

Run under ``xvfb-run -a``: VTK needs a GL context.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from published_models import write_bfm_h5, write_flame_pickle
from PySide6.QtCore import QSettings

from app.denoising.training import TrainingConfig, train_denoiser
from app.model.model_files import load_model
from app.model.prior_samples import prior_samples
from app.workspace import Workspace
from widgets.explorer import ExplorerWindow

pytestmark = pytest.mark.timeout(300)


def open_explorer(qtbot: Any, tmp_path: Path, model_path: Path) -> ExplorerWindow:
    """The explorer on ``model_path`` with tiny nets trained on 200 samples of its prior."""
    model = load_model(model_path)
    nets = tmp_path / "nets"
    nets.mkdir()
    for kind in ("shape", "expression"):
        config = TrainingConfig.paper(kind, epochs=1, copies=2, test_faces=20, device="cpu")
        train_denoiser(prior_samples(model, 200), config, model.provenance, nets / f"{kind}.pt", False, lambda _: None)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    explorer = ExplorerWindow(Workspace(model_path, checkpoints=nets, device="cpu"), settings)
    qtbot.addWidget(explorer)
    explorer.resize(1400, 850)
    explorer.show()
    qtbot.waitExposed(explorer)
    qtbot.waitUntil(lambda: explorer.views.frames > 0, timeout=20000)
    return explorer


@pytest.mark.parametrize("name", ["model2019_fullHead.h5", "generic_model.pkl"])
def test_opens_samples_and_denoises(qtbot, tmp_path: Path, name: str):
    path = write_bfm_h5(tmp_path / name) if name.endswith(".h5") else write_flame_pickle(tmp_path / name)
    explorer = open_explorer(qtbot, tmp_path, path)
    model = explorer.workspace.model
    assert explorer.session.networks.denoiser is not None
    assert len(explorer.live.denoised_id) == model.n_id and len(explorer.live.denoised_exp) == model.n_exp
    explorer.state.sample("both")
    explorer.refresh_now()
    assert not np.allclose(explorer.live.input_vertices, model.mean.reshape(-1, 3))
    assert not np.allclose(explorer.live.denoised_vertices, explorer.live.input_vertices)
    assert (explorer.pose_panel is not None) == name.endswith(".pkl")


def test_the_flame_jaw_opens_by_skinning(qtbot, tmp_path: Path):
    explorer = open_explorer(qtbot, tmp_path, write_flame_pickle(tmp_path / "generic_model.pkl"))
    model = explorer.workspace.model
    assert explorer.pose_panel is not None
    rest = explorer.live.input_vertices.copy()
    frames = explorer.views.frames
    explorer.pose_panel.sliders["jaw open"].setValue(25)
    qtbot.waitUntil(lambda: explorer.views.frames > frames, timeout=10000)
    moved = np.linalg.norm(explorer.live.input_vertices - rest, axis=1)
    jaw = model.skinning.weights[:, model.skinning.joint_names.index("jaw")] > 0.5
    assert moved[jaw].min() > 1000.0  # every mouth and chin vertex moves by millimetres
    # The rest of the head moves only by the pose correctives (tenths of a millimetre here), never rigidly.
    assert moved[~jaw].max() < 0.2 * moved[jaw].min()
    # Both faces are posed, and the coefficients (the denoised vectors) did not change.
    denoised_moved = np.linalg.norm(explorer.live.denoised_vertices[jaw] - rest[jaw], axis=1)
    assert denoised_moved.min() > 1000.0 and not explorer.state.alpha_exp.any()
    explorer.pose_panel.reset()
    explorer.refresh_now()
    np.testing.assert_allclose(explorer.live.input_vertices, rest, atol=0.05)
