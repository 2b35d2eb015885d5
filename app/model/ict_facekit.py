"""ICT-FaceKit's "ICT Face Model Light": its ``FaceXModel`` folder read natively (ICT-VGL/ICT-FaceKit, MIT licence).

The folder holds one OBJ per shape, all over one topology (26,719 vertices in ICT's release):
``generic_neutral_mesh.obj``; identity modes ``identity000.obj`` … (file minus neutral is the mode
for a weight of 1, weights ~ N(0, 1)); expression shapes named like ARKit's blendshapes (file
minus neutral is the shape at weight 1, weights in [0, 1]); and ``vertex_indices.json``, which
lists the expression shapes and the 68 Multi-PIE landmark vertices. Coordinates are centimetres.

As a model of this project, coordinates are micrometres like the BFM's, identity rows are unit
vectors with the mode's length as standard deviation (so coefficient = EV × ICT weight and the
paper's noise levels apply), and expression coefficients are ICT's blendshape weights.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.errors import ModelFileError
from app.json_files import parse_json
from app.model.face_parts import FacePart
from app.model.morphable_model import MorphableModel
from app.model.uv_layout import UvLayout, compact_layout

NEUTRAL_FILE = "generic_neutral_mesh.obj"
INDEX_FILE = "vertex_indices.json"
MICROMETRES_PER_CM = 1e4
# Shapes in ICT's release that vertex_indices.json does not list among its 53 expressions.
UNLISTED_SHAPES = frozenset({"PupilDilate_L", "PupilDilate_R", "cheekRaiser_L", "cheekRaiser_R"})
# Made for a game engine's shaders, dropped: the transparent overlays (eyelashes, lacrimal fluid, eye blend
# and eye occlusion shells), which drawn opaque cover the eyes, and the inner eyeballs that carry the iris
# texture, which the outer eyeball shell hides when drawn opaque. That shell includes the clear cornea, so
# its cornea is coloured as iris and pupil instead (``_paint_iris``).
DROPPED_MATERIALS = frozenset(
    {"M_LacrimalFluid", "M_EyeBlend", "M_EyeOcclusion", "M_EyeLashes", "M_IrisLeft", "M_IrisRight"}
)
EYEBALL_MATERIALS = ("M_ScleraLeft", "M_ScleraRight")
MATERIAL_PARTS = {
    "M_GumsTongue": FacePart.GUMS_AND_TONGUE,
    "M_Teeth": FacePart.TEETH,
    "M_ScleraLeft": FacePart.EYE_WHITE,
    "M_ScleraRight": FacePart.EYE_WHITE,
}  # any other material (M_Face, M_BackHead, none) is skin
# Half-angles seen from the eyeball's centre around its axis (through the cornea's apex); with
# ICT's eyeballs (radius about 1.6 cm) they give an iris of 12 mm and a pupil of 4.4 mm across.
IRIS_HALF_ANGLE_DEG = 22.0
PUPIL_HALF_ANGLE_DEG = 8.0
# The mouth socket shares the skin's material; ICT's README gives its polygons in the release's topology.
ICT_POLYGON_COUNT = 26_384
ICT_MOUTH_SOCKET_POLYGONS = slice(11_144, 13_226)
_IDENTITY_FILE = re.compile(r"identity(\d+)\.obj")
# ICT's OBJs are 2-4 MB and its index 20 kB: a file far larger is no face model's and is refused
# before it is read (a 2 GB sparse file once took 6.6 GB of memory).
MAX_OBJ_BYTES = 256 << 20
MAX_INDEX_BYTES = 16 << 20


@dataclass(frozen=True)
class IctShapes:
    """An ICT-FaceKit folder as arrays over its opaque vertices, in micrometres."""

    neutral: np.ndarray  # (N, 3) float64
    identity: np.ndarray  # (K_id, N, 3) float64: each mode at weight 1
    identity_names: list[str]
    expression: np.ndarray  # (K_exp, N, 3) float64: each shape at weight 1
    expression_names: list[str]
    triangles: np.ndarray  # (T, 3) int64
    triangle_parts: np.ndarray  # (T,) uint8 FacePart codes
    landmarks: np.ndarray | None  # (68,) int64 vertex indices, when the folder lists them
    source_digest: str  # sha256 over the names and bytes of every file read
    uv_layout: UvLayout | None = None  # the neutral mesh's texture layout, when every kept corner has a UV

    def expression_shape(self, name: str) -> np.ndarray:
        return self.expression[self.expression_names.index(name)]


def load_ict_model(folder: str | Path) -> MorphableModel:
    """The folder's model: ICT's identity modes and expression shapes, all of them, in this project's units."""
    shapes = read_ict_folder(folder)
    identity = shapes.identity.reshape(len(shapes.identity), -1).astype(np.float64)
    lengths = np.linalg.norm(identity, axis=1)
    return MorphableModel(
        mean=shapes.neutral.reshape(-1),
        basis_id=identity / lengths[:, None],
        basis_exp=shapes.expression.reshape(len(shapes.expression), -1),
        ev_id=lengths,
        # Every blendshape weight has the same range [0, 1]: one scale for all.
        ev_exp=np.ones(len(shapes.expression)),
        triangles=shapes.triangles,
        name=str(folder),
        names_id=shapes.identity_names,
        names_exp=shapes.expression_names,
        landmarks=shapes.landmarks,
        triangle_parts=shapes.triangle_parts,
        uv_layout=shapes.uv_layout,
    )


