"""A reliability study: which faces raters judge, generated once from a seed, shown blind.

The paper's reliability figure comes from people judging generated faces: a face counts as
non-possible if at least one rater rejects it. A study compares conditions:

- ``denoised``: uniform samples (ranges r_shape / r_exp) pulled back by the two networks,
- ``uniform-raw``: the very same uniform samples, not denoised,
- ``normal``: normal sampling N(0, EV²),
- ``dataset``: clean fitted coefficients of the loaded corpus.

``varies`` says which part of the face changes (shape, expression or both); the other part
stays at the mean, so raters judge only what the study is about. The face list is generated
once and stored in the study database, so every rater sees exactly the same faces; each rater
gets their own seeded order, and face ids are assigned after a shuffle so that neither the id
nor the position in the list reveals the condition.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import asdict, dataclass

import numpy as np

from app.denoising.denoiser import Denoiser
from app.errors import FaceExplorerError
from app.model.fitted_params import FittedParameters
from app.model.morphable_model import MorphableModel
from app.model.sampling import PAPER_RANGE, sample_coefficients
from app.seeds import check_seed

CONDITIONS: tuple[str, ...] = ("denoised", "uniform-raw", "normal", "dataset")
VARIED_PARTS: tuple[str, ...] = ("shape", "expression", "both")
VIEWS: tuple[str, ...] = ("front-side", "rotating")
MAX_RATER_ID_LENGTH = 64

# Separate random streams per purpose: adding or removing a condition never changes the
# faces of the others, and denoised / uniform-raw share one stream (the same samples).
_UNIFORM_STREAM, _NORMAL_STREAM, _DATASET_STREAM, _ID_STREAM = 1, 2, 3, 4


@dataclass(frozen=True)
class StudyDefinition:
    """What a study file (JSON) says: how many faces, which conditions, seed, what raters see."""

    name: str = "reliability study"
    faces_per_condition: int = 50
    conditions: tuple[str, ...] = ("denoised", "uniform-raw")
    varies: str = "both"
    seed: int = 0
    r_shape: float = PAPER_RANGE["shape"]
    r_exp: float = PAPER_RANGE["expression"]
    allow_unsure: bool = True
    view: str = "front-side"
    instructions: str = "Could this be a real person's face? Accept if it could, reject if it could not."

    def __post_init__(self) -> None:
        object.__setattr__(self, "conditions", tuple(self.conditions))
        if not isinstance(self.name, str) or not self.name.strip():
            raise FaceExplorerError("study name must be a non-empty text")
        if isinstance(self.faces_per_condition, bool) or not isinstance(self.faces_per_condition, int) or self.faces_per_condition < 1:
            raise FaceExplorerError(f"faces per condition must be a positive integer (got {self.faces_per_condition!r})")
        if not self.conditions:
            raise FaceExplorerError(f"a study needs at least one condition ({', '.join(CONDITIONS)})")
        for condition in self.conditions:
            if condition not in CONDITIONS:
                raise FaceExplorerError(f"unknown study condition '{condition}' (use {', '.join(CONDITIONS)})")
        if len(set(self.conditions)) != len(self.conditions):
            raise FaceExplorerError(f"study conditions are listed twice: {', '.join(self.conditions)}")
        if self.varies not in VARIED_PARTS:
            raise FaceExplorerError(f"'varies' must be one of {', '.join(VARIED_PARTS)} (got '{self.varies}')")
        if self.view not in VIEWS:
            raise FaceExplorerError(f"'view' must be one of {', '.join(VIEWS)} (got '{self.view}')")
        check_seed(self.seed, "the study seed")
        for name, value in (("r_shape", self.r_shape), ("r_exp", self.r_exp)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (np.isfinite(value) and value > 0):
                raise FaceExplorerError(f"study range {name} must be a positive number (got {value!r})")
        if not isinstance(self.allow_unsure, bool):
            raise FaceExplorerError(f"'allow_unsure' must be true or false (got {self.allow_unsure!r})")

    @property
    def face_count(self) -> int:
        return self.faces_per_condition * len(self.conditions)

    def to_json(self) -> str:
        values = asdict(self)
        values["conditions"] = list(self.conditions)
        return json.dumps(values, indent=1)

    @classmethod
    def from_json(cls, text: str, source: str = "study definition") -> StudyDefinition:
        """Parse a study file; unknown keys are an error (a typo must not silently fall back)."""
        try:
            values = json.loads(text)
        except json.JSONDecodeError as failure:
            raise FaceExplorerError(f"{source}: not valid JSON ({failure})") from failure
        if not isinstance(values, dict):
            raise FaceExplorerError(f"{source}: the top level must be an object")
        known = set(cls.__dataclass_fields__)
        unknown = set(values) - known
        if unknown:
            raise FaceExplorerError(f"{source}: unknown keys {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
        if "conditions" in values and not isinstance(values["conditions"], list):
            raise FaceExplorerError(f"{source}: 'conditions' must be a list")
        try:
            return cls(**values)
        except FaceExplorerError as problem:
            raise FaceExplorerError(f"{source}: {problem}") from problem


@dataclass(frozen=True)
class StudyFace:
    """One face of the study: what is shown (alpha_id, alpha_exp) and where it came from."""

    face_id: int
    condition: str
    sample: int  # index within the condition; denoised k and uniform-raw k are the same draw
    source: str  # corpus face id for ``dataset``, otherwise the sampling that made it
    alpha_id: np.ndarray
    alpha_exp: np.ndarray


def generate_study_faces(
    definition: StudyDefinition,
    model: MorphableModel,
    denoiser: Denoiser | None = None,
    data: FittedParameters | None = None,
) -> list[StudyFace]:
    """The study's faces, fully determined by the definition (and the model, networks, corpus).

    ``denoiser`` is needed only for ``denoised``, ``data`` only for ``dataset``.
    """
    count = definition.faces_per_condition
    varies_shape = definition.varies in ("shape", "both")
    varies_exp = definition.varies in ("expression", "both")
    neutral_id, neutral_exp = np.zeros((count, model.n_id)), np.zeros((count, model.n_exp))

    def sampled(distribution: str, stream: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng([definition.seed, stream])
        # Both parts are always drawn so that the shape faces of a "shape" study are the shape
        # parts of the "both" study with the same seed.
        alpha_id = sample_coefficients(model, "shape", distribution, count, rng, definition.r_shape)
        alpha_exp = sample_coefficients(model, "expression", distribution, count, rng, definition.r_exp)
        return (alpha_id if varies_shape else neutral_id), (alpha_exp if varies_exp else neutral_exp)

    per_condition: dict[str, tuple[np.ndarray, np.ndarray, list[str]]] = {}
    for condition in definition.conditions:
        if condition in ("denoised", "uniform-raw"):
            alpha_id, alpha_exp = sampled("uniform", _UNIFORM_STREAM)
            label = f"uniform r_shape={definition.r_shape:g} r_exp={definition.r_exp:g}"
            if condition == "denoised":
                if denoiser is None:
                    raise FaceExplorerError("the 'denoised' condition needs the denoising networks (checkpoints)")
                alpha_id = denoiser.denoise("shape", alpha_id) if varies_shape else alpha_id
                alpha_exp = denoiser.denoise("expression", alpha_exp) if varies_exp else alpha_exp
                label += ", denoised"
            per_condition[condition] = (alpha_id, alpha_exp, [f"{label} #{k}" for k in range(count)])
        elif condition == "normal":
            alpha_id, alpha_exp = sampled("normal", _NORMAL_STREAM)
            per_condition[condition] = (alpha_id, alpha_exp, [f"normal #{k}" for k in range(count)])
        else:
            per_condition[condition] = _dataset_faces(definition, model, data, neutral_id, neutral_exp)

    # Ids follow a seeded shuffle of all faces, so id order says nothing about the condition.
    slots = [(condition, k) for condition in definition.conditions for k in range(count)]
    shuffled = np.random.default_rng([definition.seed, _ID_STREAM]).permutation(len(slots))
    faces = []
    for face_id, slot in enumerate(shuffled, start=1):
        condition, k = slots[slot]
        alpha_id, alpha_exp, sources = per_condition[condition]
        faces.append(StudyFace(face_id, condition, k, sources[k], alpha_id[k].copy(), alpha_exp[k].copy()))
    return faces


def _dataset_faces(
    definition: StudyDefinition, model: MorphableModel, data: FittedParameters | None,
    neutral_id: np.ndarray, neutral_exp: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    count = definition.faces_per_condition
    if data is None:
        raise FaceExplorerError("the 'dataset' condition needs fitted coefficients (--data, or the embedded corpus)")
    data.check_counts(model.n_id, model.n_exp)
    if len(data) < count:
        raise FaceExplorerError(f"{data.source}: has {len(data)} faces, the study needs {count} for the 'dataset' condition")
    rows = np.random.default_rng([definition.seed, _DATASET_STREAM]).choice(len(data), size=count, replace=False)
    alpha_id = data.shape[rows] if definition.varies in ("shape", "both") else neutral_id
    alpha_exp = data.expression[rows] if definition.varies in ("expression", "both") else neutral_exp
    return alpha_id, alpha_exp, [f"{data.source}: {data.face_ids[row]}" for row in rows]


def normalise_rater_id(text: str) -> str:
    """The rater id as stored: surrounding spaces removed; empty or control characters refused."""
    rater = str(text).strip()
    if not rater:
        raise FaceExplorerError("enter a rater ID (any name or number that identifies you in this study)")
    if len(rater) > MAX_RATER_ID_LENGTH:
        raise FaceExplorerError(f"rater ID is {len(rater)} characters long; use at most {MAX_RATER_ID_LENGTH}")
    if any(unicodedata.category(character).startswith("C") for character in rater):
        raise FaceExplorerError("rater ID contains control characters")
    return rater


def rater_order(face_ids: list[int], seed: int, rater_id: str) -> list[int]:
    """This rater's blind order of the study's faces: seeded by the study seed and the rater id.

    The same rater always gets the same order (so a resumed session continues it), other
    raters get other orders of the same faces.
    """
    rater_key = int.from_bytes(hashlib.sha256(normalise_rater_id(rater_id).encode()).digest()[:8], "big")
    rng = np.random.default_rng([seed, rater_key])
    ordered = sorted(face_ids)
    return [ordered[i] for i in rng.permutation(len(ordered))]
