"""A reliability study: which faces raters judge, generated once from a seed, shown blind.

The paper's reliability figure comes from people judging generated faces: a face counts as non-possible
if at least one rater rejects it. A study compares conditions (``app.study.conditions``): ``denoised``
uniform samples pulled back by the two networks, the very same samples ``uniform-raw``, ``normal``
sampling N(0, EV²) and ``dataset`` faces of the loaded corpus; ``varies`` says which part of the face
changes, the other staying at the mean. The face list is generated once and stored in the study
database, so every rater sees exactly the same faces, each in their own seeded order, under ids that
reveal no condition. Attention checks and the exclusion rule are part of the definition, and so of the
study file, before anyone rates: writing the rule down first keeps it from being chosen after seeing
which raters it would drop.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np

from app.denoising.denoiser import Denoiser
from app.errors import FaceExplorerError
from app.json_files import parse_json
from app.model.fitted_params import FittedParameters
from app.model.morphable_model import MorphableModel
from app.model.sampling import PAPER_RANGE, sample_coefficients
from app.model.sampling_settings import check_range
from app.seeds import check_seed
from app.study.conditions import CATCH, KINDS, REPEAT, Condition, check_varies, parse_condition

VIEWS: tuple[str, ...] = ("front-side", "rotating")
MAX_RATER_ID_LENGTH = 64
CATCH_RANGE = 30.0  # raw uniform at r = 30: faces no attentive rater takes for a real person

# Separate random streams per purpose: adding or removing a condition never changes the
# faces of the others, and denoised / uniform-raw share one stream (the same samples).
_UNIFORM_STREAM, _NORMAL_STREAM, _DATASET_STREAM, _ID_STREAM, _CATCH_STREAM, _REPEAT_STREAM = 1, 2, 3, 4, 5, 6


@dataclass(frozen=True)
class StudyDefinition:
    """What a study file (JSON) says: faces, conditions, seed, what raters see, attention checks.

    Attention checks: ``catch_trials`` raw uniform faces at range ``catch_r`` that an attentive rater
    rejects, and ``repeated_faces`` study faces shown to every rater a second time, far apart in their
    order. The exclusion rule: a rater who rejects less than ``min_catch_rejected`` of the catch faces,
    or gives the same vote to less than ``min_repeat_agreement`` of the repeated pairs, is flagged and
    left out of the recomputed report.
    """

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
    rater_slots: int = 1  # how many raters the study plans for: one rater package each
    catch_trials: int = 0
    catch_r: float = CATCH_RANGE
    repeated_faces: int = 0
    min_catch_rejected: float = 0.0  # exclusion rule: share of catch faces a rater must reject
    min_repeat_agreement: float = 0.0  # exclusion rule: share of repeated pairs voted the same way

    def __post_init__(self) -> None:
        object.__setattr__(self, "conditions", tuple(self.conditions))
        if not isinstance(self.name, str) or not self.name.strip():
            raise FaceExplorerError("study name must be a non-empty text")
        for name, minimum in (
            ("faces_per_condition", 1),
            ("rater_slots", 1),
            ("catch_trials", 0),
            ("repeated_faces", 0),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                kind = "a positive" if minimum else "a non-negative"
                raise FaceExplorerError(f"{name.replace('_', ' ')} must be {kind} integer (got {value!r})")
        if not self.conditions:
            raise FaceExplorerError(f"a study needs at least one condition ({', '.join(KINDS)})")
        check_varies(self.varies, "'varies'")
        for name in ("r_shape", "r_exp", "catch_r"):
            check_range(getattr(self, name), name)
        labels = [self.condition(label).label for label in self.conditions]  # each label must parse
        if len(set(labels)) != len(labels):
            raise FaceExplorerError(f"study conditions are listed twice: {', '.join(labels)}")
        if self.view not in VIEWS:
            raise FaceExplorerError(f"'view' must be one of {', '.join(VIEWS)} (got '{self.view}')")
        check_seed(self.seed, "the study seed")
        if not isinstance(self.allow_unsure, bool):
            raise FaceExplorerError(f"'allow_unsure' must be true or false (got {self.allow_unsure!r})")
        if self.repeated_faces > self.faces_per_condition * len(self.conditions):
            raise FaceExplorerError(
                f"repeated faces ({self.repeated_faces}) cannot be more than the study's "
                f"{self.faces_per_condition * len(self.conditions)} faces"
            )
        for name, checks, count in (
            ("min_catch_rejected", "catch trials", self.catch_trials),
            ("min_repeat_agreement", "repeated faces", self.repeated_faces),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise FaceExplorerError(f"the exclusion threshold {name} must be a share from 0 to 1 (got {value!r})")
            if value > 0 and count == 0:
                raise FaceExplorerError(f"the exclusion rule {name} = {value:g} needs {checks} in the study")

    def condition(self, label: str) -> Condition:
        """The parsed condition ``label``, with this study's ranges and varied part as defaults."""
        return parse_condition(label, self.varies, self.r_shape, self.r_exp)

    @property
    def face_count(self) -> int:
        """Every face a rater judges: the study's conditions, catch trials and repeated faces."""
        return self.faces_per_condition * len(self.conditions) + self.catch_trials + self.repeated_faces

    @property
    def face_groups(self) -> tuple[str, ...]:
        """The conditions and the control groups a face of this study can belong to."""
        return self.conditions + ((CATCH,) if self.catch_trials else ()) + ((REPEAT,) if self.repeated_faces else ())

    @property
    def exclusion_rule(self) -> str:
        rules = []
        if self.min_catch_rejected > 0:
            rules.append(
                f"rejects fewer than {100 * self.min_catch_rejected:g} % of the {self.catch_trials} catch faces"
            )
        if self.min_repeat_agreement > 0:
            rules.append(
                f"votes the same on fewer than {100 * self.min_repeat_agreement:g} % of the "
                f"{self.repeated_faces} repeated faces"
            )
        return ("a rater is excluded who " + " or ".join(rules)) if rules else "no exclusion rule"

    def to_json(self) -> str:
        values = asdict(self)
        values["conditions"] = list(self.conditions)
        return json.dumps(values, indent=1)

    @classmethod
    def from_json(cls, text: str, source: str = "study definition") -> StudyDefinition:
        """Parse a study file; unknown keys are an error (a typo must not silently fall back)."""
        values = parse_json(text, source)
        if not isinstance(values, dict):
            raise FaceExplorerError(f"{source}: the top level must be an object")
        known = set(cls.__dataclass_fields__)
        unknown = set(values) - known
        if unknown:
            raise FaceExplorerError(
                f"{source}: unknown keys {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})"
            )
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
    condition: str  # a condition label of the study, or the control group "catch" / "repeat"
    # Index within the condition (denoised k and uniform-raw k are the same draw); for "repeat": the repeated face's id.
    sample: int
    source: str  # corpus face id for ``dataset``, otherwise the sampling that made it
    alpha_id: np.ndarray
    alpha_exp: np.ndarray

    @property
    def repeats(self) -> int | None:
        """The id of the face this one shows a second time, for a repeated face."""
        return self.sample if self.condition == REPEAT else None


