"""Training with the paper's recipe on a small embedded corpus: it learns, records, survives Ctrl-C."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from app.denoising.checkpoint import load_checkpoint
from app.denoising.corruption import corrupt
from app.denoising.network import apply_in_batches
from app.denoising.training import TrainingConfig, train_denoiser
from app.errors import ExportError
from app.model.embedded_corpus import embedded_corpus
from app.model.fitted_params import split_by_face, split_by_ids
from app.model.provenance import ModelProvenance

MODEL = ModelProvenance("test model", "cd" * 32)


def quiet_train(data, config, output):
    lines: list[str] = []
    metadata = train_denoiser(data, config, MODEL, output, show_progress=False, log=lines.append)
    return metadata, lines


def test_paper_settings():
    shape = TrainingConfig.paper("shape")
    expression = TrainingConfig.paper("expression", epochs=3)
    assert (shape.sigma, shape.copies, shape.normalisation) == (5e5, 100, 1e5)
    assert (expression.sigma, expression.copies, expression.normalisation, expression.epochs) == (2.0, 50, 1.0, 3)
    assert (shape.epochs, shape.batch_size, shape.learning_rate) == (10, 128, 1e-3)


def test_the_held_out_error_is_measured_once_per_epoch(tmp_path, monkeypatch):
    import app.denoising.training as training

    measured = []
    measure = training._test_mse
    monkeypatch.setattr(training, "_test_mse", lambda *args: measured.append(1) or measure(*args))
    config = TrainingConfig.paper("expression", epochs=3, copies=2, test_faces=20, device="cpu")
    quiet_train(embedded_corpus(80, seed=2), config, tmp_path / "expression.pt")
    assert len(measured) == 3


def test_short_run_lowers_the_held_out_error_and_records_everything(tmp_path):
    data = embedded_corpus(300, seed=5)
    config = TrainingConfig.paper("expression", epochs=2, copies=10, test_faces=40, device="cpu")
    output = tmp_path / "expression.pt"
    metadata, lines = quiet_train(data, config, output)

    assert metadata["test_mse_noisy"] == pytest.approx(config.sigma**2 * 15 / 29, rel=0.25)  # E[n]/L · σ²
    assert metadata["test_mse_denoised"] < metadata["test_mse_noisy"] / 4, metadata
    history = metadata["history"]
    assert [h["epoch"] for h in history] == [1, 2]
    assert history[-1]["test_mse"] == metadata["test_mse_denoised"]
    assert history[1]["train_loss"] < history[0]["train_loss"]
    assert metadata["train_faces"] == 260 and metadata["test_faces"] == 40
    assert metadata["train_pairs"] == 2600 and metadata["test_pairs"] == 400
    assert metadata["epochs_completed"] == 2 and metadata["interrupted"] is False
    assert metadata["parameter_count"] == 16_353 and metadata["input_length"] == 29
    assert any("epoch 2" in line for line in lines)

    # The file holds the same metadata (JSON-able) and the weights that earned that test MSE.
    checkpoint = load_checkpoint(output, "expression", 29)
    net, loaded = checkpoint.net, checkpoint.metadata
    assert loaded == json.loads(json.dumps(metadata))
    for key, value in {
        "kind": "expression",
        "sigma": 2.0,
        "copies": 10,
        "normalisation": 1.0,
        "epochs": 2,
        "model_name": "test model",
        "model_digest": "cd" * 32,
        "data_source": data.source,
    }.items():
        assert loaded[key] == value, key

    # On faces from another corpus seed (never seen), the loaded net still removes most noise.
    fresh = embedded_corpus(200, seed=99).expression.astype(np.float32)
    noisy = corrupt(fresh, 2.0, np.random.default_rng(0))
    output_vectors = apply_in_batches(net, torch.from_numpy(noisy)).numpy()
    assert np.mean((output_vectors - fresh) ** 2) < np.mean((noisy - fresh) ** 2) / 4


def test_the_checkpoint_lists_its_held_out_faces_so_other_weights_can_be_scored_on_them(tmp_path):
    data = embedded_corpus(80, seed=3)
    config = TrainingConfig.paper("expression", epochs=1, copies=2, test_faces=15, seed=4, device="cpu")
    metadata, _ = quiet_train(data, config, tmp_path / "expression.pt")
    _, expected_test = split_by_face(data, 15, np.random.default_rng(4))  # training's own split
    assert metadata["held_out_faces"] == expected_test.face_ids and len(expected_test.face_ids) == 15
    train, test = split_by_ids(data, metadata["held_out_faces"])
    np.testing.assert_array_equal(test.expression, expected_test.expression)
    assert len(train) == 65 and not set(train.face_ids) & set(test.face_ids)


def test_shape_training_stores_the_normalisation(tmp_path):
    data = embedded_corpus(120, seed=6)
    config = TrainingConfig.paper("shape", epochs=1, copies=2, test_faces=20, device="cpu")
    metadata, _ = quiet_train(data, config, tmp_path / "shape.pt")
    loaded = load_checkpoint(tmp_path / "shape.pt", "shape", 199).metadata
    assert loaded["normalisation"] == 1e5 and loaded["sigma"] == 5e5 and loaded["input_length"] == 199
    # The MSEs are in normalised units: σ/1e5 = 5, so the noisy input is ≈ 25 · 100/199.
    assert metadata["test_mse_noisy"] == pytest.approx(25 * 100 / 199, rel=0.25)
    assert metadata["test_mse_denoised"] < metadata["test_mse_noisy"]


def test_same_seed_same_weights(tmp_path):
    data = embedded_corpus(60, seed=7)
    config = TrainingConfig.paper("expression", epochs=1, copies=2, test_faces=10, device="cpu")
    first, _ = quiet_train(data, config, tmp_path / "a.pt")
    again, _ = quiet_train(data, config, tmp_path / "b.pt")
    # Close rather than bitwise: threaded CPU reductions may sum in another order.
    assert first["test_mse_denoised"] == pytest.approx(again["test_mse_denoised"], rel=1e-4)
    net_a = load_checkpoint(tmp_path / "a.pt", "expression", 29).net
    net_b = load_checkpoint(tmp_path / "b.pt", "expression", 29).net
    for (name, a), b in zip(net_a.state_dict().items(), net_b.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6, msg=name)
    other, _ = quiet_train(
        data,
        TrainingConfig.paper("expression", epochs=1, copies=2, test_faces=10, device="cpu", seed=1),
        tmp_path / "c.pt",
    )
    assert other["test_mse_denoised"] != pytest.approx(first["test_mse_denoised"], rel=1e-3)


def test_ctrl_c_mid_epoch_leaves_a_loadable_checkpoint(tmp_path, monkeypatch):
    data = embedded_corpus(100, seed=8)
    config = TrainingConfig.paper("expression", epochs=3, copies=4, batch_size=32, test_faces=20, device="cpu")
    steps_per_epoch = -(-80 * 4 // 32)  # 10
    real_step = torch.optim.Adam.step
    calls = {"n": 0}

    def step_then_interrupt(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == steps_per_epoch + 4:  # in the middle of the second epoch
            raise KeyboardInterrupt
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", step_then_interrupt)
    output = tmp_path / "expression.pt"
    with pytest.raises(KeyboardInterrupt):
        quiet_train(data, config, output)
    checkpoint = load_checkpoint(output, "expression", 29)
    net, metadata = checkpoint.net, checkpoint.metadata
    assert metadata["interrupted"] is True
    assert metadata["epochs_completed"] == 1 and len(metadata["history"]) == 1
    assert np.isfinite(metadata["test_mse_denoised"])
    assert net(torch.zeros(1, 1, 29)).shape == (1, 1, 29)
    assert not list(tmp_path.glob(".*part*")), "a temporary file was left behind"


def test_ctrl_c_in_the_first_epoch_still_writes_weights(tmp_path, monkeypatch):
    data = embedded_corpus(60, seed=9)
    config = TrainingConfig.paper("expression", epochs=2, copies=2, test_faces=10, device="cpu")

    def interrupt(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(torch.optim.Adam, "step", interrupt)
    with pytest.raises(KeyboardInterrupt):
        quiet_train(data, config, tmp_path / "expression.pt")
    metadata = load_checkpoint(tmp_path / "expression.pt", "expression", 29).metadata
    assert metadata["interrupted"] is True and metadata["epochs_completed"] == 0 and metadata["history"] == []


def test_unwritable_output_fails_before_any_training(tmp_path, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("training started although the checkpoint cannot be written")

    monkeypatch.setattr("app.denoising.training.make_noisy_pairs", no_training)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    config = TrainingConfig.paper("expression", epochs=1, copies=1, test_faces=5)
    with pytest.raises(ExportError, match=r"e\.pt"):
        train_denoiser(embedded_corpus(30), config, MODEL, blocker / "e.pt", show_progress=False)
