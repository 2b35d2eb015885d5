"""The web rater's pictures: each face's turntable rendered with the rater window's camera, as WebP.

Profiled on the paper's study (768 pixels, 9 pictures a face, software OpenGL, 2 cores): a render
takes about 27 ms, Pillow's default WebP effort (method 4) 24 ms a picture, ``WEBP_METHOD`` 2 8 ms
for files 7 % larger at the same quality (46.5 against 46.7 dB PSNR); synthesis and JSON are
negligible. One renderer (one off-screen GL window) draws all of a process's pictures. As for
``generate --images``, one process already keeps two cores busy (llvmpipe draws on both): a second
one measured 0.98× of one on 2 cores, so there is one worker process per two cores (spawned) and
none on a 2-core machine. The parent synthesizes each chunk of faces in one batch.
``bench/bench_web_pictures.py`` measures it against one process and the old encoder effort.
"""

from __future__ import annotations

import io
import math
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from PIL import Image

from app.model.morphable_model import MorphableModel
from app.rendering.camera import framing_camera
from app.rendering.face_renderer import FaceRenderer
from app.rendering.look import framing_bounds

IMAGE_TYPE = "webp"
IMAGE_QUALITY = 80  # WebP quality: about 6 KB a picture at 768 pixels
WEBP_METHOD = 2  # encoder effort 0 … 6: see the module docstring
DESKTOP_VIEW_ANGLE = 30.0  # degrees: VTK's default camera, which the rater window keeps
CHUNK_FACES = 25  # faces per task of a worker: small enough to share the work evenly, large enough to batch


@dataclass(frozen=True)
class TurntableFace:
    """One face to draw: its opaque name, its WebP quality and its coefficients."""

    name: str
    quality: int
    alpha_id: np.ndarray
    alpha_exp: np.ndarray


@dataclass(frozen=True)
class WrittenPictures:
    """What ``write_turntables`` wrote."""

    bytes: int
    workers: int  # processes that drew them (1: drawn in this process)


@dataclass(frozen=True)
class _Turntable:
    """What every worker receives once: the mesh, the picture size, the yaws and the folder."""

    mean: np.ndarray
    triangles: np.ndarray
    triangle_parts: np.ndarray | None
    size: int
    yaws: tuple[float, ...]
    folder: Path


def desktop_view(mean_vertices: np.ndarray) -> tuple[np.ndarray, float]:
    """The rater window's view as a frame box (3, 2) and a camera distance (model units).

    The window frames the mean face's box (``look.framing_bounds``) with VTK's ResetCamera: the
    camera stands radius / sin(θ/2) from the box's centre (radius: half the box's diagonal, θ the
    view angle), so the view is 2 · radius / cos(θ/2) high at the centre.
    """
    bounds = framing_bounds(mean_vertices)
    centre = bounds.mean(axis=1)
    radius = 0.5 * float(np.linalg.norm(bounds[:, 1] - bounds[:, 0]))
    half_angle = math.radians(DESKTOP_VIEW_ANGLE / 2.0)
    half_height = radius / math.cos(half_angle)
    frame = np.stack([centre - half_height, centre + half_height], axis=1)
    return frame, radius / math.sin(half_angle)


def picture_name(name: str, position: int) -> str:
    """The file of face ``name``'s picture at turntable ``position`` (0 is -90°)."""
    return f"{name}-{position}.{IMAGE_TYPE}"


