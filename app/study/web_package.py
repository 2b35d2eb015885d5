"""The study as a static web folder: one page every rater slot opens in a browser, and its pictures.

``rate-package STUDY --web OUT`` writes index.html, rater.js and rater.css (``app/study/web``),
study.js (each slot's order of opaque face names, the instructions, the study's fingerprint) and
faces/NAME-K.webp: every face rendered by the product's own renderer, with the rater window's
camera, at yaws from -90° (right side) through 0° (front) to 90° (left side), the side view the
rater window's S key shows (``app.study.web_pictures``). The page needs no server, CDN or network.
Nothing in the folder says which condition a face belongs to (``app.study.web_ids``); a repeated
face is encoded at another quality, so its files are not byte copies of the first showing's. The
folder appears complete or not at all (written beside it, then renamed).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from app import __version__
from app.atomic_files import create_folder, write_error
from app.errors import FaceExplorerError
from app.model.morphable_model import MorphableModel
from app.study.database import RatingsDatabase
from app.study.definition import rater_order
from app.study.packages import slot_names
from app.study.web_ids import opaque_face_ids
from app.study.web_pictures import IMAGE_QUALITY, IMAGE_TYPE, TurntableFace, write_turntables

ASSETS: tuple[str, ...] = ("index.html", "rater.js", "rater.css")
DEFAULT_IMAGE_SIZE = 768  # pixels: the face area of a 1366 × 768 laptop screen is about 560 pixels high
DEFAULT_TURNTABLE = 9  # pictures per face, every 22.5° from -90° to 90°


@dataclass(frozen=True)
class WebPackage:
    """What ``export_web_package`` wrote, and what it cost."""

    folder: Path
    slots: list[str]
    faces: int  # faces a rater judges (each has its own pictures)
    pictures: int
    picture_bytes: int
    page_bytes: int  # index.html, rater.js, rater.css and study.js: loaded once
    render_seconds: float
    workers: int  # processes that rendered the pictures

    @property
    def bytes_per_face(self) -> float:
        return self.picture_bytes / self.faces


def turntable_yaws(count: int) -> list[float]:
    """``count`` yaws (degrees) from -90 to 90; an odd count holds the front (0) and the side (90)."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 3 or count % 2 == 0:
        raise FaceExplorerError(f"the turntable needs an odd number of pictures, at least 3 (got {count!r})")
    return [float(yaw) for yaw in np.linspace(-90.0, 90.0, count)]


def export_web_package(
    study: RatingsDatabase,
    model: MorphableModel,
    folder: str | Path,
    count: int | None = None,
    completion_url: str | None = None,
    size: int = DEFAULT_IMAGE_SIZE,
    turntable: int = DEFAULT_TURNTABLE,
    log: Callable[[str], None] = lambda _: None,
) -> WebPackage:
    """Write the web rater for ``count`` slots (default: the study's rater_slots) into the new ``folder``.

    The pictures are drawn in this process, or by one worker process per two cores (``app.study.web_pictures``).
    """
    if study.package is not None:
        raise FaceExplorerError(f"{study.path} is itself a rater package; put the study it came from online")
    study.require_model(model.provenance)
    count = study.definition.rater_slots if count is None else count
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise FaceExplorerError(f"the number of rater slots must be a positive integer (got {count!r})")
    if completion_url is not None and not completion_url.startswith(("https://", "http://")):
        raise FaceExplorerError(f"the completion URL must start with https:// or http:// (got '{completion_url}')")
    yaws = turntable_yaws(turntable)
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise FaceExplorerError(
            f"{folder} already exists and is not an empty folder; a web package is never overwritten"
        )
    faces = study.faces()  # reading them checks the study's own fingerprint
    names = opaque_face_ids(study)
    slots = slot_names(count)
    listed = sorted(names.values())
    index = {name: position for position, name in enumerate(listed)}
    repeats = study.repeats()
    data = {
        "format": 1,
        "made_by": f"face-manifold-explorer {__version__}",
        "fingerprint": study.actual_fingerprint(),
        "web_package": uuid.uuid4().hex,
        "instructions": study.definition.instructions,
        "allow_unsure": study.definition.allow_unsure,
        "face_count": len(faces),
        "yaws": yaws,
        "front": yaws.index(0.0),
        "side": yaws.index(90.0),
        "image_type": IMAGE_TYPE,
        "completion_url": completion_url,
        "faces": listed,
        "slots": slots,
        "orders": [
            [index[names[face_id]] for face_id in rater_order(list(faces), study.definition.seed, slot, repeats)]
            for slot in slots
        ],
    }
    create_folder(folder.parent)
    partial = folder.with_name(f".{folder.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        (partial / "faces").mkdir(parents=True)
        page_bytes = 0
        for asset in ASSETS:
            page_bytes += _write(partial / asset, resources.files("app.study").joinpath("web", asset).read_bytes())
        page_bytes += _write(partial / "study.js", f"window.FACE_STUDY = {json.dumps(data)};\n".encode())
        started = time.perf_counter()
        drawn = [
            # A repeated face's pictures at another quality: not byte copies of its first showing's.
            TurntableFace(
                names[face.face_id], IMAGE_QUALITY - (face.repeats is not None), face.alpha_id, face.alpha_exp
            )
            for face in faces.values()
        ]
        pictures = write_turntables(model, drawn, yaws, size, partial / "faces", log=log)
        seconds = time.perf_counter() - started
        os.rename(partial, folder)  # replaces only an empty folder
    except OSError as error:
        raise write_error(folder, error) from error
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return WebPackage(
        folder, slots, len(faces), len(faces) * len(yaws), pictures.bytes, page_bytes, seconds, pictures.workers
    )


def _write(path: Path, data: bytes) -> int:
    path.write_bytes(data)
    return len(data)