def read_ict_folder(folder: str | Path) -> IctShapes:
    """Every shape of an ICT-FaceKit ``FaceXModel`` folder; any problem is one ``ModelFileError``.

    The OBJs hold quads with per-corner UVs. The shapes are read from the ``v`` lines and the vertex
    indices of the ``f`` lines (a reader that splits vertices per UV corner would turn 26,719 points
    into 105k); the neutral mesh's ``vt`` lines and corner UVs become the model's texture layout, corner
    for corner with its triangles. The materials in ``DROPPED_MATERIALS`` are left out.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFileError(f"{folder}: no such folder")
    if not (folder / NEUTRAL_FILE).is_file():
        raise ModelFileError(f"{folder}: not an ICT-FaceKit model folder (no {NEUTRAL_FILE})")
    expression_names, landmarks = _read_index_file(folder / INDEX_FILE)
    identity_names = _identity_names(folder)
    _refuse_unexpected_files(folder, identity_names, expression_names)

    digest = hashlib.sha256()
    neutral_vertices, topology, uv_lines = _read_obj(folder / NEUTRAL_FILE, digest.update, keep_uv=True)
    polygons, materials, polygon_uvs = _polygons(folder / NEUTRAL_FILE, topology, len(neutral_vertices))
    kept = [i for i, material in enumerate(materials) if material not in DROPPED_MATERIALS]
    if not kept:
        raise ModelFileError(
            f"{folder / NEUTRAL_FILE}: every face is an overlay that is not drawn (eyelashes, eye shells)"
        )
    vertices = np.unique(np.concatenate([polygons[i] for i in kept]))
    new_index = np.full(len(neutral_vertices), -1, dtype=np.int64)
    new_index[vertices] = np.arange(len(vertices))
    triangles, triangle_parts, fans = _triangulate(polygons, materials, kept, neutral_vertices)

    def deltas(names: list[str]) -> np.ndarray:
        out = np.empty((len(names), len(vertices), 3))
        for row, name in enumerate(names):
            path = folder / f"{name}.obj"
            shape_vertices, shape_topology, _ = _read_obj(path, digest.update)
            if len(shape_vertices) != len(neutral_vertices):
                raise ModelFileError(
                    f"{path}: {len(shape_vertices)} vertices, but {NEUTRAL_FILE} has {len(neutral_vertices)}"
                )
            if shape_topology != topology:
                raise ModelFileError(f"{path}: its faces differ from those of {NEUTRAL_FILE} (not the same mesh)")
            out[row] = (shape_vertices[vertices] - neutral_vertices[vertices]) * MICROMETRES_PER_CM
        return out

    identity = deltas(identity_names)
    still = [name for name, mode in zip(identity_names, identity, strict=True) if not np.any(mode)]
    if still:
        raise ModelFileError(f"{folder / (still[0] + '.obj')}: equals the neutral mesh, so it is no identity mode")
    return IctShapes(
        neutral=neutral_vertices[vertices] * MICROMETRES_PER_CM,
        identity=identity,
        identity_names=identity_names,
        expression=deltas(expression_names),
        expression_names=expression_names,
        triangles=new_index[triangles],
        triangle_parts=triangle_parts,
        landmarks=None if landmarks is None else _kept_landmarks(folder / INDEX_FILE, landmarks, new_index),
        source_digest=digest.hexdigest(),
        uv_layout=_uv_layout(folder / NEUTRAL_FILE, uv_lines, polygon_uvs, fans),
    )


def _read_index_file(path: Path) -> tuple[list[str], list[int] | None]:
    """The listed expression shapes and, when given, the 68 landmark vertices."""
    if not path.is_file():
        raise ModelFileError(f"{path}: missing (an ICT-FaceKit folder lists its expression shapes there)")
    index = parse_json(_read_bytes(path, MAX_INDEX_BYTES), str(path), ModelFileError)
    names = index.get("expressions") if isinstance(index, dict) else None
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise ModelFileError(f"{path}: 'expressions' must be a list of expression shape names")
    if len(set(names)) != len(names):
        repeated = next(n for n in names if names.count(n) > 1)
        raise ModelFileError(f"{path}: the expression '{repeated}' is listed twice")
    landmarks = index.get("idx_to_landmark_verts")
    if landmarks is not None and (
        not isinstance(landmarks, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in landmarks)
    ):
        raise ModelFileError(f"{path}: 'idx_to_landmark_verts' must be a list of vertex indices")
    return names, landmarks


def _identity_names(folder: Path) -> list[str]:
    """The identity modes' file stems in mode order; their numbers must run 0, 1, 2 … without gaps."""
    by_number = {int(m.group(1)): p.stem for p in folder.iterdir() if (m := _IDENTITY_FILE.fullmatch(p.name))}
    if not by_number:
        raise ModelFileError(f"{folder}: no identity modes (identity000.obj, identity001.obj, …)")
    gap = next((k for k in range(len(by_number)) if k not in by_number), None)
    if gap is not None:
        raise ModelFileError(f"{folder}: identity modes must be numbered 0, 1, 2 … without gaps; mode {gap} is missing")
    return [by_number[k] for k in range(len(by_number))]