def write_turntables(
    model: MorphableModel,
    faces: list[TurntableFace],
    yaws: list[float],
    size: int,
    folder: Path,
    workers: int | None = None,
    chunk_faces: int = CHUNK_FACES,
    log: Callable[[str], None] = lambda _: None,
) -> WrittenPictures:
    """Write every face's pictures into ``folder``.

    ``workers`` processes (default: one per two cores this process may use) share the chunks; with
    one chunk or one worker everything is drawn here, with no process started.
    """
    turntable = _Turntable(model.mean.reshape(-1, 3), model.triangles, model.triangle_parts, size, tuple(yaws), folder)
    chunks = [faces[start : start + chunk_faces] for start in range(0, len(faces), chunk_faces)]
    workers = max(1, min(len(os.sched_getaffinity(0)) // 2 if workers is None else workers, len(chunks)))
    started = time.perf_counter()
    written = done = 0
    for count, size_written in _drawn_chunks(model, turntable, chunks, workers):
        written += size_written
        logged, done = done // 50, done + count
        if done // 50 > logged or done == len(faces):
            log(f"rendered {done}/{len(faces)} faces ({time.perf_counter() - started:.0f} s, {workers} process(es))")
    return WrittenPictures(written, workers)


def _drawn_chunks(
    model: MorphableModel, turntable: _Turntable, chunks: list[list[TurntableFace]], workers: int
) -> Iterator[tuple[int, int]]:
    """(faces, bytes) of each chunk once it is written, in order."""
    if workers <= 1:
        writer = _TurntableWriter(turntable)
        try:
            for chunk in chunks:
                yield len(chunk), writer.write(_batch(model, chunk))
        finally:
            writer.close()
        return
    # Spawned, not forked: a fork of a process that has run VTK or torch can hang.
    with ProcessPoolExecutor(workers, get_context("spawn"), initializer=_start_worker, initargs=(turntable,)) as pool:
        pending: list[tuple[int, Future[int]]] = []
        for chunk in chunks:
            if len(pending) >= 2 * workers:  # a bounded queue: only a few chunks' vertices wait in memory
                count, future = pending.pop(0)
                yield count, future.result()
            pending.append((len(chunk), pool.submit(_write_in_worker, _batch(model, chunk))))
        for count, future in pending:
            yield count, future.result()


def _batch(model: MorphableModel, chunk: list[TurntableFace]) -> list[tuple[str, int, np.ndarray]]:
    """(name, quality, vertices) of every face of ``chunk``, synthesized in one product."""
    vertices = model.synthesize(
        np.stack([face.alpha_id for face in chunk]), np.stack([face.alpha_exp for face in chunk])
    )
    return [(face.name, face.quality, drawn) for face, drawn in zip(chunk, vertices, strict=True)]


class _TurntableWriter:
    """One renderer that draws and encodes every picture of the faces it is given."""

    def __init__(self, turntable: _Turntable) -> None:
        frame, distance = desktop_view(turntable.mean)
        size = turntable.size
        focal = distance * size / float(np.max(frame[:2, 1] - frame[:2, 0]))  # pixels, as framing_camera scales
        self.cameras = [framing_camera(frame, size, size, yaw=math.radians(yaw), focal=focal) for yaw in turntable.yaws]
        self.folder = turntable.folder
        self.renderer = FaceRenderer(turntable.mean, turntable.triangles, size, turntable.triangle_parts)

    def write(self, faces: list[tuple[str, int, np.ndarray]]) -> int:
        written = 0
        for name, quality, vertices in faces:
            for position, camera in enumerate(self.cameras):
                buffer = io.BytesIO()
                picture = Image.fromarray(self.renderer.draw(vertices, camera).rgb)
                picture.save(buffer, "WEBP", quality=quality, method=WEBP_METHOD)
                (self.folder / picture_name(name, position)).write_bytes(buffer.getvalue())
                written += buffer.tell()
        return written

    def close(self) -> None:
        self.renderer.close()


_worker_writer: _TurntableWriter | None = None  # a worker process's renderer, made once at its start


def _start_worker(turntable: _Turntable) -> None:
    global _worker_writer
    _worker_writer = _TurntableWriter(turntable)


def _write_in_worker(faces: list[tuple[str, int, np.ndarray]]) -> int:
    assert _worker_writer is not None, "a worker's renderer is made by its initializer"
    return _worker_writer.write(faces)
