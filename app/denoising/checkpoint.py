"""Network checkpoints: a state_dict plus a JSON-able metadata dict.

The metadata says which network it is (kind, input length), how inputs are normalised, how the
net was trained (σ, copies, epochs …), on which face model (name and digest) and data, which
faces it held out, and how well it did. Loading reads the file's bytes once, digests them and
unpickles those same bytes with ``torch.load(weights_only=True)``, so a checkpoint can never
execute code and the digest names exactly the weights in use. Everything a checkpoint must
have is checked at load, so a damaged or hand-edited file is one clear error, never NaN faces.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import pickle
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from app.atomic_files import atomic_output
from app.denoising.network import AutoEncoder4
from app.errors import CheckpointError, FaceExplorerError
from app.model.morphable_model import CoefficientKind
from app.model.provenance import ModelProvenance

CHECKPOINT_FORMAT = 1
KINDS: tuple[CoefficientKind, ...] = ("shape", "expression")


@dataclass(frozen=True)
class Checkpoint:
    """A loaded network, its metadata and the sha256 of the file bytes it was loaded from."""

    net: AutoEncoder4
    metadata: dict[str, Any]
    sha256: str

    @property
    def trained_on(self) -> ModelProvenance:
        """The face model the net was trained on, as recorded (no digest in older checkpoints)."""
        return ModelProvenance.from_record(self.metadata, "checkpoint")


def checkpoint_path(folder: str | Path, kind: str) -> Path:
    return Path(folder) / f"{kind}.pt"


def save_checkpoint(path: str | Path, net: AutoEncoder4, metadata: dict[str, Any]) -> None:
    """Write atomically; refuses metadata that would not survive a JSON round-trip."""
    write_checkpoint_file(path, CHECKPOINT_FORMAT, net, metadata)


def write_checkpoint_file(path: str | Path, file_format: int, net: torch.nn.Module, metadata: dict[str, Any]) -> None:
    """A state_dict (on the CPU) and JSON-able metadata, written atomically; any checkpoint of the product."""
    json.dumps(metadata)  # fails loudly now rather than at load time
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    with atomic_output(path) as temp:
        torch.save({"format": file_format, "metadata": metadata, "state_dict": state}, temp)


def load_checkpoint(path: str | Path, kind: str, input_length: int) -> Checkpoint:
    """Load the ``kind`` network for vectors of ``input_length``, with its metadata and digest."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        content = path.read_bytes()
    except OSError as failure:
        raise CheckpointError(f"{path}: cannot read it ({failure.strerror or failure})") from failure
    payload = unpickle_checkpoint(path, content)
    if isinstance(payload, dict) and isinstance(payload.get("metadata"), dict):
        _refuse_a_prior(path, payload["metadata"])  # whatever its format
    if not (
        isinstance(payload, dict)
        and payload.get("format") == CHECKPOINT_FORMAT
        and isinstance(payload.get("state_dict"), dict)
        and isinstance(payload.get("metadata"), dict)
    ):
        raise CheckpointError(
            f"{path} is not a valid checkpoint file (no format {CHECKPOINT_FORMAT} state_dict and metadata)"
        )
    metadata = payload["metadata"]
    _check_metadata(path, metadata, kind, input_length)
    net = AutoEncoder4(input_length)
    check_state(path, payload["state_dict"], net.state_dict(), kind)
    net.load_state_dict(payload["state_dict"])
    net.eval()
    return Checkpoint(net, metadata, hashlib.sha256(content).hexdigest())


def describe_training(metadata: dict[str, Any]) -> str:
    """One line on how a net was trained and how well it did, from whatever its metadata holds."""
    try:
        model = ModelProvenance.from_record(metadata, "checkpoint").describe()
    except FaceExplorerError:
        model = "an unreadable model record"
    parts = [f"trained on {model} / {metadata.get('data_source', 'unrecorded data')}", f"σ={metadata['sigma']:g}"]
    for key, unit in (("copies", "copies"), ("epochs_completed", "epochs")):
        if _is_number(metadata.get(key)):
            parts.append(f"{metadata[key]} {unit}")
    if _is_number(metadata.get("test_mse_noisy")) and _is_number(metadata.get("test_mse_denoised")):
        parts.append(f"test MSE noisy {metadata['test_mse_noisy']:.3f} → denoised {metadata['test_mse_denoised']:.3f}")
    if metadata.get("held_out_faces"):
        parts.append(f"{len(metadata['held_out_faces'])} held-out rows recorded")
    return "; ".join(parts)


