"""Checkpoints: state_dict + JSON metadata, loaded with weights_only from the bytes that are
digested, refused for the wrong net, for non-finite weights and for unusable metadata, and every
refusal is one line of our own (no torch text, no torch warning, no unsafe advice)."""

from __future__ import annotations

import hashlib
import pickle
import warnings

import pytest
import torch

from app.denoising.checkpoint import checkpoint_path, describe_training, load_checkpoint, save_checkpoint
from app.denoising.network import AutoEncoder4
from app.errors import CheckpointError
from app.model.provenance import ModelProvenance

DIGEST = "ab" * 32


def metadata_for(kind: str, length: int, **extra) -> dict:
    return {
        "kind": kind,
        "input_length": length,
        "normalisation": 1e5 if kind == "shape" else 1.0,
        "sigma": 5e5 if kind == "shape" else 2.0,
        "copies": 3,
        "history": [{"epoch": 1, "test_mse": 0.5}],
        "model_name": "test model",
        "model_digest": DIGEST,
        **extra,
    }


def write_raw(path, metadata: dict, state: dict | None = None) -> None:
    """A checkpoint written around save_checkpoint's checks, as a damaged or hand-made file would be."""
    state = AutoEncoder4(29).state_dict() if state is None else state
    torch.save({"format": 1, "metadata": metadata, "state_dict": state}, path)


def load_error(path, kind: str = "expression", length: int = 29) -> str:
    """The message of the CheckpointError loading ``path`` gives, checking no warning escapes."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(CheckpointError) as excinfo:
            load_checkpoint(path, kind, length)
    message = str(excinfo.value)
    for torch_text in ("\n", "weights_only", "Weights only load failed", "PytorchStreamReader", "enforce fail"):
        assert torch_text not in message, message
    return message


def test_save_and_load_keep_weights_metadata_and_digest_the_loaded_bytes(tmp_path):
    torch.manual_seed(0)
    net = AutoEncoder4(29)
    metadata = metadata_for("expression", 29, data_source="unit test", note="ünïcode")
    path = tmp_path / "expression.pt"
    save_checkpoint(path, net, metadata)
    loaded = load_checkpoint(path, "expression", 29)
    assert loaded.metadata == metadata
    assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert loaded.trained_on == ModelProvenance("test model", DIGEST)
    assert not loaded.net.training  # ready for inference
    for (name, a), b in zip(net.state_dict().items(), loaded.net.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    payload = torch.load(path, weights_only=True)  # plain tensors and JSON types only
    assert set(payload) == {"format", "metadata", "state_dict"}


def test_metadata_that_is_not_json_is_refused_before_writing(tmp_path):
    path = tmp_path / "shape.pt"
    with pytest.raises(TypeError):
        save_checkpoint(path, AutoEncoder4(199), metadata_for("shape", 199, when=object()))
    assert not path.exists()


def test_trained_checkpoints_round_trip(tiny_checkpoints):
    for kind, length, sigma, normalisation in (("shape", 199, 5e5, 1e5), ("expression", 29, 2.0, 1.0)):
        metadata = load_checkpoint(checkpoint_path(tiny_checkpoints, kind), kind, length).metadata
        assert metadata["kind"] == kind and metadata["input_length"] == length
        assert metadata["sigma"] == sigma and metadata["normalisation"] == normalisation
        assert metadata["copies"] == 2 and metadata["epochs"] == 1 and metadata["epochs_completed"] == 1
        assert len(metadata["history"]) == 1 and metadata["interrupted"] is False
        assert metadata["test_mse_denoised"] < metadata["test_mse_noisy"]
        assert len(metadata["held_out_faces"]) == 20 and len(set(metadata["held_out_faces"])) == 20


def test_a_legacy_checkpoint_with_only_a_model_name_loads_without_a_digest(tmp_path):
    path = tmp_path / "expression.pt"
    metadata = {k: v for k, v in metadata_for("expression", 29).items() if k not in ("model_name", "model_digest")}
    write_raw(path, {**metadata, "model_identity": "embedded:v1"})
    assert load_checkpoint(path, "expression", 29).trained_on == ModelProvenance("embedded:v1", None)


def test_expression_weights_for_the_shape_net_are_refused(tiny_checkpoints):
    with pytest.raises(CheckpointError, match="expression network's checkpoint, not the shape") as excinfo:
        load_checkpoint(checkpoint_path(tiny_checkpoints, "expression"), "shape", 199)
    assert "expression.pt" in str(excinfo.value)
    with pytest.raises(CheckpointError, match="shape network's checkpoint, not the expression"):
        load_checkpoint(checkpoint_path(tiny_checkpoints, "shape"), "expression", 29)


def test_length_mismatch_is_refused(tiny_checkpoints):
    with pytest.raises(CheckpointError, match="trained for 199 shape coefficients, but the model has 150"):
        load_checkpoint(checkpoint_path(tiny_checkpoints, "shape"), "shape", 150)


def test_weights_that_do_not_fit_are_refused_in_one_line(tmp_path):
    """Metadata claims the expression net, but the tensors are another architecture's."""
    path = tmp_path / "expression.pt"
    state = AutoEncoder4(29).state_dict()
    state["encoder.0.weight"] = torch.zeros(4, 1, 5)
    write_raw(path, metadata_for("expression", 29), state)
    assert "do not fit the expression network (encoder.0.weight has shape (4, 1, 5), expected (8, 1, 3))" in load_error(
        path
    )
    del state["encoder.0.weight"]
    write_raw(path, metadata_for("expression", 29), state)
    assert "encoder.0.weight is missing" in load_error(path)
    write_raw(path, metadata_for("expression", 29), {**AutoEncoder4(29).state_dict(), "extra.bias": torch.zeros(2)})
    assert "unexpected extra.bias" in load_error(path)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_weights_are_refused(tmp_path, value):
    """A diverged run's NaN weights would turn every face into NaN: refused at load."""
    path = tmp_path / "expression.pt"
    state = AutoEncoder4(29).state_dict()
    state["decoder.2.bias"][0] = value
    write_raw(path, metadata_for("expression", 29), state)
    message = load_error(path)
    assert message == (
        f"{path}: the expression network's weights contain NaN or infinite values (decoder.2.bias); "
        "the training diverged or the file is damaged"
    )


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"normalisation": None}, "normalisation is None, not a positive number"),
        ({"sigma": None}, "sigma is None, not a positive number"),
        ({"sigma": "2"}, "sigma is '2', not a positive number"),
        ({"sigma": True}, "sigma is True, not a positive number"),
        ({"normalisation": 0.0}, "normalisation is 0.0, not a positive number"),
        ({"normalisation": float("nan")}, "normalisation is nan, not a positive number"),
        ({"input_length": "29"}, "input_length is '29', not a whole number"),
        ({"input_length": 29.0}, "input_length is 29.0, not a whole number"),
        ({"kind": None}, "names no network kind"),
        ({"kind": ["expression"]}, "names no network kind"),
        ({"held_out_faces": "0 1 2"}, "held_out_faces is not a list of face ids"),
        ({"held_out_faces": [0, 1]}, "held_out_faces is not a list of face ids"),
        ({"model_digest": "abc"}, "the recorded face model is damaged"),
        ({"model_digest": None}, "the recorded face model is damaged"),
    ],
)
def test_unusable_metadata_is_one_clear_error(tmp_path, change, words):
    path = tmp_path / "expression.pt"
    write_raw(path, {**metadata_for("expression", 29), **change})
    assert words in load_error(path)


