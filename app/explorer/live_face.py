"""The two faces the explorer draws — the input ("noisy") face and the denoised one — kept current.

``LiveFace`` subscribes to a ``FaceState``. A single-coefficient change updates the input vertices in
place with one scaled basis row (``MorphableModel.apply_coefficient_change``), a whole-face change
re-synthesizes them; both only mark the denoised face as stale. ``refresh()`` then does the rest once,
for the latest state only — the GUI calls it from a coalescing timer, never per event and never from
inside a paint. The networks run on one torch thread and the synthesis on one BLAS thread: a face at a
time is too little work for a thread pool, a pool stalls under CPU contention, and its idle threads
starve the renderer. The ``DenoisingChoice`` picks the networks or the learned prior (projected from one
fixed seed). The vertex, normal and displacement arrays are allocated once and only ever written in
place, so a view can wrap them (VTK shares the memory) and just mark them modified.
"""

from __future__ import annotations

import time

import numpy as np

from app.denoising.denoiser import Denoiser
from app.denoising.torch_threads import one_torch_thread
from app.errors import FaceExplorerError
from app.explorer.blas_threads import one_blas_thread
from app.explorer.denoising_choice import PRIOR_SEED, DenoisingChoice, DenoisingMethod
from app.explorer.face_pose import pose_rotations
from app.explorer.face_state import FaceChange, FaceState
from app.model.vertex_normals import VertexNormals
from app.prior.learned_prior import LearnedPrior, seeded_generator
from app.rendering.draft_mesh import DraftMesh, cluster_draft

# Model coordinates are micrometres (BFM, 3DDFA and the embedded model), the heat map shows mm.
MODEL_UNITS_PER_MM = 1000.0