def generate_study_faces(
    definition: StudyDefinition,
    model: MorphableModel,
    denoiser: Denoiser | None = None,
    data: FittedParameters | None = None,
) -> list[StudyFace]:
    """The study's faces, fully determined by the definition (and the model, networks, corpus).

    ``denoiser`` is needed only for ``denoised``, ``data`` only for ``dataset``. The part of the face the
    definition does not vary stays at the mean, so raters judge only what the study is about. Face ids
    are assigned after a shuffle, so neither the id nor the position in the list reveals the condition.
    """
    count = definition.faces_per_condition
    per_condition = {
        label: _condition_faces(definition, definition.condition(label), model, denoiser, data)
        for label in definition.conditions
    }
    if definition.catch_trials:
        catch = Condition(CATCH, "uniform-raw", definition.varies, definition.catch_r, definition.catch_r)
        alpha_id, alpha_exp = _sampled(definition, catch, model, "uniform", _CATCH_STREAM, definition.catch_trials)
        per_condition[CATCH] = (
            alpha_id,
            alpha_exp,
            [f"catch trial: raw uniform r={definition.catch_r:g} #{k}" for k in range(definition.catch_trials)],
        )

    # Ids follow a seeded shuffle of all faces, so id order says nothing about the condition.
    slots = [(label, k) for label in definition.conditions for k in range(count)]
    slots += [(CATCH, k) for k in range(definition.catch_trials)]
    repeated = np.random.default_rng([definition.seed, _REPEAT_STREAM]).choice(
        count * len(definition.conditions), size=definition.repeated_faces, replace=False
    )
    slots += [(REPEAT, int(slot)) for slot in repeated]  # k: the slot of the face shown again
    shuffled = np.random.default_rng([definition.seed, _ID_STREAM]).permutation(len(slots))
    id_of_slot = {slots[slot]: face_id for face_id, slot in enumerate(shuffled, start=1)}
    faces = []
    for face_id, slot in enumerate(shuffled, start=1):
        group, k = slots[slot]
        if group == REPEAT:
            original = id_of_slot[slots[k]]
            label, sample = slots[k]
            alpha_id, alpha_exp, _ = per_condition[label]
            faces.append(
                StudyFace(
                    face_id,
                    REPEAT,
                    original,
                    f"repeat of face {original}",
                    alpha_id[sample].copy(),
                    alpha_exp[sample].copy(),
                )
            )
        else:
            alpha_id, alpha_exp, sources = per_condition[group]
            faces.append(StudyFace(face_id, group, k, sources[k], alpha_id[k].copy(), alpha_exp[k].copy()))
    return faces