def test_missing_normalisation_is_one_clear_error(tmp_path):
    path = tmp_path / "expression.pt"
    metadata = metadata_for("expression", 29)
    del metadata["normalisation"]
    write_raw(path, metadata)
    assert load_error(path) == f"{path}: the metadata has no normalisation"


@pytest.mark.parametrize(
    ("write", "reason"),
    [
        (
            lambda p: p.write_bytes(b"\x00garbage bytes, not a torch file" * 10),
            "damaged, truncated or not a PyTorch file",
        ),
        (lambda p: p.write_bytes(b""), "it is empty"),
        (lambda p: p.write_text("just some text\n"), "damaged, truncated or not a PyTorch file"),
        (lambda p: torch.save({"weights": torch.zeros(3)}, p), "no format 1 state_dict and metadata"),
        (lambda p: torch.save([1, 2, 3], p), "no format 1 state_dict and metadata"),
        (
            lambda p: torch.save({"format": 1, "metadata": ["not", "a", "dict"], "state_dict": {}}, p),
            "no format 1 state_dict and metadata",
        ),
        (
            lambda p: torch.save({"format": 2, "metadata": {}, "state_dict": {}}, p),
            "no format 1 state_dict and metadata",
        ),
        # weights_only must refuse arbitrary objects, and the message must not advise otherwise
        (lambda p: p.write_bytes(pickle.dumps(print, protocol=2)), "it holds Python objects other than tensors"),
    ],
    ids=["garbage", "empty", "text", "no-metadata", "list", "metadata-not-dict", "other-format", "pickled-callable"],
)
def test_files_that_are_not_checkpoints_are_named_as_such(tmp_path, write, reason):
    path = tmp_path / "shape.pt"
    write(path)
    message = load_error(path, "shape", 199)
    assert message.startswith(f"{path} is not a valid checkpoint file (") and reason in message


def test_truncated_checkpoint(tiny_checkpoints, tmp_path):
    data = checkpoint_path(tiny_checkpoints, "shape").read_bytes()
    path = tmp_path / "shape.pt"
    path.write_bytes(data[: len(data) // 2])
    assert (
        load_error(path, "shape", 199)
        == f"{path} is not a valid checkpoint file (damaged, truncated or not a PyTorch file)"
    )


def test_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "shape.pt", "shape", 199)


def test_description_uses_only_what_the_metadata_holds():
    metadata = {
        **metadata_for("expression", 29),
        "data_source": "corpus",
        "epochs_completed": 4,
        "test_mse_noisy": 2.0,
        "test_mse_denoised": 0.1,
        "held_out_faces": ["a", "b"],
    }
    assert describe_training(metadata) == (
        f"trained on test model [{DIGEST[:12]}] / corpus; σ=2; 3 copies; 4 epochs; "
        "test MSE noisy 2.000 → denoised 0.100; 2 held-out rows recorded"
    )
    bare = {"kind": "expression", "input_length": 29, "normalisation": 1.0, "sigma": 2.0, "model_identity": "old"}
    assert describe_training(bare) == "trained on old [no digest] / unrecorded data; σ=2"
