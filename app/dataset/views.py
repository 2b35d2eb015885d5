"""The views of one shard's faces: their random choices, their files and their recorded ground truth.

Every choice comes from the shard's own seeded streams, so a shard's images regenerate exactly:
``view_rng`` (seed, shard, 1) draws each view's pose (yaw and pitch first, then roll, so that a
view without roll keeps its pose), key light (a direction within ``max_light_angle`` of the default key light, and an
intensity factor) and background picture; ``texture_rng`` (seed, shard, 2) draws each face's
colour coefficients. Asking for images or colours never changes the coefficients.

The shard records, per view, the camera (``Pose_Para``), the 68 landmarks projected with it,
the key light and the background picture's name and sha256, and per face the colour coefficients.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps

from app.atomic_files import write_atomically
from app.dataset.format_300w_lp import write_jpeg, write_label
from app.dataset.layout import view_files
from app.dataset.settings import GenerationSettings
from app.dataset.view_options import background_colour, background_pictures, map_kinds
from app.errors import FaceExplorerError
from app.model.albedo import AlbedoModel, skin_tone_albedo
from app.model.morphable_model import MorphableModel
from app.png_files import read_rgb, write_png
from app.rendering.key_light import DEFAULT_KEY_LIGHT, KeyLight

if TYPE_CHECKING:
    from app.rendering.face_renderer import FaceRenderer


DATASET_PNG_LEVEL = 3  # zlib level of dataset PNGs: a third of the default's time for ~10 % more bytes


def view_rng(seed: int, shard: int) -> np.random.Generator:
    """Poses, lights and backgrounds of a shard's views (the stream image poses always used)."""
    return np.random.default_rng([seed, shard, 1])


def texture_rng(seed: int, shard: int) -> np.random.Generator:
    return np.random.default_rng([seed, shard, 2])


@dataclass(frozen=True)
class ViewPlan:
    """The random choices of every view of a shard's faces; view 0 of each face is frontal."""

    angles: np.ndarray  # (F, V, 3) pitch, yaw, roll in degrees
    light_direction: np.ndarray  # (F, V, 3) unit vectors, image space
    light_intensity: np.ndarray  # (F, V)
    background: np.ndarray  # (F, V) index of the background picture, -1 for a colour

    @classmethod
    def draw(cls, settings: GenerationSettings, shard: int, faces: int, pictures: int) -> ViewPlan:
        rng = view_rng(settings.seed, shard)
        views, turned = 1 + settings.random_views, settings.random_views
        angles = np.zeros((faces, views, 3))
        angles[:, 1:, 1] = rng.uniform(-settings.max_yaw, settings.max_yaw, size=(faces, turned))
        angles[:, 1:, 0] = rng.uniform(-settings.max_pitch, settings.max_pitch, size=(faces, turned))
        angles[:, 1:, 2] = rng.uniform(-settings.max_roll, settings.max_roll, size=(faces, turned))
        # Uniform on the sphere's cap of half-angle max_light_angle about the default key light.
        cos_tilt = rng.uniform(np.cos(np.radians(settings.max_light_angle)), 1.0, size=(faces, views))
        turn = rng.uniform(0.0, 2.0 * np.pi, size=(faces, views))
        axis = np.asarray(DEFAULT_KEY_LIGHT.direction)
        side = np.cross(axis, [0.0, 0.0, 1.0])
        side /= np.linalg.norm(side)
        up = np.cross(axis, side)
        sin_tilt = np.sqrt(1.0 - cos_tilt**2)
        direction = (
            cos_tilt[..., None] * axis
            + (sin_tilt * np.cos(turn))[..., None] * side
            + (sin_tilt * np.sin(turn))[..., None] * up
        )
        intensity = DEFAULT_KEY_LIGHT.intensity * rng.uniform(
            settings.min_light, settings.max_light, size=(faces, views)
        )
        background = rng.integers(0, pictures, size=(faces, views)) if pictures else np.full((faces, views), -1)
        return cls(angles, direction, intensity, background.astype(np.int64))


def albedo_of(model: MorphableModel) -> AlbedoModel:
    """The model's texture model, else skin-tone variation around the colours its parts are drawn in."""
    if model.albedo is not None:
        return model.albedo
    from app.rendering.look import PART_COLOURS  # pyvista comes with it: only imported when faces are coloured

    assert model.triangle_parts is not None  # MorphableModel.__post_init__ fills it in
    return skin_tone_albedo(model.triangles, model.triangle_parts, model.n_vertices, PART_COLOURS)


@lru_cache(maxsize=32)
def _picture(path: Path, size: int) -> np.ndarray:
    """A background picture cropped to a square about its centre and scaled to ``size`` (RGB uint8)."""
    return np.asarray(ImageOps.fit(Image.fromarray(read_rgb(path, "background picture")), (size, size)))


