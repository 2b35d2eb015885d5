"""The camera of a dataset image: 3DDFA's weak perspective, exactly, or a pinhole with a focal length.

300W-LP, AFLW2000-3D and the 3DDFA / 2DASL / PRNet pipelines trained on them describe a face's pose with
``Pose_Para = [pitch, yaw, roll, tx, ty, tz, s]`` (angles in radians) and a weak perspective (``Camera``
gives the formulas). By default dataset images are rendered with exactly that camera, so ``Pose_Para``
and ``pt2d`` are the image's ground truth, not an approximation of it. With a focal length the image is
a pinhole's; its ``Pose_Para`` is then 3DDFA's weak-perspective approximation, while the landmarks and
``Camera.matrix`` stay exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from app.errors import FaceExplorerError


def rotation_3ddfa(pitch: float, yaw: float, roll: float) -> np.ndarray:
    """3×3 rotation of 3DDFA's ``RotationMatrix(pitch, yaw, roll)`` (radians): Rx · Ry · Rz."""
    cx, sx = np.cos(pitch), np.sin(pitch)
    cy, sy = np.cos(yaw), np.sin(yaw)
    cz, sz = np.cos(roll), np.sin(roll)
    about_x = np.array([[1.0, 0.0, 0.0], [0.0, cx, sx], [0.0, -sx, cx]])
    about_y = np.array([[cy, 0.0, -sy], [0.0, 1.0, 0.0], [sy, 0.0, cy]])
    about_z = np.array([[cz, sz, 0.0], [-sz, cz, 0.0], [0.0, 0.0, 1.0]])
    return about_x @ about_y @ about_z


@dataclass(frozen=True)
class Camera:
    """Where one face lands in one ``width`` × ``height`` image.

    The model's vertices ``X`` (model units, y up, the face looking along +z) land at::

        P = s · R(pitch, yaw, roll) · X + t          (pixels, x right, y up, z towards the viewer)
        R = Rx(pitch) · Ry(yaw) · Rz(roll)           (3DDFA's RotationMatrix, signs included)
        pt2d = (P_x, H + 1 − P_y)                    (Matlab's 1-based pixel centres, y down)

    Without ``focal`` the image is an orthographic view of the box [0.5, W + 0.5] × [0.5, H + 0.5] of
    P's plane, whose intrinsics are only the scale ``s`` and the principal point. With a focal length
    ``f`` (pixels) it is a pinhole's, its centre at ``C = (c_x, c_y, f)`` in P's space, looking down −z
    at the image centre ``c``, so that::

        pt2d = c + f · (P_xy − c) / (f − P_z)        (y flipped as above)

    which is the weak perspective for points on the plane P_z = 0 (the frame's centre lies there) and
    the limit of large ``f``. ``project`` gives 0-based pixel centres (the top-left pixel's centre is
    (0, 0)), which is ``pt2d − 1``.
    """

    width: int
    height: int
    pitch: float  # radians
    yaw: float
    roll: float
    scale: float  # pixels per model unit
    translation: tuple[float, float, float]  # pixels
    focal: float | None = None  # pixels; None for the weak perspective (orthographic)

    @property
    def rotation(self) -> np.ndarray:
        return rotation_3ddfa(self.pitch, self.yaw, self.roll)

    def to_image_space(self, vertices: np.ndarray) -> np.ndarray:
        """``P = s·R·X + t`` for (N, 3) model points: pixels, x right, y up, z towards the viewer."""
        points = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
        return self.scale * points @ self.rotation.T + np.asarray(self.translation)

    def project(self, vertices: np.ndarray) -> np.ndarray:
        """(N, 2) 0-based pixel coordinates (x right, y down; the top-left pixel's centre is (0, 0))."""
        points = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
        projected = points @ self.matrix[:, :3].T + self.matrix[:, 3]
        return projected[:, :2] / projected[:, 2:]

    @property
    def pose_para(self) -> np.ndarray:
        """(7,) ``[pitch, yaw, roll, tx, ty, tz, s]`` as 300W-LP's ``Pose_Para``."""
        return np.array([self.pitch, self.yaw, self.roll, *self.translation, self.scale])

    @property
    def principal_point(self) -> tuple[float, float]:
        """The image centre in 0-based pixels: where the optical axis meets the image."""
        return ((self.width - 1) / 2.0, (self.height - 1) / 2.0)

    @property
    def centre(self) -> np.ndarray:
        """The image centre ``c`` in P's space (the 1-based pixel coordinates, y up) at P_z = 0."""
        return np.array([(self.width + 1) / 2.0, (self.height + 1) / 2.0, 0.0])

    @property
    def matrix(self) -> np.ndarray:
        """(3, 4) matrix M with ``[u·w, v·w, w] = M · [X, Y, Z, 1]`` for 0-based pixels (u, v): the whole camera.

        Orthographic: w = 1. Pinhole: w = f − P_z, the point's depth in front of the camera.
        """
        placement = np.eye(4)
        placement[:3, :3] = self.scale * self.rotation
        placement[:3, 3] = self.translation
        cx, cy, _ = self.centre
        if self.focal is None:
            image = np.array([[1.0, 0.0, 0.0, -1.0], [0.0, -1.0, 0.0, self.height], [0.0, 0.0, 0.0, 1.0]])
        else:
            f = self.focal
            image = np.array(
                [[f, 0.0, -(cx - 1.0), -f], [0.0, -f, -(self.height - cy), f * self.height], [0.0, 0.0, -1.0, f]]
            )
        return image @ placement

    def record(self) -> dict[str, Any]:
        """A JSON-able description: intrinsics, extrinsics, the projection matrix and the Pose_Para vector."""
        return {
            "projection": "orthographic (3DDFA weak perspective)" if self.focal is None else "perspective (pinhole)",
            "image_size": [self.width, self.height],
            "intrinsics": {"focal_px": self.focal, "principal_point": list(self.principal_point)},
            "extrinsics": {
                "rotation": self.rotation.tolist(),
                "translation": list(self.translation),
                "scale": self.scale,
            },
            "matrix": self.matrix.tolist(),
            "pose_para": self.pose_para.tolist(),
        }


def framing_camera(
    frame: np.ndarray,
    width: int,
    height: int,
    pitch: float = 0.0,
    yaw: float = 0.0,
    roll: float = 0.0,
    focal: float | None = None,
) -> Camera:
    """The camera that turns a face by (pitch, yaw, roll) about the centre of ``frame`` (3, 2) and fits the frame.

    ``frame`` is a box every face of the dataset shares (the mean face's, grown by a margin), so
    all images have the same scale and centre whatever the face, and only the pose differs.
    """
    frame = np.asarray(frame, dtype=np.float64)
    centre = frame.mean(axis=1)
    extent = float(np.max(frame[:2, 1] - frame[:2, 0]))
    if not extent > 0:
        raise FaceExplorerError("cannot frame a face that has no width or height")
    scale = min(width, height) / extent
    # The frame's centre goes to the centre of the image, P = ((W + 1)/2, (H + 1)/2, 0).
    target = np.array([(width + 1) / 2.0, (height + 1) / 2.0, 0.0])
    translation = target - scale * rotation_3ddfa(pitch, yaw, roll) @ centre
    tx, ty, tz = (float(v) for v in translation)
    return Camera(width, height, pitch, yaw, roll, scale, (tx, ty, tz), focal)