def unpickle_checkpoint(path: Path, content: bytes) -> Any:
    """The tensors and plain values in a checkpoint's bytes; anything else is one CheckpointError naming ``path``."""
    if not content:
        raise CheckpointError(f"{path} is not a valid checkpoint file (it is empty)")
    try:
        # torch's messages and warnings describe torch, not the file, and some advise the unsafe
        # weights_only=False: none of it reaches the user.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(io.BytesIO(content), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as failure:
        if "Unsupported global" in str(failure):
            raise CheckpointError(
                f"{path} is not a valid checkpoint file "
                "(it holds Python objects other than tensors, which are never loaded)"
            ) from None
        raise CheckpointError(
            f"{path} is not a valid checkpoint file (damaged, truncated or not a PyTorch file)"
        ) from None
    except Exception:  # zip, EOF, key and runtime errors from torch's reader all mean the same
        raise CheckpointError(
            f"{path} is not a valid checkpoint file (damaged, truncated or not a PyTorch file)"
        ) from None


def _refuse_a_prior(path: Path, metadata: dict[str, Any]) -> None:
    if metadata.get("artifact") == "learned prior":
        raise CheckpointError(f"{path} is a learned prior's checkpoint, not one of the paper's networks")


def _check_metadata(path: Path, metadata: dict[str, Any], kind: str, input_length: int) -> None:
    found_kind = metadata.get("kind")
    if found_kind not in KINDS:
        raise CheckpointError(f"{path}: the metadata names no network kind (found {found_kind!r}, expected {kind!r})")
    if found_kind != kind:
        raise CheckpointError(f"{path}: this is the {found_kind} network's checkpoint, not the {kind} network's")
    found_length = metadata.get("input_length")
    if isinstance(found_length, bool) or not isinstance(found_length, int):
        raise CheckpointError(f"{path}: the metadata's input_length is {found_length!r}, not a whole number")
    if found_length != input_length:
        raise CheckpointError(
            f"{path}: trained for {found_length} {kind} coefficients, but the model has {input_length}"
        )
    for key in ("normalisation", "sigma"):
        if key not in metadata:
            raise CheckpointError(f"{path}: the metadata has no {key}")
        value = metadata[key]
        if not (_is_number(value) and math.isfinite(value) and value > 0):
            raise CheckpointError(f"{path}: the metadata's {key} is {value!r}, not a positive number")
    held_out = metadata.get("held_out_faces", [])
    if not (isinstance(held_out, list) and all(isinstance(face, str) for face in held_out)):
        raise CheckpointError(f"{path}: the metadata's held_out_faces is not a list of face ids")
    try:
        ModelProvenance.from_record(metadata, str(path))
    except FaceExplorerError as problem:
        raise CheckpointError(str(problem)) from None


def check_state(path: Path, state: dict[str, Any], expected: dict[str, torch.Tensor], kind: str) -> None:
    """The tensors must be exactly the ``kind`` network's, and every weight a finite number."""
    for name, reference in expected.items():
        tensor = state.get(name)
        if not isinstance(tensor, torch.Tensor):
            raise CheckpointError(f"{path}: weights do not fit the {kind} network ({name} is missing)")
        if tensor.shape != reference.shape:
            raise CheckpointError(
                f"{path}: weights do not fit the {kind} network ({name} has shape {tuple(tensor.shape)}, "
                f"expected {tuple(reference.shape)})"
            )
        if not torch.isfinite(tensor).all():
            raise CheckpointError(
                f"{path}: the {kind} network's weights contain NaN or infinite values ({name}); "
                "the training diverged or the file is damaged"
            )
    unexpected = sorted(set(state) - set(expected))
    if unexpected:
        raise CheckpointError(f"{path}: weights do not fit the {kind} network (unexpected {unexpected[0]})")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
