"""FLAME's articulation: linear blend skinning with pose-corrective blendshapes.

Given a face at rest (the linear model's output) and one axis-angle rotation per joint (FLAME:
global, neck, jaw, left eye, right eye), the joints are regressed from the rest face
(``j_regressor``), each vertex first moves by the pose correctives (``posedirs`` times the
flattened R_j − I of every joint but the root, so a rest pose adds nothing), and is then carried
by the weighted sum of its joints' rigid transforms along the kinematic tree (``parents``). This is
the computation of FLAME's published loaders (``lbs`` in FLAME_PyTorch and DECA), in numpy.
The jaw opens by rotating its joint, not by a blendshape, so a face is posed after synthesis.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from app.errors import FaceExplorerError


@dataclass(eq=False)
class Skinning:
    """Joints, skinning weights and pose correctives over the N vertices of a model, in micrometres."""

    parents: np.ndarray  # (J,) int: each joint's parent, -1 for the root
    j_regressor: np.ndarray  # (J, N): joints as weighted sums of rest vertices
    weights: np.ndarray  # (N, J): each vertex's share of every joint's transform
    posedirs: np.ndarray  # (9 (J − 1), 3N): vertex offsets per element of R_j − I, joints 1..J−1
    joint_names: tuple[str, ...]

    def __post_init__(self) -> None:
        self.parents = np.asarray(self.parents, dtype=np.int64).reshape(-1)
        self.j_regressor = np.ascontiguousarray(self.j_regressor, dtype=np.float64)
        self.weights = np.ascontiguousarray(self.weights, dtype=np.float64)
        self.posedirs = np.ascontiguousarray(self.posedirs, dtype=np.float32)
        joints = len(self.parents)
        n = self.j_regressor.shape[1] if self.j_regressor.ndim == 2 else -1
        problems = []
        if joints < 1 or self.parents[0] != -1 or any(not 0 <= p < j for j, p in enumerate(self.parents) if j):
            problems.append(f"the kinematic tree {self.parents.tolist()} does not start at a root joint")
        if self.j_regressor.shape != (joints, n):
            problems.append(f"J_regressor has shape {self.j_regressor.shape}, expected ({joints}, N)")
        if self.weights.shape != (n, joints):
            problems.append(f"weights have shape {self.weights.shape}, expected ({n}, {joints})")
        if self.posedirs.shape != (9 * (joints - 1), 3 * n):
            problems.append(f"posedirs hold {self.posedirs.shape}, expected ({9 * (joints - 1)}, {3 * n})")
        if len(self.joint_names) != joints:
            problems.append(f"{len(self.joint_names)} joint names for {joints} joints")
        if problems:
            raise FaceExplorerError(problems[0])
        for name in ("j_regressor", "weights", "posedirs"):
            if not np.isfinite(getattr(self, name)).all():
                raise FaceExplorerError(f"{name} contains NaN or infinite values")

    @property
    def n_joints(self) -> int:
        return len(self.parents)

    @property
    def n_vertices(self) -> int:
        return self.weights.shape[0]

    @cached_property
    def digest(self) -> str:
        """sha256 of everything that moves a posed face."""
        sha = hashlib.sha256(f"skinning {self.n_joints} {self.n_vertices}\n".encode())
        for array, dtype in (
            (self.parents, "<i8"),
            (self.j_regressor, "<f8"),
            (self.weights, "<f8"),
            (self.posedirs, "<f4"),
        ):
            sha.update(np.ascontiguousarray(array, dtype=dtype).data)
        return sha.hexdigest()

    def pose(self, rest: np.ndarray, rotations: np.ndarray) -> np.ndarray:
        """The face ``rest`` (N, 3) posed by ``rotations`` (J, 3) axis-angle vectors in radians, as (N, 3) float32."""
        rest = np.asarray(rest, dtype=np.float64).reshape(self.n_vertices, 3)
        rotations = np.asarray(rotations, dtype=np.float64)
        if rotations.shape != (self.n_joints, 3) or not np.isfinite(rotations).all():
            raise FaceExplorerError(f"a pose needs {self.n_joints} finite axis-angle rotations, got {rotations.shape}")
        joints = self.j_regressor @ rest
        matrices = rodrigues(rotations)
        correctives = (matrices[1:] - np.eye(3)).reshape(-1) @ self.posedirs
        shaped = rest + correctives.reshape(-1, 3)
        world = np.empty((self.n_joints, 4, 4))
        for j, parent in enumerate(self.parents):
            local = np.eye(4)
            local[:3, :3] = matrices[j]
            local[:3, 3] = joints[j] - (joints[parent] if parent >= 0 else 0.0)
            world[j] = local if parent < 0 else world[parent] @ local
        # Each joint's transform relative to the rest pose: rotate about the joint, then follow the chain.
        relative = world.copy()
        relative[:, :3, 3] -= np.einsum("jab,jb->ja", world[:, :3, :3], joints)
        blended = np.einsum("vj,jab->vab", self.weights, relative[:, :3, :])
        posed = np.einsum("vab,vb->va", blended[:, :, :3], shaped) + blended[:, :, 3]
        return posed.astype(np.float32)


def rodrigues(vectors: np.ndarray) -> np.ndarray:
    """Rotation matrices (J, 3, 3) of axis-angle vectors (J, 3)."""
    vectors = np.asarray(vectors, dtype=np.float64).reshape(-1, 3)
    angles = np.linalg.norm(vectors, axis=1)
    axes = vectors / np.where(angles > 1e-12, angles, 1.0)[:, None]
    x, y, z = axes.T
    zero = np.zeros_like(x)
    skew = np.stack([zero, -z, y, z, zero, -x, -y, x, zero], axis=1).reshape(-1, 3, 3)
    sin, cos = np.sin(angles)[:, None, None], np.cos(angles)[:, None, None]
    return np.eye(3) + sin * skew + (1.0 - cos) * (skew @ skew)
