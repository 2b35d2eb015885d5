"""How plausible the explorer's two faces are, in numbers a person can read at a glance.

Per face, in words: how far out its identity and its expression lie among the held-out real faces
(by the learned prior's likelihood, or by distance to the clean corpus for a model without a prior:
"farther out than 99 % of real faces" is beyond them), and the mesh check (how much its edges
stretch against the mean face and how many triangles fold) against the limits real faces reach.
The calibration is made as ``evaluate plausibility`` makes it (``PlausibilityCalibration``), so
the explorer and the report judge a face alike, up to the number of real faces the mesh limits are measured on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from app.evaluation.plausibility import REAL_PERCENTILE, PlausibilityCalibration
from app.explorer.blas_threads import one_blas_thread
from app.explorer.live_face import LiveFace
from app.model.morphable_model import CoefficientKind, MorphableModel


@dataclass(frozen=True)
class FaceVerdict:
    """One face judged against the held-out real faces."""

    identity_percentile: float  # share (%) of real faces at most as far from the corpus
    expression_percentile: float
    identity_in_distribution: bool  # within the distance of 99 % of real faces
    expression_in_distribution: bool
    worst_edge_log2: float
    folded_triangles: int
    edge_limit: float
    fold_limit: float

    @property
    def mesh_ok(self) -> bool:
        return self.worst_edge_log2 <= self.edge_limit and self.folded_triangles <= self.fold_limit

    @property
    def plausible(self) -> bool:
        return self.identity_in_distribution and self.expression_in_distribution and self.mesh_ok

    def to_record(self) -> dict[str, float | int | bool]:
        """The verdict as JSON-able numbers (for files written beside a face)."""
        return {**asdict(self), "mesh_ok": self.mesh_ok, "plausible": self.plausible}

    def headline(self) -> str:
        """'like real faces', or which parts are unlike them (``details`` says how far)."""
        problems = [
            part
            for part, fine in (
                ("identity", self.identity_in_distribution),
                ("expression", self.expression_in_distribution),
                ("mesh", self.mesh_ok),
            )
            if not fine
        ]
        return "like real faces" if not problems else "unlike real faces: " + ", ".join(problems)

    def details(self) -> str:
        """How far from real faces each part is, in words with the numbers, on one line."""
        return (
            f"identity {_how_far(self.identity_percentile)} · expression {_how_far(self.expression_percentile)} · "
            f"edges stretched {2**self.worst_edge_log2:.2f}× (real faces ≤ {2**self.edge_limit:.2f}×) · "
            f"{self.folded_triangles} folded triangles (real faces ≤ {int(self.fold_limit)})"  # whole triangles
        )


def _how_far(percentile: float) -> str:
    """Where a part lies among the real faces, by its distance from them, in words."""
    if percentile > REAL_PERCENTILE:
        return f"beyond {REAL_PERCENTILE:g} % of real faces"
    if percentile < 1:
        return "nearer than any real face"
    return f"farther out than {percentile:.0f} % of real faces"


class PlausibilityReadout:
    """Judges faces with one calibration (made once per model, data and networks)."""

    def __init__(self, calibration: PlausibilityCalibration) -> None:
        self.calibration = calibration

    @property
    def model(self) -> MorphableModel:
        """The model the calibration was made on (faces of another model cannot be judged with it)."""
        return self.calibration.mesh_check.model

    def judge_face(self, alpha_id: np.ndarray, alpha_exp: np.ndarray) -> FaceVerdict:
        """A face of ``model`` given by its coefficients (synthesised here, on one BLAS thread as on the GUI thread)."""
        with one_blas_thread():
            vertices = self.model.synthesize(alpha_id, alpha_exp)
        return self.judge(alpha_id, alpha_exp, vertices)

    def judge(self, alpha_id: np.ndarray, alpha_exp: np.ndarray, vertices: np.ndarray) -> FaceVerdict:
        """``vertices`` are the face's (as the views already hold them), so nothing is synthesised again."""
        calibration = self.calibration
        worst, folds = calibration.mesh_check.measure_vertices(vertices)
        return FaceVerdict(
            float(calibration.percentile("shape", alpha_id)[0]),
            float(calibration.percentile("expression", alpha_exp)[0]),
            bool(calibration.in_distribution("shape", alpha_id)[0]),
            bool(calibration.in_distribution("expression", alpha_exp)[0]),
            worst,
            folds,
            calibration.edge_limit,
            calibration.fold_limit,
        )

    @property
    def rankings(self) -> dict[CoefficientKind, str]:
        """What ranks identities and expressions among real faces, in words."""
        return self.calibration.rankings

    def judge_faces(self, faces: tuple[JudgedFace, JudgedFace]) -> tuple[FaceVerdict, FaceVerdict]:
        """Both faces of ``live_faces`` (safe on a worker thread: they are copies)."""
        return self.judge(*faces[0]), self.judge(*faces[1])


JudgedFace = tuple[np.ndarray, np.ndarray, np.ndarray]  # identity, expression, vertices


def live_faces(live: LiveFace) -> tuple[JudgedFace, JudgedFace] | None:
    """Copies of the input and denoised faces the views show now, to judge while the views move on.

    None while the views show the lighter draft faces of a slider drag: the full arrays then
    lag behind the coefficients, and a draft is not the face being judged.
    """
    if live.showing_draft:
        return None
    alpha_id, alpha_exp = live.good_coefficients
    return (
        (alpha_id.copy(), alpha_exp.copy(), live.input_vertices.copy()),
        (live.denoised_id.copy(), live.denoised_exp.copy(), live.denoised_vertices.copy()),
    )