def _refuse_unexpected_files(folder: Path, identity_names: list[str], expression_names: list[str]) -> None:
    missing = [f"{name}.obj" for name in expression_names if not (folder / f"{name}.obj").is_file()]
    if missing:
        raise ModelFileError(
            f"{folder}: {len(missing)} expression OBJ file(s) listed in {INDEX_FILE} are missing: "
            f"{', '.join(missing[:5])}"
        )
    expected = {NEUTRAL_FILE, *(f"{n}.obj" for n in [*identity_names, *expression_names, *UNLISTED_SHAPES])}
    extra = sorted(p.name for p in folder.iterdir() if p.suffix.lower() == ".obj" and p.name not in expected)
    if extra:
        raise ModelFileError(
            f"{folder}: unexpected OBJ file(s) {', '.join(extra[:5])} (neither the neutral mesh, an identity "
            f"mode identityNNN.obj nor an expression listed in {INDEX_FILE})"
        )


def _read_obj(
    path: Path, record: Callable[[bytes], None], keep_uv: bool = False
) -> tuple[np.ndarray, list[str], list[str]]:
    """Vertices (N, 3) in cm, the face and material lines (equal for all shapes of one mesh) and,
    with ``keep_uv``, the ``vt`` lines' numbers (the texture layout is the neutral mesh's)."""
    content = _read_bytes(path, MAX_OBJ_BYTES)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelFileError(f"{path}: not a text OBJ file") from None
    record(path.name.encode() + b"\0" + content)
    vertex_lines, topology, uv_lines = [], [], []
    for line in text.splitlines():
        if line.startswith("v "):
            vertex_lines.append(line[2:])
        elif line.startswith(("f ", "usemtl ")):
            topology.append(line.strip())
        elif keep_uv and line.startswith("vt "):
            uv_lines.append(line[3:])
    if not vertex_lines:
        raise ModelFileError(f"{path}: no vertices ('v' lines)")
    try:
        vertices = np.loadtxt(vertex_lines, usecols=(0, 1, 2), ndmin=2, dtype=np.float64)
    except ValueError:
        raise ModelFileError(f"{path}: every 'v' line must hold the numbers x y z") from None
    if not np.all(np.isfinite(vertices)):
        raise ModelFileError(f"{path}: vertices contain NaN or infinite values")
    return vertices, topology, uv_lines