@lru_cache(maxsize=1024)
def _picture_digest(path: Path) -> str:
    """sha256 of a background picture's file, recorded so a regenerated dataset can show it used the same one."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as failure:
        raise FaceExplorerError(
            f"background picture {path}: cannot read it ({failure.strerror or failure})"
        ) from failure


class ShardViews:
    """Colours, renders, writes and records the views of one shard's faces."""

    def __init__(
        self,
        settings: GenerationSettings,
        shard: int,
        model: MorphableModel,
        renderer: Callable[[int], FaceRenderer],
        in_background: Callable[..., Future[Path]],
    ) -> None:
        """``renderer(size)`` gives the process's renderer (one off-screen window, reused); ``in_background(write,
        *args)`` runs a file's encoding and synced write on a writing thread while the next view renders."""
        faces = len(settings.shard_rows(shard))
        self.settings, self.shard, self.model = settings, shard, model
        self._renderer, self._in_background = renderer, in_background
        colour = background_colour(settings.background)
        self.pictures = [] if not settings.background or colour else background_pictures(settings.background)
        if colour is None and settings.images:
            from app.rendering.look import BACKGROUND  # pyvista comes with it: only imported when images are made

            colour = BACKGROUND
        self.colour = colour  # None only without images, when no view is ever written
        self.plan = ViewPlan.draw(settings, shard, faces, len(self.pictures))
        self.albedo = albedo_of(model) if settings.albedo else None
        self.texture = self.albedo.sample(faces, texture_rng(settings.seed, shard)) if self.albedo else None
        if settings.image_format == "300w-lp" and (model.landmarks is None or len(model.landmarks) != 68):
            why = f" ({model.landmarks_note})" if model.landmarks_note else ""
            found = "no landmarks" if model.landmarks is None else f"{len(model.landmarks)} landmarks, not 68"
            raise FaceExplorerError(f"{model.name} has {found}, which 300W-LP files need (pt2d){why}")
        views = 1 + settings.random_views
        self.pose_para = np.zeros((faces, views, 7))
        self.landmarks = None if model.landmarks is None else np.full((faces, views, len(model.landmarks), 2), np.nan)

    def colours(self, face: int) -> np.ndarray | None:
        """(N, 3) float32 RGB in [0, 1] of the shard's ``face``-th face, or None when faces are not coloured."""
        return None if self.albedo is None or self.texture is None else self.albedo.colours(self.texture[face])

    def write(
        self, folder: Path, index: int, face: int, vertices: np.ndarray, alpha_id: np.ndarray, alpha_exp: np.ndarray
    ) -> list[Future[Path]]:
        """Render every view of the shard's ``face``-th face (global ``index``); its files are written in the
        background."""
        settings, plan, later, colour = self.settings, self.plan, self._in_background, self.colour
        assert colour is not None  # views are written only for datasets with images, which have a colour
        renderer = self._renderer(settings.image_size)
        kinds = map_kinds(settings.maps)
        colours = self.colours(face)
        pending: list[Future[Path]] = []
        for view in range(1 + settings.random_views):
            pitch, yaw, roll = np.radians(plan.angles[face, view])
            camera = renderer.camera(pitch, yaw, roll, settings.focal_length or None)
            light = KeyLight(tuple(plan.light_direction[face, view]), float(plan.light_intensity[face, view]))
            picture = plan.background[face, view]
            background = _picture(self.pictures[picture], settings.image_size) if picture >= 0 else colour
            image = renderer.draw(
                vertices,
                camera,
                light,
                colours,
                background,
                mask="mask" in kinds,
                depth="depth" in kinds,
                normals="normals" in kinds,
            )
            self.pose_para[face, view] = camera.pose_para
            points = None
            if self.landmarks is not None:
                points = self.landmarks[face, view] = camera.project(vertices[self.model.landmarks])
            paths = iter(folder / path for path in view_files(settings, self.shard, index, view))
            if settings.image_format == "300w-lp":
                texture = None if self.texture is None else self.texture[face]
                pending.append(later(write_jpeg, next(paths), image.rgb))
                pending.append(later(write_label, next(paths), alpha_id, alpha_exp, camera, points, texture))
            else:
                pending.append(later(write_png, next(paths), image.rgb, DATASET_PNG_LEVEL))
            pending += [
                later(_write_map, path, kind, image.ground_truth(kind)) for kind, path in zip(kinds, paths, strict=True)
            ]
        return pending

    def tables(self) -> dict[str, np.ndarray]:
        """What the shard file records about its views and colours."""
        plan = self.plan
        tables: dict[str, np.ndarray] = {}
        if self.settings.images:
            tables["view_pose_para"] = self.pose_para
            if self.landmarks is not None:
                tables["view_landmarks"] = self.landmarks
            tables["view_light"] = np.concatenate([plan.light_direction, plan.light_intensity[..., None]], axis=-1)
            tables["view_background"] = np.array(
                [[self.pictures[i].name if i >= 0 else "" for i in row] for row in plan.background]
            )
            tables["view_background_sha256"] = np.array(
                [[_picture_digest(self.pictures[i]) if i >= 0 else "" for i in row] for row in plan.background]
            )
        if self.texture is not None:
            tables["texture"] = self.texture
        return tables


def _write_map(path: Path, kind: str, values: np.ndarray) -> Path:
    """One per-pixel map of a view: depth as .npy, the mask and the normals as PNG."""
    if kind == "depth":
        buffer = io.BytesIO()
        np.save(buffer, values, allow_pickle=False)
        return write_atomically(path, [buffer.getbuffer()])
    if kind == "mask":
        return write_png(path, values.astype(np.uint8) * 255, DATASET_PNG_LEVEL)
    return write_png(path, values, DATASET_PNG_LEVEL)
