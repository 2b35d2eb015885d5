"""The web rater's pictures (rate-package --web): time and size per face beside the old way, in the same run.

Run: .venv/bin/python bench/bench_web_pictures.py [--faces 60] [--size 768] [--turntable 9]   (prints numbers)

Rows: the way before issue 18's profile (one process, Pillow's default WebP effort, method 4),
one process at ``WEBP_METHOD`` (what rate-package --web does on 2 cores), and two worker processes,
beside the bare renders and read-backs of the same pictures (no encoding, no files): the limit
of one process. The paper's study has 1000 faces: multiply the seconds per face by 1000.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from app.model.embedded_model import embedded_model
from app.rendering.camera import framing_camera
from app.rendering.face_renderer import FaceRenderer
from app.study import web_pictures
from app.study.web_package import turntable_yaws
from app.study.web_pictures import TurntableFace, desktop_view, write_turntables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", type=int, default=60)
    parser.add_argument("--size", type=int, default=768)
    parser.add_argument("--turntable", type=int, default=9)
    args = parser.parse_args()
    model = embedded_model()
    rng = np.random.default_rng(0)
    faces = [
        TurntableFace(f"f{index}", 80, rng.normal(size=model.n_id), rng.normal(size=model.n_exp))
        for index in range(args.faces)
    ]
    yaws = turntable_yaws(args.turntable)
    print(f"{args.faces} faces × {args.turntable} pictures at {args.size} px; {len(os.sched_getaffinity(0))} cores")
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print(f"bare renders, one process: {bare_renders(model, faces, yaws, args.size):.3f} s per face")
    method = web_pictures.WEBP_METHOD
    for label, workers, webp_method in (
        ("before: one process, WebP method 4", 1, 4),
        (f"one process, WebP method {method}", 1, method),
        (f"two worker processes, WebP method {method}", 2, method),
    ):
        web_pictures.WEBP_METHOD = webp_method  # read by the in-process writer; workers import the module's own (2)
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            written = write_turntables(model, faces, yaws, args.size, Path(folder), workers)
            seconds = (time.perf_counter() - started) / len(faces)
        size = written.bytes / len(faces) / 1024
        print(f"{label} ({written.workers}): {seconds:.3f} s per face, {size:.0f} KB per face")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


def bare_renders(model, faces: list[TurntableFace], yaws: list[float], size: int) -> float:
    """Seconds per face to synthesize, render and read back every picture, nothing else."""
    mean = model.mean.reshape(-1, 3)
    frame, distance = desktop_view(mean)
    focal = distance * size / float(np.max(frame[:2, 1] - frame[:2, 0]))
    cameras = [framing_camera(frame, size, size, yaw=math.radians(yaw), focal=focal) for yaw in yaws]
    renderer = FaceRenderer(mean, model.triangles, size, model.triangle_parts)
    try:
        started = time.perf_counter()
        for face in faces:
            vertices = model.synthesize(face.alpha_id, face.alpha_exp)
            for camera in cameras:
                renderer.draw(vertices, camera)
        return (time.perf_counter() - started) / len(faces)
    finally:
        renderer.close()


if __name__ == "__main__":
    main()
