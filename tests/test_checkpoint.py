"""Checkpoints: state_dict + JSON metadata, loaded with weights_only, refused for the wrong net."""

from __future__ import annotations

import pickle

import pytest
import torch

from app.denoising.checkpoint import checkpoint_path, load_checkpoint, save_checkpoint
from app.denoising.network import AutoEncoder4
from app.errors import CheckpointError


def metadata_for(kind: str, length: int, **extra) -> dict:
    return {"kind": kind, "input_length": length, "normalisation": 1e5 if kind == "shape" else 1.0,
            "sigma": 5e5 if kind == "shape" else 2.0, "copies": 3, "history": [{"epoch": 1, "test_mse": 0.5}], **extra}


@pytest.fixture(scope="module")
def trained(tiny_checkpoints):
    return tiny_checkpoints


def test_save_and_load_keep_weights_and_metadata(tmp_path):
    torch.manual_seed(0)
    net = AutoEncoder4(29)
    metadata = metadata_for("expression", 29, data_source="unit test", note="ünïcode")
    path = tmp_path / "expression.pt"
    save_checkpoint(path, net, metadata)
    loaded, loaded_metadata = load_checkpoint(path, "expression", 29)
    assert loaded_metadata == metadata
    assert not loaded.training  # ready for inference
    for (name, a), b in zip(net.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(a, b), name
    payload = torch.load(path, weights_only=True)  # plain tensors and JSON types only
    assert set(payload) == {"format", "metadata", "state_dict"}


def test_metadata_that_is_not_json_is_refused_before_writing(tmp_path):
    path = tmp_path / "shape.pt"
    with pytest.raises(TypeError):
        save_checkpoint(path, AutoEncoder4(199), metadata_for("shape", 199, when=object()))
    assert not path.exists()


def test_trained_checkpoints_round_trip(trained):
    for kind, length, sigma, normalisation in (("shape", 199, 5e5, 1e5), ("expression", 29, 2.0, 1.0)):
        _, metadata = load_checkpoint(checkpoint_path(trained, kind), kind, length)
        assert metadata["kind"] == kind and metadata["input_length"] == length
        assert metadata["sigma"] == sigma and metadata["normalisation"] == normalisation
        assert metadata["copies"] == 2 and metadata["epochs"] == 1 and metadata["epochs_completed"] == 1
        assert len(metadata["history"]) == 1 and metadata["interrupted"] is False
        assert metadata["test_mse_denoised"] < metadata["test_mse_noisy"]


def test_expression_weights_for_the_shape_net_are_refused(trained):
    with pytest.raises(CheckpointError, match="expression network's checkpoint, not the shape") as excinfo:
        load_checkpoint(checkpoint_path(trained, "expression"), "shape", 199)
    assert "expression.pt" in str(excinfo.value)
    with pytest.raises(CheckpointError, match="shape network's checkpoint, not the expression"):
        load_checkpoint(checkpoint_path(trained, "shape"), "expression", 29)


def test_length_mismatch_is_refused(trained):
    with pytest.raises(CheckpointError, match="trained for 199 shape coefficients, but the model has 150"):
        load_checkpoint(checkpoint_path(trained, "shape"), "shape", 150)


def test_weights_that_do_not_fit_are_refused(tmp_path):
    """Metadata claims the expression net, but the tensors are another architecture's."""
    path = tmp_path / "expression.pt"
    state = AutoEncoder4(29).state_dict()
    state["encoder.0.weight"] = torch.zeros(4, 1, 5)
    torch.save({"format": 1, "metadata": metadata_for("expression", 29), "state_dict": state}, path)
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(path, "expression", 29)


@pytest.mark.parametrize(
    "write",
    [
        lambda p: p.write_bytes(b"\x00garbage bytes, not a torch file" * 10),
        lambda p: p.write_bytes(b""),
        lambda p: torch.save({"weights": torch.zeros(3)}, p),
        lambda p: torch.save([1, 2, 3], p),
        lambda p: torch.save({"metadata": ["not", "a", "dict"], "state_dict": {}}, p),
        lambda p: p.write_bytes(pickle.dumps(print, protocol=2)),  # weights_only must refuse arbitrary objects
    ],
    ids=["garbage", "empty", "no-metadata", "list", "metadata-not-dict", "pickled-callable"],
)
def test_unusable_files_are_checkpoint_errors(tmp_path, write):
    path = tmp_path / "shape.pt"
    write(path)
    with pytest.raises(CheckpointError) as excinfo:
        load_checkpoint(path, "shape", 199)
    assert str(path) in str(excinfo.value)


def test_truncated_checkpoint(trained, tmp_path):
    data = checkpoint_path(trained, "shape").read_bytes()
    path = tmp_path / "shape.pt"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(path, "shape", 199)


def test_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "shape.pt", "shape", 199)