def _read_bytes(path: Path, limit: int) -> bytes:
    """The file's bytes, unless it is larger than ``limit`` (checked before reading) or unreadable."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limit:
                raise ModelFileError(
                    f"{path}: {size:,} bytes, far larger than a face model's file can be (at most {limit:,})"
                )
            return handle.read(limit + 1)
    except OSError as failure:
        raise ModelFileError(f"{path}: cannot read it ({failure.strerror or failure})") from None


def _polygons(
    path: Path, topology: list[str], n_vertices: int
) -> tuple[list[np.ndarray], list[str], list[np.ndarray | None]]:
    """Every polygon's 0-based vertex indices, its material and its corners' 0-based UV rows (None without)."""
    polygons, materials, uvs, material = [], [], [], ""
    for line in topology:
        if line.startswith("usemtl "):
            material = line[len("usemtl ") :].strip()
            continue
        fields = [token.split("/") for token in line.split()[1:]]
        try:
            corners = np.array([_obj_index(field[0]) for field in fields], dtype=np.int64) - 1
        except ValueError:
            raise ModelFileError(f"{path}: a face line does not hold vertex numbers ('{line[:40]}')") from None
        if len(corners) < 3 or corners.min() < 0 or corners.max() >= n_vertices:
            raise ModelFileError(f"{path}: the face '{line[:40]}' needs 3 or more vertices numbered 1..{n_vertices}")
        polygons.append(corners)
        materials.append(material)
        uv_rows = [field[1] for field in fields if len(field) > 1 and field[1]]
        every_corner_has_uv = len(uv_rows) == len(fields) and all(map(_is_obj_index, uv_rows))
        uvs.append(np.array([int(row) for row in uv_rows], dtype=np.int64) - 1 if every_corner_has_uv else None)
    if not polygons:
        raise ModelFileError(f"{path}: no faces ('f' lines)")
    return polygons, materials, uvs


def _is_obj_index(text: str) -> bool:
    """A positive OBJ index as written: ASCII digits only (Python's int() also takes "١٢" and "²"), 18 at most."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def _obj_index(text: str) -> int:
    if not _is_obj_index(text):
        raise ValueError(text)
    return int(text)


def _triangulate(
    polygons: list[np.ndarray], materials: list[str], kept: list[int], vertices: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, tuple[int, int, int]]]]:
    """Triangles (old vertex indices), their parts, and each one's polygon and corner numbers in it.

    Quads are split along their shorter diagonal.
    """
    mouth_socket = set(range(len(polygons))[ICT_MOUTH_SOCKET_POLYGONS]) if len(polygons) == ICT_POLYGON_COUNT else set()
    fans: list[tuple[int, tuple[int, int, int]]] = []
    parts: list[FacePart] = []
    triangle_materials: list[str] = []
    for i in kept:
        p = polygons[i]
        if len(p) == 4 and np.sum((vertices[p[1]] - vertices[p[3]]) ** 2) < np.sum(
            (vertices[p[0]] - vertices[p[2]]) ** 2
        ):
            fan = [(1, 2, 3), (1, 3, 0)]
        else:
            fan = [(0, k, k + 1) for k in range(1, len(p) - 1)]
        part = FacePart.MOUTH_INTERIOR if i in mouth_socket else MATERIAL_PARTS.get(materials[i], FacePart.SKIN)
        fans.extend((i, corners) for corners in fan)
        parts.extend([part] * len(fan))
        triangle_materials.extend([materials[i]] * len(fan))
    triangles_array = np.array([polygons[i][list(corners)] for i, corners in fans], dtype=np.int64)
    parts_array = np.array(parts, dtype=np.uint8)
    for eyeball in EYEBALL_MATERIALS:
        _paint_iris(np.flatnonzero(np.array(triangle_materials) == eyeball), triangles_array, parts_array, vertices)
    return triangles_array, parts_array, fans