def _sampled(
    definition: StudyDefinition, condition: Condition, model: MorphableModel, distribution: str, stream: int, count: int
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([definition.seed, stream])
    # Both parts are always drawn so that the shape faces of a "shape" study are the shape
    # parts of the "both" study with the same seed; conditions that differ only in r are the
    # same draws, scaled.
    alpha_id = sample_coefficients(model, "shape", distribution, count, rng, condition.r_shape)
    alpha_exp = sample_coefficients(model, "expression", distribution, count, rng, condition.r_exp)
    return (
        alpha_id if condition.varies_shape else np.zeros_like(alpha_id),
        alpha_exp if condition.varies_expression else np.zeros_like(alpha_exp),
    )


def _condition_faces(
    definition: StudyDefinition,
    condition: Condition,
    model: MorphableModel,
    denoiser: Denoiser | None,
    data: FittedParameters | None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    count = definition.faces_per_condition
    if condition.is_uniform:
        alpha_id, alpha_exp = _sampled(definition, condition, model, "uniform", _UNIFORM_STREAM, count)
        label = f"uniform r_shape={condition.r_shape:g} r_exp={condition.r_exp:g}"
        if condition.kind == "denoised":
            if denoiser is None:
                raise FaceExplorerError("the 'denoised' condition needs the denoising networks (checkpoints)")
            alpha_id = denoiser.denoise("shape", alpha_id) if condition.varies_shape else alpha_id
            alpha_exp = denoiser.denoise("expression", alpha_exp) if condition.varies_expression else alpha_exp
            label += ", denoised"
        return alpha_id, alpha_exp, [f"{label} #{k}" for k in range(count)]
    if condition.kind == "normal":
        alpha_id, alpha_exp = _sampled(definition, condition, model, "normal", _NORMAL_STREAM, count)
        return alpha_id, alpha_exp, [f"normal #{k}" for k in range(count)]
    return _dataset_faces(definition, condition, model, data)


def _dataset_faces(
    definition: StudyDefinition,
    condition: Condition,
    model: MorphableModel,
    data: FittedParameters | None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    count = definition.faces_per_condition
    if data is None:
        raise FaceExplorerError("the 'dataset' condition needs fitted coefficients (--data, or the embedded corpus)")
    data.check_counts(model.n_id, model.n_exp)
    if len(data) < count:
        raise FaceExplorerError(
            f"{data.source}: has {len(data)} faces, the study needs {count} for the 'dataset' condition"
        )
    rows = np.random.default_rng([definition.seed, _DATASET_STREAM]).choice(len(data), size=count, replace=False)
    alpha_id = data.shape[rows] if condition.varies_shape else np.zeros((count, model.n_id))
    alpha_exp = data.expression[rows] if condition.varies_expression else np.zeros((count, model.n_exp))
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


def rater_order(face_ids: list[int], seed: int, rater_id: str, repeats: Mapping[int, int] | None = None) -> list[int]:
    """This rater's blind order of the study's faces: seeded by the study seed and the rater id.

    The same rater always gets the same order (so a resumed session continues it), other
    raters get other orders of the same faces. ``repeats`` maps each repeated face to the face
    it shows again; the two are kept at least a third of the list apart, so that the second
    showing is judged afresh rather than remembered.
    """
    repeats = repeats or {}
    rater_key = int.from_bytes(hashlib.sha256(normalise_rater_id(rater_id).encode()).digest()[:8], "big")
    rng = np.random.default_rng([seed, rater_key])
    ordered = sorted(face for face in face_ids if face not in repeats)
    order = [ordered[i] for i in rng.permutation(len(ordered))]
    if not repeats:
        return order
    position = {face: index for index, face in enumerate(order)}
    gap = max(1, len(order) // 3)
    insertions = []
    for repeat, original in sorted(repeats.items()):
        far = [slot for slot in range(len(order) + 1) if abs(slot - position[original]) >= gap] or [len(order)]
        insertions.append((int(rng.choice(far)), repeat))
    for slot, repeat in sorted(insertions, reverse=True):  # back to front: earlier slots keep their meaning
        order.insert(slot, repeat)
    return order
