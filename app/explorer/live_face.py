"""The two faces the explorer draws — the input ("noisy") face and the denoised one — kept current.

``LiveFace`` subscribes to a ``FaceState``. A single-coefficient change updates the input
vertices in place with one scaled basis row (``MorphableModel.apply_coefficient_change``), a
whole-face change re-synthesizes them; both only mark the denoised face as stale. ``refresh()``
then runs the networks, the synthesis of the denoised face, the normals and the displacement
once, for the latest state only — the GUI calls it from a coalescing timer, never per event
and never from inside a paint. The networks run on one torch thread (``one_torch_thread``):
a face at a time is too little work for a thread pool, and a pool stalls under CPU contention.

The vertex, normal and displacement arrays are allocated once and only ever written in
place, so a view can wrap them (VTK shares the memory) and just mark them modified.
"""

from __future__ import annotations

import time

import numpy as np

from app.denoising.denoiser import Denoiser
from app.denoising.torch_threads import one_torch_thread
from app.errors import FaceExplorerError
from app.explorer.face_state import FaceChange, FaceState
from app.model.vertex_normals import VertexNormals

# Model coordinates are micrometres (BFM, 3DDFA and the embedded model), the heat map shows mm.
MODEL_UNITS_PER_MM = 1000.0


class LiveFace:
    """Input and denoised vertices, normals and their per-vertex distance for the current face."""

    def __init__(self, state: FaceState, denoiser: Denoiser | None) -> None:
        self.state = state
        self.model = state.model
        self.denoiser = denoiser
        n = self.model.n_vertices
        self.input_vertices = np.empty((n, 3), dtype=np.float32)
        self.denoised_vertices = np.empty((n, 3), dtype=np.float32)
        self.input_normals = np.zeros((n, 3), dtype=np.float32)
        self.denoised_normals = np.zeros((n, 3), dtype=np.float32)
        self.displacement_mm = np.zeros(n, dtype=np.float32)
        self.denoised_id = state.alpha_id
        self.denoised_exp = state.alpha_exp
        self.good_coefficients = (state.alpha_id, state.alpha_exp)  # of the face the arrays show
        self.last_compute_ms = 0.0
        self._normals = VertexNormals(self.model.triangles, n)
        self._input_vertices_current = False
        self._stale = True
        self._returning = False
        self._unsubscribe = state.subscribe(self._on_face_change)
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

    def return_to_last_good_face(self) -> None:
        """After a refused ``refresh()``: put the state back to the face the arrays show, no recompute."""
        self._returning = True
        try:
            self.state.set_face(*self.good_coefficients, source="the last face shown")
        finally:
            self._returning = False
        self._input_vertices_current = True
        self._stale = False

    def _on_face_change(self, change: FaceChange) -> None:
        if self._returning:
            return
        if change.is_single and self._input_vertices_current:
            self.model.apply_coefficient_change(self.input_vertices, change.kind, change.index, change.new - change.old)
        else:
            self._input_vertices_current = False
        self._stale = True

    def refresh(self) -> bool:
        """Bring everything up to date; returns False when nothing had changed.

        All or nothing: when the networks or the synthesis fail, the arrays keep the last face
        that was computed completely (the input vertices are rebuilt from its coefficients) and
        the FaceExplorerError propagates, so the views never show half of a new face.
        """
        if not self._stale:
            return False
        start = time.perf_counter()
        alpha_id, alpha_exp = self.state.alpha_id, self.state.alpha_exp
        try:
            input_vertices = (self.input_vertices if self._input_vertices_current
                              else self.model.synthesize(alpha_id, alpha_exp))
            if self.denoiser is not None:
                with one_torch_thread():
                    denoised_id, denoised_exp = self.denoiser.denoise_face(alpha_id, alpha_exp)
                denoised_vertices = self.model.synthesize(denoised_id, denoised_exp)
            else:
                denoised_id, denoised_exp, denoised_vertices = alpha_id, alpha_exp, input_vertices
            if not (np.all(np.isfinite(input_vertices)) and np.all(np.isfinite(denoised_vertices))):
                raise FaceExplorerError("the face's vertices are not finite numbers")
        except FaceExplorerError:
            self.input_vertices[...] = self.model.synthesize(*self.good_coefficients)
            self._input_vertices_current = False  # the state still holds the refused face
            raise
        if input_vertices is not self.input_vertices:  # already current after single-coefficient edits
            self.input_vertices[...] = input_vertices
        self._input_vertices_current = True
        self.denoised_id, self.denoised_exp = denoised_id, denoised_exp
        self.denoised_vertices[...] = denoised_vertices
        self.good_coefficients = (alpha_id, alpha_exp)
        self._normals.compute(self.input_vertices, out=self.input_normals)
        self._normals.compute(self.denoised_vertices, out=self.denoised_normals)
        distance = np.linalg.norm(self.denoised_vertices - self.input_vertices, axis=1)
        self.displacement_mm[...] = distance / MODEL_UNITS_PER_MM
        self._stale = False
        self.last_compute_ms = (time.perf_counter() - start) * 1000.0
        return True