def _uv_layout(
    path: Path, uv_lines: list[str], polygon_uvs: list[np.ndarray | None], fans: list[tuple[int, tuple[int, int, int]]]
) -> UvLayout | None:
    """The kept triangles' texture layout; None when the file has no ``vt`` lines or a kept corner has no UV."""
    if not uv_lines:
        return None
    kept_uvs = []
    for i, corners in fans:
        polygon_uv = polygon_uvs[i]
        if polygon_uv is None:
            return None
        kept_uvs.append(polygon_uv[list(corners)])
    try:
        uv = np.loadtxt(uv_lines, usecols=(0, 1), ndmin=2, dtype=np.float64)
    except ValueError:
        raise ModelFileError(f"{path}: every 'vt' line must hold the numbers u v") from None
    corner_uv = np.array(kept_uvs, dtype=np.int64)
    if corner_uv.min() < 0 or corner_uv.max() >= len(uv) or not np.all(np.isfinite(uv)):
        raise ModelFileError(
            f"{path}: face corners name texture coordinates 1..{corner_uv.max() + 1}, "
            f"but the file has {len(uv)} finite ones"
        )
    return compact_layout(uv, corner_uv)


def _paint_iris(shell: np.ndarray, triangles: np.ndarray, parts: np.ndarray, vertices: np.ndarray) -> None:
    """Colour the cornea of one eyeball shell (its triangles ``shell``) as iris and pupil, in place."""
    if not len(shell):
        return
    points = vertices[np.unique(triangles[shell])]
    centre = (points.min(axis=0) + points.max(axis=0)) / 2
    # The cornea bulges out of the ball: its apex is the shell's farthest point from the centre.
    apex = points[np.argmax(np.linalg.norm(points - centre, axis=1))]
    axis = (apex - centre) / np.linalg.norm(apex - centre)
    directions = vertices[triangles[shell]].mean(axis=1) - centre
    angle = np.degrees(np.arccos(np.clip(directions @ axis / np.linalg.norm(directions, axis=1), -1.0, 1.0)))
    parts[shell[angle < IRIS_HALF_ANGLE_DEG]] = FacePart.IRIS
    parts[shell[angle < PUPIL_HALF_ANGLE_DEG]] = FacePart.PUPIL


def _kept_landmarks(path: Path, landmarks: list[int], new_index: np.ndarray) -> np.ndarray:
    indices = np.array(landmarks, dtype=np.int64)
    outside = (indices < 0) | (indices >= len(new_index))
    if np.any(outside):
        raise ModelFileError(f"{path}: landmark vertex {indices[outside][0]} is not a vertex of the mesh")
    kept = new_index[indices]
    if np.any(kept < 0):
        raise ModelFileError(
            f"{path}: landmark vertex {indices[kept < 0][0]} lies on a mesh that is dropped "
            "(an overlay or the hidden inner eyeball)"
        )
    return kept
