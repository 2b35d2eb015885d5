"""A BFM 2019-layout HDF5 and a FLAME-layout pickle through the whole command-line pipeline.

Each model is described by info, trains both networks on its own prior and on a small --data
folder of EMOCA/DECA-style fits, denoises a table, generates a 300W-LP dataset that loads back
as fitted data, and exports an OBJ with its 68 landmarks. Images are rendered, so run under Xvfb.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch
from published_models import bfm_arrays, flame_arrays, landmark_embedding, write_bfm_h5, write_flame_pickle

import main
from app.model import prior_samples
from app.model.model_origin import PRIOR_SOURCE_PREFIX

pytestmark = pytest.mark.timeout(600)
FAST = ["--epochs", "1", "--copies", "2", "--test-faces", "20", "--quiet"]


def bfm_with_landmarks(folder: Path) -> tuple[Path, int, int]:
    arrays = bfm_arrays()
    chosen = np.random.default_rng(4).choice(len(arrays["points"]), 68, replace=False)
    listed = [{"id": f"{i}", "coordinates": list(arrays["points"][v])} for i, v in enumerate(chosen)]
    return write_bfm_h5(folder / "model2019_fullHead.h5", arrays, landmarks=listed), 99, 100


def flame_with_landmarks(folder: Path) -> tuple[Path, int, int]:
    arrays = flame_arrays()
    faces, weights = landmark_embedding(arrays["f"], 68)
    np.save(
        folder / "landmark_embedding.npy",
        np.array({"full_lmk_faces_idx": faces[None], "full_lmk_bary_coords": weights[None]}, dtype=object),
        allow_pickle=True,
    )
    return write_flame_pickle(folder / "generic_model.pkl", arrays), 300, 100


def write_fits(folder: Path, n_id: int, n_exp: int, count: int = 60) -> Path:
    """Per-image fits as DECA writes them: fewer modes than the model (the rest are zero), .npz and .pkl."""
    rng = np.random.default_rng(7)
    folder.mkdir()
    for face in range(count):
        fit = {"shape": rng.normal(size=(1, n_id - 20)), "exp": rng.normal(size=(1, n_exp // 2)), "pose": np.zeros(6)}
        if face % 2:
            np.savez(folder / f"img{face:03d}.npz", **fit)
        else:
            (folder / f"img{face:03d}.pkl").write_bytes(pickle.dumps(fit, protocol=2))
    return folder


@pytest.mark.parametrize("make", [bfm_with_landmarks, flame_with_landmarks], ids=["bfm2019", "flame2020"])
def test_the_whole_pipeline(capsys, tmp_path: Path, make, monkeypatch):
    monkeypatch.setattr(prior_samples, "PRIOR_FACES", 400)  # the paper's 5,837 train for minutes on a busy CPU
    model_path, n_id, n_exp = make(tmp_path)
    model = ["--model", str(model_path)]
    assert main.main(["info", *model]) == 0
    out = capsys.readouterr().out
    assert f"{n_id} identity + {n_exp} expression" in out and PRIOR_SOURCE_PREFIX in out and "micrometres" in out

    prior, fitted = tmp_path / "prior-nets", tmp_path / "fitted-nets"
    prior.mkdir(), fitted.mkdir()
    data = ["--data", str(write_fits(tmp_path / "fits", n_id, n_exp))]
    for kind in ("shape", "expression"):
        assert main.main(["train", kind, *model, "--checkpoints", str(prior), *FAST]) == 0
        assert main.main(["train", kind, *model, *data, "--checkpoints", str(fitted), *FAST]) == 0
        prior_metadata = torch.load(prior / f"{kind}.pt", weights_only=True)["metadata"]
        fitted_metadata = torch.load(fitted / f"{kind}.pt", weights_only=True)["metadata"]
        assert prior_metadata["data_source"].startswith(PRIOR_SOURCE_PREFIX)
        assert str(tmp_path / "fits") in fitted_metadata["data_source"]
        assert prior_metadata["input_length"] == fitted_metadata["input_length"] == (n_id if kind == "shape" else n_exp)
    capsys.readouterr()

    nets = ["--checkpoints", str(fitted)]
    table = tmp_path / "faces.npz"
    rng = np.random.default_rng(0)
    np.savez(table, alpha_id=rng.normal(size=(3, n_id)) * 1e5, alpha_exp=rng.normal(size=(3, n_exp)))
    assert main.main(["denoise", str(table), str(tmp_path / "denoised.npz"), *model, *nets]) == 0
    with np.load(tmp_path / "denoised.npz") as result:
        assert result["alpha_id_denoised"].shape == (3, n_id) and result["alpha_exp_denoised"].shape == (3, n_exp)

    lp = tmp_path / "lp"
    generate = ["generate", str(lp), "--count", "2", "--format", "300w-lp", "--image-size", "32", "--quiet"]
    assert main.main([*generate, *model, *nets]) == 0
    mats = sorted(lp.rglob("*.mat"))
    assert mats
    record = scipy.io.loadmat(mats[0])
    assert record["Shape_Para"].shape == (n_id, 1) and record["Exp_Para"].shape == (n_exp, 1)
    assert record["pt2d"].shape == (2, 68)
    capsys.readouterr()
    assert main.main(["info", *model, "--data", str(lp), *nets]) == 0
    assert f"{len(mats)} faces loaded" in capsys.readouterr().out

    obj = tmp_path / "face.obj"
    assert main.main(["export", str(obj), "--denoised", "--landmarks", *model, *nets]) == 0
    landmarks = json.loads(obj.with_name("face.landmarks.json").read_text())
    assert len(landmarks["vertex_indices"]) == 68 and landmarks["model_name"] == str(model_path)


def test_checkpoints_for_another_length_are_refused_in_one_line(capsys, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(prior_samples, "PRIOR_FACES", 400)
    bfm, _, _ = bfm_with_landmarks(tmp_path)
    flame, _, _ = flame_with_landmarks(tmp_path)
    nets = tmp_path / "bfm-nets"
    nets.mkdir()
    for kind in ("shape", "expression"):
        assert main.main(["train", kind, "--model", str(bfm), "--checkpoints", str(nets), *FAST]) == 0
    capsys.readouterr()
    status = main.main(
        ["export", str(tmp_path / "x.obj"), "--denoised", "--model", str(flame), "--checkpoints", str(nets)]
    )
    err = capsys.readouterr().err
    assert status == 2 and "trained for 99 shape coefficients, but the model has 300" in err
    assert len(err.strip().splitlines()) == 1
