"""300W-LP's file pair per image: ``NAME.jpg`` and ``NAME.mat`` with the face's 3DMM parameters.

The fields and shapes are 300W-LP's, so 3DDFA / 2DASL / PRNet data loaders read a generated dataset as
they read the real one, and so does this project's ``--data`` (it reads ``Shape_Para`` and ``Exp_Para``):
- ``Shape_Para`` (K_id, 1) and ``Exp_Para`` (K_exp, 1): the (denoised) coefficients the face was made from;
- ``Pose_Para`` (1, 7): ``[pitch, yaw, roll, tx, ty, tz, s]`` of the image's camera (``app.rendering.camera``);
- ``pt2d`` (2, 68): the 68 landmarks in Matlab's 1-based pixel coordinates, as 300W-LP stores them;
- ``Tex_Para`` (K_tex, 1): the texture coefficients, when the face was coloured by a texture model;
- ``Camera_Matrix`` (3, 4): the image's exact camera, model point → 0-based pixels in homogeneous
  coordinates; with ``--focal-length`` it is a pinhole's, which ``Pose_Para`` only approximates.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io
from PIL import Image

from app.atomic_files import write_atomically
from app.errors import DatasetError
from app.model.model_files import read_mat
from app.rendering.camera import Camera

JPEG_QUALITY = 95
LANDMARKS_300W_LP = 68  # pt2d is (2, 68): the 68 Multi-PIE landmarks
# scipy stamps the creation time into a .mat's 116-byte text header; a fixed text keeps files reproducible.
_MAT_HEADER = b"MATLAB 5.0 MAT-file, written by face-manifold-explorer (300W-LP layout)".ljust(116)


@dataclass(frozen=True)
class LabelledImage:
    """What one 300W-LP ``.mat`` says about its image."""

    shape: np.ndarray  # (K_id,)
    expression: np.ndarray  # (K_exp,)
    pose_para: np.ndarray  # (7,)
    landmarks: np.ndarray  # (68, 2) 0-based pixel coordinates
    texture: np.ndarray | None  # (K_tex,) or None


def write_jpeg(path: Path, pixels: np.ndarray) -> Path:
    """The image of a 300W-LP pair: (H, W, 3) uint8 ``pixels`` as a JPEG of quality 95."""
    encoded = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8)).save(encoded, format="JPEG", quality=JPEG_QUALITY)
    return write_atomically(path, [encoded.getbuffer()])


def write_label(
    path: Path,
    alpha_id: np.ndarray,
    alpha_exp: np.ndarray,
    camera: Camera,
    landmarks: np.ndarray,
    texture: np.ndarray | None = None,
) -> Path:
    """The .mat of a 300W-LP pair; ``landmarks`` (68, 2) in 0-based pixels (stored 1-based as pt2d).

    Anything but 68 landmarks is refused: the format has no place for another count.
    """
    if np.shape(landmarks) != (LANDMARKS_300W_LP, 2):
        raise DatasetError(f"{path}: 300W-LP needs {LANDMARKS_300W_LP} landmarks (pt2d), got {np.shape(landmarks)}")
    fields = {
        "Shape_Para": np.asarray(alpha_id, dtype=np.float64).reshape(-1, 1),
        "Exp_Para": np.asarray(alpha_exp, dtype=np.float64).reshape(-1, 1),
        "Pose_Para": camera.pose_para.reshape(1, 7),
        "pt2d": (np.asarray(landmarks, dtype=np.float64) + 1.0).T,
        "Camera_Matrix": camera.matrix,
    }
    if texture is not None:
        fields["Tex_Para"] = np.asarray(texture, dtype=np.float64).reshape(-1, 1)
    mat = io.BytesIO()
    scipy.io.savemat(mat, fields, do_compression=False)
    mat.seek(0)
    mat.write(_MAT_HEADER)
    return write_atomically(path, [mat.getbuffer()])


def read_300w_lp(mat_path: str | Path) -> LabelledImage:
    """Read one 300W-LP-style .mat (ours or the real dataset's); a missing or misshapen field is one DatasetError."""
    mat_path = Path(mat_path)
    contents = read_mat(mat_path, DatasetError)
    arrays = {}
    for name, rows in (("Shape_Para", None), ("Exp_Para", None), ("Pose_Para", 1), ("pt2d", 2)):
        if name not in contents:
            raise DatasetError(f"{mat_path}: no {name} field (not a 300W-LP label file)")
        value = np.asarray(contents[name], dtype=np.float64)
        if value.ndim != 2 or (rows is not None and value.shape[0] != rows) or not np.isfinite(value).all():
            raise DatasetError(f"{mat_path}: {name} has shape {value.shape} or non-finite values")
        arrays[name] = value
    if arrays["Pose_Para"].shape != (1, 7):
        raise DatasetError(f"{mat_path}: Pose_Para has shape {arrays['Pose_Para'].shape}, expected (1, 7)")
    if arrays["pt2d"].shape != (2, LANDMARKS_300W_LP):
        raise DatasetError(f"{mat_path}: pt2d has shape {arrays['pt2d'].shape}, expected (2, {LANDMARKS_300W_LP})")
    texture = np.asarray(contents["Tex_Para"], dtype=np.float64).reshape(-1) if "Tex_Para" in contents else None
    return LabelledImage(
        arrays["Shape_Para"].reshape(-1),
        arrays["Exp_Para"].reshape(-1),
        arrays["Pose_Para"].reshape(-1),
        arrays["pt2d"].T - 1.0,
        texture,
    )