class LiveFace:
    """Input and denoised vertices, normals and their per-vertex distance for the current face."""

    def __init__(
        self,
        state: FaceState,
        denoiser: Denoiser | None,
        prior: LearnedPrior | None = None,
        choice: DenoisingChoice | None = None,
    ) -> None:
        self.state = state
        self.model = state.model
        self.denoiser = denoiser
        self.prior = prior
        self.choice = choice if choice is not None else DenoisingChoice()
        self.denoised_label = ""  # the denoised view's title for the face the arrays show
        n = self.model.n_vertices
        self.input_vertices = np.empty((n, 3), dtype=np.float32)
        self.denoised_vertices = np.empty((n, 3), dtype=np.float32)
        self.input_normals = np.zeros((n, 3), dtype=np.float32)
        self.denoised_normals = np.zeros((n, 3), dtype=np.float32)
        self.displacement_mm = np.zeros(n, dtype=np.float32)
        self.denoised_id = state.alpha_id
        self.denoised_exp = state.alpha_exp
        self.good_coefficients = (state.alpha_id, state.alpha_exp)  # of the face the arrays show
        self.good_origin = state.origin
        self.last_compute_ms = 0.0
        self.pose: dict[str, float] = {}  # degrees per pose control (face_pose); applied to both faces
        self.changed: frozenset[str] = frozenset()  # "input" / "denoised": what the last refresh rewrote
        self.showing_draft = False  # the last refresh filled the draft arrays, not the full ones
        self._normals = VertexNormals(self.model.triangles, n)
        assert self.model.triangle_parts is not None  # MorphableModel.__post_init__ fills it in
        self.draft: DraftMesh = cluster_draft(
            self.model.triangles, self.model.mean.reshape(-1, 3), self.model.triangle_parts
        )
        m = len(self.draft.vertex_indices)
        self.input_draft_vertices = np.zeros((m, 3), dtype=np.float32)
        self.denoised_draft_vertices = np.zeros((m, 3), dtype=np.float32)
        self.input_draft_normals = np.zeros((m, 3), dtype=np.float32)
        self.denoised_draft_normals = np.zeros((m, 3), dtype=np.float32)
        self.draft_displacement_mm = np.zeros(m, dtype=np.float32)
        columns = (3 * self.draft.vertex_indices[:, None] + np.arange(3)).ravel()
        self._draft_basis = np.ascontiguousarray(
            np.vstack([self.model.basis_id[:, columns], self.model.basis_exp[:, columns]])
        )
        self._draft_mean = self.model.mean[columns]
        self._draft_normals = VertexNormals(self.draft.triangles, m)
        self._input_vertices_current = False
        self._input_moved = True  # since the last full refresh
        self._full_denoised: tuple[np.ndarray, np.ndarray] | None = None  # what the full denoised arrays show
        self._stale = True
        self._draft_stale = True
        self._returning = False
        self._unsubscribe = state.subscribe(self._on_face_change)
        self._unsubscribe_choice = self.choice.subscribe(self._on_choice_change)
        try:
            self.refresh()
        except FaceExplorerError:
            self.close()  # a live face that cannot be built must not keep following the state
            raise

    @property
    def stale(self) -> bool:
        """True when the face changed since the last ``refresh()``."""
        return self._stale

    def close(self) -> None:
        """Stop following the state (the explorer switches models by replacing the LiveFace)."""
        self._unsubscribe()
        self._unsubscribe_choice()

    def return_to_last_good_face(self) -> None:
        """After a refused ``refresh()``: put the state back to the face the arrays show, no recompute."""
        self._returning = True
        try:
            self.state.set_face(*self.good_coefficients, source="the last face shown", origin=self.good_origin)
        finally:
            self._returning = False
        self._input_vertices_current = True
        self._stale = self.showing_draft  # a refused draft: the next full refresh redraws the good face
        self._draft_stale = False

    def set_pose(self, control: str, degrees: float) -> None:
        """Turn one pose control; both faces are redrawn posed at the next ``refresh()``."""
        self.pose[control] = float(degrees)
        self._input_vertices_current = False
        self._full_denoised = None
        self._input_moved = True
        self._stale = self._draft_stale = True

    def _rotations(self) -> np.ndarray | None:
        """The joints' rotations of the current pose, or None at the rest pose (or without joints)."""
        skinning = self.model.skinning
        return None if skinning is None else pose_rotations(skinning, self.pose)

    def _synthesize_posed(
        self, alpha_id: np.ndarray, alpha_exp: np.ndarray, rotations: np.ndarray | None
    ) -> np.ndarray:
        rest = self.model.synthesize(alpha_id, alpha_exp)
        if rotations is None or self.model.skinning is None:
            return rest
        return self.model.skinning.pose(rest, rotations)

    def _on_face_change(self, change: FaceChange) -> None:
        if self._returning:
            return
        # A posed face is not linear in a coefficient: it is synthesized and posed again instead.
        if change.is_single and self._input_vertices_current and self._rotations() is None:
            assert change.kind is not None and change.index is not None  # a single change names its coefficient
            self.model.apply_coefficient_change(self.input_vertices, change.kind, change.index, change.new - change.old)
        else:
            self._input_vertices_current = False
        self._input_moved = True
        self._stale = self._draft_stale = True

    def _on_choice_change(self, _method: DenoisingMethod) -> None:
        self._stale = self._draft_stale = True  # only the denoised face: the input did not move

    def use_denoiser(self, denoiser: Denoiser | None, prior: LearnedPrior | None = None) -> None:
        """Show what other networks (and prior) make of the same face: only the denoised face is recomputed.

        Networks that cannot take the face raise a FaceExplorerError and the previous ones stay.
        """
        previous = self.denoiser, self.prior
        self.denoiser, self.prior = denoiser, prior
        self._stale = self._draft_stale = True
        try:
            self.refresh()
        except FaceExplorerError:
            self.denoiser, self.prior = previous
            raise

    @property
    def uses_prior(self) -> bool:
        """The learned prior makes the denoised face (it is chosen and loaded)."""
        return self.choice.current.method == "prior" and self.prior is not None

    @property
    def denoises(self) -> bool:
        """Something makes the denoised face; False: it is the input face."""
        return self.uses_prior or self.denoiser is not None

    def _label(self) -> str:
        if self.uses_prior:
            return f"denoised ({self.choice.current.describe()})"
        return "denoised (networks)" + ("" if self.denoiser is not None else ": no networks, showing the input")

    def refresh(self, draft: bool = False) -> bool:
        """Bring the full faces (or with ``draft``, the draft arrays) up to date; False when nothing had changed.

        A refresh runs the networks, the synthesis of the denoised face, the normals and the displacement.
        With ``draft`` (while a gesture is under way) the networks still run, but only the vertices of the
        ``DraftMesh`` are synthesized and given normals. Work whose input did not change is skipped: the
        input normals when the input face did not move, the denoised synthesis and normals when the
        networks' output did not change; ``changed`` says which faces were rewritten, so a view re-uploads
        only those.

        All or nothing: when the networks or the synthesis fail, the arrays keep the last face
        that was computed completely (the input vertices are rebuilt from its coefficients) and
        the FaceExplorerError propagates, so the views never show half of a new face.
        """
        if not (self._draft_stale if draft else self._stale):
            return False
        with one_blas_thread():
            self._recompute(draft)
        return True

    def _recompute(self, draft: bool) -> None:
        start = time.perf_counter()
        alpha_id, alpha_exp = self.state.alpha_id, self.state.alpha_exp
        rotations = self._rotations()
        try:
            input_vertices = (
                self.input_vertices
                if self._input_vertices_current
                else self._synthesize_posed(alpha_id, alpha_exp, rotations)
            )
            denoised_id, denoised_exp = self.denoise_face(alpha_id, alpha_exp)
            if draft and rotations is not None:  # the draft is a gather of the posed face
                denoised_vertices = self._synthesize_posed(denoised_id, denoised_exp, rotations)
                denoised_vertices = denoised_vertices[self.draft.vertex_indices]
            elif draft:
                denoised_vertices = self._synthesize_draft(denoised_id, denoised_exp)
            elif not self.denoises:
                denoised_vertices = input_vertices
            elif self._same_as_shown(denoised_id, denoised_exp):
                denoised_vertices = self.denoised_vertices
            else:
                denoised_vertices = self._synthesize_posed(denoised_id, denoised_exp, rotations)
            if not (np.all(np.isfinite(input_vertices)) and np.all(np.isfinite(denoised_vertices))):
                raise FaceExplorerError("the face's vertices are not finite numbers")
        except FaceExplorerError:
            self.input_vertices[...] = self._synthesize_posed(*self.good_coefficients, rotations)
            self._input_vertices_current = False  # the state still holds the refused face
            raise
        if input_vertices is not self.input_vertices:  # already current after single-coefficient edits
            self.input_vertices[...] = input_vertices
        self._input_vertices_current = True
        if draft:
            self._show_draft(denoised_vertices)
        else:
            self._show_full((alpha_id, alpha_exp), (denoised_id, denoised_exp), denoised_vertices)
        self.denoised_id, self.denoised_exp = denoised_id, denoised_exp
        self.denoised_label = self._label()
        self.showing_draft = draft
        self.last_compute_ms = (time.perf_counter() - start) * 1000.0

    @property
    def denoising_method(self) -> DenoisingMethod | None:
        """What ``denoise_face`` uses now (the networks while no prior is loaded); None: nothing denoises."""
        if self.uses_prior:
            return self.choice.current
        return DenoisingMethod("networks") if self.denoiser is not None else None

    def denoise_face(self, alpha_id: np.ndarray, alpha_exp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One face denoised exactly as the denoised view shows it with the current choice; nothing denoises: the face.

        The gallery and the interpolation call this too, so a face of theirs opened in the explorer
        shows the same denoised face there.
        """
        if self.uses_prior:
            assert self.prior is not None  # uses_prior says so
            # A fresh generator from the same seed each time: a face and a strength give one result.
            with one_torch_thread():
                return self.prior.project_face(
                    alpha_id, alpha_exp, self.choice.current.strength, seeded_generator(PRIOR_SEED)
                )
        if self.denoiser is None:
            return alpha_id, alpha_exp
        with one_torch_thread():
            return self.denoiser.denoise_face(alpha_id, alpha_exp)

    def _same_as_shown(self, denoised_id: np.ndarray, denoised_exp: np.ndarray) -> bool:
        """The networks' output is the one the full denoised arrays already show."""
        shown = self._full_denoised
        return shown is not None and np.array_equal(denoised_id, shown[0]) and np.array_equal(denoised_exp, shown[1])

    def _synthesize_draft(self, alpha_id: np.ndarray, alpha_exp: np.ndarray) -> np.ndarray:
        alpha = np.concatenate([alpha_id, alpha_exp]).astype(np.float32)
        return (alpha @ self._draft_basis + self._draft_mean).reshape(-1, 3)

    def _show_draft(self, denoised_draft: np.ndarray) -> None:
        indices = self.draft.vertex_indices
        np.take(self.input_vertices, indices, axis=0, out=self.input_draft_vertices)
        self.denoised_draft_vertices[...] = denoised_draft
        self._draft_normals.compute(self.input_draft_vertices, out=self.input_draft_normals)
        self._draft_normals.compute(self.denoised_draft_vertices, out=self.denoised_draft_normals)
        distance = np.linalg.norm(self.denoised_draft_vertices - self.input_draft_vertices, axis=1)
        self.draft_displacement_mm[...] = distance / MODEL_UNITS_PER_MM
        self.changed = frozenset(("input", "denoised"))
        self._draft_stale = False

    def _show_full(
        self,
        alpha: tuple[np.ndarray, np.ndarray],
        denoised: tuple[np.ndarray, np.ndarray],
        denoised_vertices: np.ndarray,
    ) -> None:
        changed = set()
        if self._input_moved or self.showing_draft:
            self._normals.compute(self.input_vertices, out=self.input_normals)
            changed.add("input")
        if denoised_vertices is not self.denoised_vertices:
            self.denoised_vertices[...] = denoised_vertices
            self._normals.compute(self.denoised_vertices, out=self.denoised_normals)
            changed.add("denoised")
        elif self.showing_draft:
            changed.add("denoised")  # the full arrays are current; the views must switch back to them
        if changed:
            distance = np.linalg.norm(self.denoised_vertices - self.input_vertices, axis=1)
            self.displacement_mm[...] = distance / MODEL_UNITS_PER_MM
        self._full_denoised = denoised
        self.good_coefficients = alpha
        self.good_origin = self.state.origin
        self.changed = frozenset(changed)
        self._input_moved = False
        self._stale = False
