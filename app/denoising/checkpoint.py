"""Network checkpoints: a state_dict plus a JSON-able metadata dict.

The metadata says which network it is (kind, input length), how inputs are normalised, how the
net was trained (σ, copies, epochs …), on what data, and how well it did; loading uses
``torch.load(weights_only=True)`` so a checkpoint can never execute code.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch

from app.atomic_files import atomic_output
from app.denoising.network import AutoEncoder4
from app.errors import CheckpointError

CHECKPOINT_FORMAT = 1
KINDS = ("shape", "expression")


def checkpoint_path(folder: str | Path, kind: str) -> Path:
    return Path(folder) / f"{kind}.pt"


def checkpoint_digests(folder: str | Path) -> dict[str, str]:
    """kind → sha256 of that network's checkpoint file: which weights made a dataset or study."""
    digests = {}
    for kind in KINDS:
        path = checkpoint_path(folder, kind)
        try:
            with open(path, "rb") as handle:
                digests[kind] = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as failure:
            raise CheckpointError(f"{path}: cannot read it to identify the weights ({failure.strerror})") from failure
    return digests


def save_checkpoint(path: str | Path, net: AutoEncoder4, metadata: dict[str, Any]) -> None:
    """Write atomically; refuses metadata that would not survive a JSON round-trip."""
    json.dumps(metadata)  # fails loudly now rather than at load time
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    with atomic_output(path) as temp:
        torch.save({"format": CHECKPOINT_FORMAT, "metadata": metadata, "state_dict": state}, temp)


def load_checkpoint(path: str | Path, kind: str, input_length: int) -> tuple[AutoEncoder4, dict[str, Any]]:
    """Load the ``kind`` network for vectors of ``input_length``, with its metadata."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as failure:  # pickle, zip and torch errors all mean "not a checkpoint"
        raise CheckpointError(f"{path}: not a readable checkpoint ({failure})") from failure
    if not (isinstance(payload, dict) and isinstance(payload.get("state_dict"), dict)
            and isinstance(payload.get("metadata"), dict)):
        raise CheckpointError(f"{path}: not a Face Manifold Explorer checkpoint (no state_dict/metadata)")
    metadata = payload["metadata"]
    found_kind = metadata.get("kind")
    if found_kind != kind:
        raise CheckpointError(f"{path}: this is the {found_kind} network's checkpoint, not the {kind} network's")
    found_length = metadata.get("input_length")
    if found_length != input_length:
        raise CheckpointError(
            f"{path}: trained for {found_length} {kind} coefficients, but the model has {input_length}"
        )
    net = AutoEncoder4(input_length)
    try:
        net.load_state_dict(payload["state_dict"])
    except RuntimeError as failure:
        raise CheckpointError(f"{path}: weights do not fit the {kind} network ({failure})") from failure
    net.eval()
    return net, metadata
