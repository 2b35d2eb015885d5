"""The prior's checkpoint: one file per kind (``prior-shape.pt``, ``prior-expression.pt``).

One state_dict holds the censored bounds, the whitening, the diffusion network over the leading
coordinates, the Gaussian model of the rest (format 3; a format-2 file has none: its network models
every coordinate) and the corruption denoiser; a JSON-able metadata dict says what it is, the kind
and length, the sizes, the training settings, the face model (name and digest), the data, the
held-out face ids and scores. It is read like the paper's checkpoints (``torch.load(weights_only=True)``
on bytes read once and digested), and every check is one CheckpointError: another kind, another
length, another face model (the whitening and the density belong to the model they were fitted
on), a paper network's file, damaged or non-finite weights.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from app.denoising.checkpoint import KINDS, check_state, unpickle_checkpoint, write_checkpoint_file
from app.errors import CheckpointError, FaceExplorerError
from app.model.provenance import ModelProvenance
from app.prior.censoring import Censoring
from app.prior.conditional_rest import ConditionalRest
from app.prior.corruption_denoiser import CorruptionDenoiser
from app.prior.network import ScoreNetwork
from app.prior.whitening import Whitening

PRIOR_FORMAT = 3  # 2: with the censored bounds (``censoring``); 3: and the rest's model (``conditional_rest``)
READABLE_FORMATS = (2, 3)
ARTIFACT = "learned prior"
SIZES = ("diffusion_width", "diffusion_depth", "denoiser_width", "denoiser_depth")


class PriorNetworks(nn.Module):
    """Everything one kind's prior computes with: censored bounds, whitening, the diffusion network over
    the ``leading`` whitened coordinates, the rest's Gaussian (given ``anchors`` training faces; none when
    the network models all coordinates) and the corruption denoiser."""

    def __init__(self, dimension: int, sizes: dict[str, int], leading: int | None = None, anchors: int = 0) -> None:
        super().__init__()
        self.leading = dimension if leading is None else leading
        self.censoring = Censoring(dimension)
        self.whitening = Whitening(dimension)
        self.diffusion = ScoreNetwork(self.leading, sizes["diffusion_width"], sizes["diffusion_depth"])
        rest = dimension - self.leading
        self.rest = ConditionalRest(self.leading, rest, anchors) if rest else None
        self.denoiser = CorruptionDenoiser(dimension, sizes["denoiser_width"], sizes["denoiser_depth"])

    @property
    def dimension(self) -> int:
        return self.whitening.dimension

    def structure(self) -> dict[str, int]:
        """What, beside the sizes, the state_dict's shapes depend on: the leading count and the rest's anchors."""
        return {"leading": self.leading, "rest_anchors": 0 if self.rest is None else len(self.rest.anchors)}

    def coordinates(self, faces: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """(B, L) faces where the diffusion network models them (float32): each coefficient on a censored
        bound moved beyond it (spread with ``generator`` as in training, else to its interval's middle), whitened."""
        return self.whitening.whiten(self.censoring.spread(faces, generator)).float()

    def sizes(self) -> dict[str, int]:
        return {
            "diffusion_width": self.diffusion.width,
            "diffusion_depth": self.diffusion.depth,
            "denoiser_width": self.denoiser.width,
            "denoiser_depth": self.denoiser.depth,
        }


@dataclass(frozen=True)
class PriorCheckpoint:
    networks: PriorNetworks
    metadata: dict[str, Any]
    sha256: str

    @property
    def trained_on(self) -> ModelProvenance:
        return ModelProvenance.from_record(self.metadata, "prior checkpoint")


def prior_checkpoint_path(folder: str | Path, kind: str) -> Path:
    return Path(folder) / f"prior-{kind}.pt"


def save_prior_checkpoint(path: str | Path, networks: PriorNetworks, metadata: dict[str, Any]) -> None:
    """Write atomically, with the artifact name and the networks' sizes added to ``metadata``."""
    metadata = {
        **metadata,
        "artifact": ARTIFACT,
        "input_length": networks.dimension,
        **networks.sizes(),
        **networks.structure(),
    }
    write_checkpoint_file(path, PRIOR_FORMAT, networks, metadata)


def load_prior_checkpoint(path: str | Path, kind: str, input_length: int, model: ModelProvenance) -> PriorCheckpoint:
    """The ``kind`` prior for vectors of ``input_length`` coefficients of ``model``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such prior checkpoint (train one with `train prior {kind}`)")
    try:
        content = path.read_bytes()
    except OSError as failure:
        raise CheckpointError(f"{path}: cannot read it ({failure.strerror or failure})") from failure
    payload = unpickle_checkpoint(path, content)
    if not (
        isinstance(payload, dict)
        and isinstance(payload.get("state_dict"), dict)
        and isinstance(payload.get("metadata"), dict)
    ):
        raise CheckpointError(f"{path} is not a valid checkpoint file (no state_dict and metadata)")
    metadata = payload["metadata"]
    if metadata.get("artifact") != ARTIFACT:
        raise CheckpointError(f"{path} is not a learned prior's checkpoint (format {PRIOR_FORMAT})")
    if payload.get("format") not in READABLE_FORMATS:
        raise CheckpointError(
            f"{path} is a learned prior of format {payload.get('format')!r}, this version reads formats "
            f"{' and '.join(map(str, READABLE_FORMATS))} (train it again with `train prior {kind}`)"
        )
    _check_metadata(path, metadata, kind, input_length, model)
    leading, anchors = _structure(path, metadata, input_length)
    networks = PriorNetworks(input_length, {size: metadata[size] for size in SIZES}, leading, anchors)
    check_state(path, payload["state_dict"], networks.state_dict(), f"{kind} prior")
    networks.load_state_dict(payload["state_dict"])
    networks.eval()
    return PriorCheckpoint(networks, metadata, hashlib.sha256(content).hexdigest())


def _structure(path: Path, metadata: dict[str, Any], input_length: int) -> tuple[int, int]:
    """(leading coordinates, the rest's anchors); a format-2 file's network models every coordinate."""
    leading, anchors = metadata.get("leading", input_length), metadata.get("rest_anchors", 0)
    for name, value, low, high in (("leading", leading, 1, input_length), ("rest_anchors", anchors, 0, 10**7)):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise CheckpointError(f"{path}: the metadata's {name} is {value!r}, not a whole number in [{low}, {high}]")
    if (leading < input_length) != (anchors > 0):
        raise CheckpointError(f"{path}: the metadata's leading ({leading}) and rest_anchors ({anchors}) disagree")
    return leading, anchors


def _check_metadata(path: Path, metadata: dict[str, Any], kind: str, input_length: int, model: ModelProvenance) -> None:
    found_kind = metadata.get("kind")
    if found_kind not in KINDS:
        raise CheckpointError(f"{path}: the metadata names no kind (found {found_kind!r}, expected {kind!r})")
    if found_kind != kind:
        raise CheckpointError(f"{path}: this is the {found_kind} prior, not the {kind} prior")
    found_length = metadata.get("input_length")
    if found_length != input_length or isinstance(found_length, bool):
        raise CheckpointError(
            f"{path}: trained for {found_length!r} {kind} coefficients, but the model has {input_length}"
        )
    for size in SIZES:
        value = metadata.get(size)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise CheckpointError(f"{path}: the metadata's {size} is {value!r}, not a positive whole number")
    held_out = metadata.get("held_out_faces", [])
    if not (isinstance(held_out, list) and all(isinstance(face, str) for face in held_out)):
        raise CheckpointError(f"{path}: the metadata's held_out_faces is not a list of face ids")
    try:
        trained_on = ModelProvenance.from_record(metadata, str(path))
    except FaceExplorerError as problem:
        raise CheckpointError(str(problem)) from None
    if trained_on.digest is None or trained_on.digest != model.digest:
        raise CheckpointError(
            f"{path}: the {kind} prior was trained on {trained_on.describe()}, not on {model.describe()}; "
            "its whitening and density belong to that model (train one with `train prior` for this model)"
        )
