"""A 3D morphable model: S = mean + A_id·α_id + A_exp·α_exp.

The bases are stored row-major as one (K_id + K_exp, 3N) float32 matrix so that a face is a
single ``alpha @ basis`` GEMM (faster than ``basis.T @ alpha``), and a change of
one coefficient is one scaled row added in place. Vertices are interleaved x0 y0 z0 x1 … as in
the .mat files, so ``flat.reshape(N, 3)`` is free.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np

from app.errors import FaceExplorerError
from app.model.albedo import AlbedoModel
from app.model.face_parts import FacePart, all_skin
from app.model.model_origin import ModelOrigin
from app.model.provenance import ModelProvenance
from app.model.skinning import Skinning
from app.model.uv_layout import UvLayout

CoefficientKind = Literal["shape", "expression"]
EMBEDDED_NAME_PREFIX = "embedded face model"  # the generated model's name; the corpus goes with it


@dataclass(eq=False)
class MorphableModel:
    """Mean face, identity/expression bases, their standard deviations and the triangles."""

    mean: np.ndarray  # (3N,) float32
    basis_id: np.ndarray  # (K_id, 3N) float32
    basis_exp: np.ndarray  # (K_exp, 3N) float32
    ev_id: np.ndarray  # (K_id,) standard deviation of each identity coefficient
    ev_exp: np.ndarray  # (K_exp,) standard deviation of each expression coefficient
    triangles: np.ndarray  # (T, 3) int64, 0-based
    name: str  # for people: "embedded face model v3" or the file path; the digest is the identity
    names_id: list[str] = field(default_factory=list)
    names_exp: list[str] = field(default_factory=list)
    landmarks: np.ndarray | None = None  # (68,) vertex indices of the Multi-PIE landmarks, when known
    triangle_parts: np.ndarray | None = None  # (T,) FacePart code per triangle; given None, all skin
    albedo: AlbedoModel | None = None  # per-vertex colour model (the BFM's texture), when the file has one
    uv_layout: UvLayout | None = None  # texture coordinates per triangle corner, when the model has a layout
    # For a model built by code, not read from a file: what it was built from (input digests and
    # build constants). Its digest then hashes this recipe, because the built arrays' last bits
    # depend on the BLAS library, the CPU and the thread count.
    recipe: str | None = None
    # Why the 68 landmarks are missing or incomplete, for a model that says so (BFM 2017/2019, FLAME).
    landmarks_note: str | None = None
    origin: ModelOrigin | None = None  # the published model and its units, for the families that record it
    skinning: Skinning | None = None  # joints that pose the face after synthesis (FLAME's jaw, neck, eyes)

    def __post_init__(self) -> None:
        for array_name in ("mean", "basis_id", "basis_exp", "ev_id", "ev_exp", "triangles"):
            if np.iscomplexobj(getattr(self, array_name)):
                raise FaceExplorerError(f"{self.name}: {array_name} holds complex numbers; a face model is real-valued")
        self.mean = np.ascontiguousarray(self.mean, dtype=np.float32).reshape(-1)
        n_values = self.mean.shape[0]
        if n_values % 3:
            raise FaceExplorerError(f"{self.name}: mean has {n_values} values, not a multiple of 3")
        basis_id = np.asarray(self.basis_id, dtype=np.float32)
        basis_exp = np.asarray(self.basis_exp, dtype=np.float32)
        for name, basis in (("identity", basis_id), ("expression", basis_exp)):
            if basis.ndim != 2 or basis.shape[1] != n_values:
                raise FaceExplorerError(f"{self.name}: {name} basis has shape {basis.shape}, expected (K, {n_values})")
        # One contiguous block so synthesis is a single GEMM; the two bases are views into it.
        self._basis = np.ascontiguousarray(np.vstack([basis_id, basis_exp]))
        self.basis_id = self._basis[: basis_id.shape[0]]
        self.basis_exp = self._basis[basis_id.shape[0] :]
        self.ev_id = np.asarray(self.ev_id, dtype=np.float64).reshape(-1)
        self.ev_exp = np.asarray(self.ev_exp, dtype=np.float64).reshape(-1)
        for name, ev, basis in (("identity", self.ev_id, basis_id), ("expression", self.ev_exp, basis_exp)):
            if ev.shape[0] != basis.shape[0]:
                raise FaceExplorerError(
                    f"{self.name}: {ev.shape[0]} {name} standard deviations for {basis.shape[0]} basis vectors"
                )
            if not np.all(np.isfinite(ev)) or np.any(ev <= 0):
                raise FaceExplorerError(f"{self.name}: {name} standard deviations must be finite and positive")
        fraction = first_non_whole(self.triangles)
        if fraction is not None:  # casting would silently truncate 1.5 to 1 and connect the wrong vertices
            raise FaceExplorerError(f"{self.name}: triangle indices must be whole numbers (found {fraction:g})")
        self.triangles = np.ascontiguousarray(self.triangles, dtype=np.int64)
        if self.triangles.ndim != 2 or self.triangles.shape[1] != 3:
            raise FaceExplorerError(f"{self.name}: triangles have shape {self.triangles.shape}, expected (T, 3)")
        if self.triangles.size and (self.triangles.min() < 0 or self.triangles.max() >= self.n_vertices):
            raise FaceExplorerError(
                f"{self.name}: triangle indices out of range 0..{self.n_vertices - 1} "
                f"(found {self.triangles.min()}..{self.triangles.max()})"
            )
        if not np.all(np.isfinite(self.mean)) or not np.all(np.isfinite(self._basis)):
            raise FaceExplorerError(f"{self.name}: mean or basis contains NaN or infinite values")
        self.names_id = _pad_names(self.names_id, self.n_id)
        self.names_exp = _pad_names(self.names_exp, self.n_exp)
        self._check_labels()

    def _check_labels(self) -> None:
        """Landmarks and triangle parts: what is drawn and exported beside the face, not the face itself."""
        if self.landmarks is not None:
            fraction = first_non_whole(self.landmarks)
            if fraction is not None:
                raise FaceExplorerError(f"{self.name}: landmark indices must be whole numbers (found {fraction:g})")
            self.landmarks = np.asarray(self.landmarks, dtype=np.int64).reshape(-1)
            if self.landmarks.size and (self.landmarks.min() < 0 or self.landmarks.max() >= self.n_vertices):
                raise FaceExplorerError(
                    f"{self.name}: landmark indices must lie in 0..{self.n_vertices - 1} "
                    f"(found {self.landmarks.min()}..{self.landmarks.max()})"
                )
        if self.triangle_parts is None:
            self.triangle_parts = all_skin(len(self.triangles))
        self.triangle_parts = np.asarray(self.triangle_parts)
        if (
            self.triangle_parts.shape != (len(self.triangles),)
            or not np.isin(self.triangle_parts, list(FacePart)).all()
        ):
            raise FaceExplorerError(f"{self.name}: triangle parts must be one FacePart code per triangle")
        self.triangle_parts = self.triangle_parts.astype(np.uint8)
        if self.albedo is not None and self.albedo.n_vertices != self.n_vertices:
            raise FaceExplorerError(
                f"{self.name}: the texture model has {self.albedo.n_vertices} vertices, the shape {self.n_vertices}"
            )
        if self.uv_layout is not None:
            self.uv_layout.check(len(self.triangles), self.name)
        if self.skinning is not None and self.skinning.n_vertices != self.n_vertices:
            raise FaceExplorerError(
                f"{self.name}: the skinning covers {self.skinning.n_vertices} vertices, the shape {self.n_vertices}"
            )

    @property
    def n_vertices(self) -> int:
        return self.mean.shape[0] // 3

    @property
    def n_id(self) -> int:
        return self.basis_id.shape[0]

    @property
    def n_exp(self) -> int:
        return self.basis_exp.shape[0]

    def n_coefficients(self, kind: CoefficientKind) -> int:
        return self.n_id if kind == "shape" else self.n_exp

    def ev(self, kind: CoefficientKind) -> np.ndarray:
        return self.ev_id if kind == "shape" else self.ev_exp

    def names(self, kind: CoefficientKind) -> list[str]:
        return self.names_id if kind == "shape" else self.names_exp

    @property
    def is_embedded(self) -> bool:
        return self.name.startswith(EMBEDDED_NAME_PREFIX)

    @cached_property
    def digest(self) -> str:
        """sha256 of everything that decides a face: sizes, mean, bases, standard deviations, triangles.

        Mode names, landmarks, triangle parts, the texture and its layout are left out (they change
        no face's shape); a model with joints adds its skinning's digest. The arrays are hashed in
        the fixed little-endian types ``__post_init__`` gives them, so the same model read from a
        .mat or from the .npz it was saved as has the same digest. A model built by code (the
        embedded one) is identified by its ``recipe`` instead: two builds that differ only in
        floating-point rounding are the same model.
        """
        sizes = f"3dmm {self.n_vertices} {self.n_id} {self.n_exp} {len(self.triangles)}\n"
        if self.recipe is not None:
            return hashlib.sha256(f"{sizes}recipe {self.recipe}".encode()).hexdigest()
        sha = hashlib.sha256(sizes.encode())
        for array, dtype in (
            (self.mean, "<f4"),
            (self._basis, "<f4"),
            (self.ev_id, "<f8"),
            (self.ev_exp, "<f8"),
            (self.triangles, "<i8"),
        ):
            sha.update(np.ascontiguousarray(array, dtype=dtype).data)
        if self.skinning is not None:
            sha.update(self.skinning.digest.encode())
        return sha.hexdigest()

    @property
    def provenance(self) -> ModelProvenance:
        return ModelProvenance(self.name, self.digest)

    def synthesize(self, alpha_id: np.ndarray, alpha_exp: np.ndarray) -> np.ndarray:
        """Vertices (N, 3) for one face, or (B, N, 3) for a batch of coefficient rows."""
        alpha_id = self._check_coefficients(alpha_id, self.n_id, "identity")
        alpha_exp = self._check_coefficients(alpha_exp, self.n_exp, "expression")
        if alpha_id.ndim != alpha_exp.ndim or (alpha_id.ndim == 2 and alpha_id.shape[0] != alpha_exp.shape[0]):
            raise FaceExplorerError(
                f"identity coefficients {alpha_id.shape} and expression coefficients {alpha_exp.shape} "
                "do not describe the same number of faces"
            )
        alpha = np.concatenate([alpha_id, alpha_exp], axis=-1).astype(np.float32)
        flat = alpha @ self._basis
        flat += self.mean
        return flat.reshape(*alpha.shape[:-1], self.n_vertices, 3)

    def apply_coefficient_change(self, vertices: np.ndarray, kind: CoefficientKind, index: int, delta: float) -> None:
        """Add ``delta`` to one coefficient of an already synthesized face, in place.

        One scaled row (3N multiply-adds) instead of a full synthesis; this is what keeps a
        dragged slider cheap.
        """
        if not vertices.flags.c_contiguous:
            raise ValueError("vertices must be C-contiguous so they can be updated in place")
        row = index if kind == "shape" else self.n_id + index
        vertices.reshape(-1)[:] += np.float32(delta) * self._basis[row]

    def _check_coefficients(self, alpha: np.ndarray, count: int, name: str) -> np.ndarray:
        alpha = np.asarray(alpha, dtype=np.float64)
        if alpha.ndim not in (1, 2) or alpha.shape[-1] != count:
            raise FaceExplorerError(f"{name} coefficients have shape {alpha.shape}; this model needs {count} per face")
        if not np.all(np.isfinite(alpha)):
            raise FaceExplorerError(f"{name} coefficients contain NaN or infinite values")
        return alpha


def first_non_whole(values: np.ndarray) -> float | None:
    """The first value that is not a whole number (NaN and ∞ included), or None when all are."""
    values = np.asarray(values)
    if values.dtype.kind in "iub":
        return None
    whole = np.isfinite(values) & (values == np.round(values))
    return None if whole.all() else float(values[~whole][0])


def _pad_names(names: list[str], count: int) -> list[str]:
    """Mode names with a blank for every mode the model does not name."""
    names = [str(n) for n in names][:count]
    return names + [""] * (count - len(names))
