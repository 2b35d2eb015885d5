"""How long a gallery of 16 faces takes. Run: xvfb-run -a .venv/bin/python bench/bench_gallery.py

Prints, for a 4 × 4 gallery with the paper's sampling:
- drawing and denoising the 16 faces (``sample_gallery``, one face at a time through
  ``LiveFace.denoise_face``) with the shipped networks, beside the same networks on the 16 faces
  in one batch (how the gallery denoised them before it followed the explorer's choice), and with
  the shipped learned prior at its default strength when that loads;
- rendering the 32 thumbnails (each face and its denoised version) with the one reused
  off-screen renderer, synthesis included;
- the whole gallery, and the sheet composed and written as one PNG;
beside the limit of the same work measured in the same run: 32 bare renders of the same mesh
in the same frame and size, its arrays marked modified each time as a new face would (uploading
and rasterising it and reading the pixels back, but no synthesis and no normals): the least any
way of drawing 32 new thumbnails with this GL can cost.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.denoising.denoiser import Denoiser
from app.denoising.torch_threads import one_torch_thread
from app.errors import FaceExplorerError
from app.explorer.denoising_choice import DenoisingChoice
from app.explorer.face_state import FaceState
from app.explorer.gallery import (
    THUMBNAIL_SIZE,
    ThumbnailRenderer,
    sample_gallery,
    save_gallery_png,
    thumbnail_frame,
)
from app.explorer.live_face import LiveFace
from app.model.morphable_model import MorphableModel
from app.model.sampling_settings import SamplingSettings
from app.rendering.face_renderer import FaceRenderer
from app.workspace import Workspace

FACES = 16
COLUMNS = 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (median printed)")
    parser.add_argument("--size", type=int, default=THUMBNAIL_SIZE, help="thumbnail size in pixels")
    args = parser.parse_args()
    workspace = Workspace()
    model, denoiser = workspace.model, workspace.denoiser
    try:
        prior, prior_problem = workspace.prior, ""
    except FaceExplorerError as problem:
        prior, prior_problem = None, str(problem).splitlines()[0]
    choice = DenoisingChoice()
    live = LiveFace(FaceState(model), denoiser, prior, choice)
    renderer = ThumbnailRenderer(model, args.size)
    limit = FaceRenderer(thumbnail_frame(model), model.triangles, args.size, model.triangle_parts)
    limit.draw(model.mean.reshape(-1, 3), limit.camera())  # the face the bare renders draw again
    sampling, batched, prior_sampling, rendering, sheets, bare = [], [], [], [], [], []
    try:
        faces = sample_gallery(model, live.denoise_face, SamplingSettings(), FACES)  # warm-up: torch, GL, caches
        pairs = [renderer.pair(face) for face in faces]
        with tempfile.TemporaryDirectory() as folder:
            for repeat in range(args.repeats):
                settings = SamplingSettings(seed=1000 * repeat)
                start = time.perf_counter()
                faces = sample_gallery(model, live.denoise_face, settings, FACES)
                sampled = time.perf_counter()
                pairs = [renderer.pair(face) for face in faces]
                rendered = time.perf_counter()
                save_gallery_png(Path(folder) / "gallery.png", faces, pairs, COLUMNS, "networks")
                written = time.perf_counter()
                for step in range(2 * FACES):
                    limit.mesh.vertices[:, 0] += 1.0 if step % 2 else -1.0  # a new face to upload, no new work
                    limit.mesh.modified()
                    limit.plotter.render()
                    limit.plotter.screenshot(return_img=True)
                bare.append(time.perf_counter() - written)
                sampling.append(sampled - start)
                rendering.append(rendered - sampled)
                sheets.append(written - rendered)
                batched.append(batch_of_networks(model, denoiser, settings))
                if prior is not None:
                    choice.choose("prior")
                    start = time.perf_counter()
                    sample_gallery(model, live.denoise_face, settings, FACES)
                    prior_sampling.append(time.perf_counter() - start)
                    choice.choose("networks")
    finally:
        live.close()
        renderer.close()
        limit.close()
    ms = lambda values: 1000.0 * statistics.median(values)  # noqa: E731
    total = [s + r + w for s, r, w in zip(sampling, rendering, sheets, strict=True)]
    print(f"gallery of {FACES} faces ({2 * FACES} thumbnails of {args.size} px), median of {args.repeats}:")
    print(f"  draw + denoise 16 faces      {ms(sampling):8.1f} ms   (networks, one face at a time)")
    print(f"  baseline: in one batch       {ms(batched):8.1f} ms   (the same networks, all 16 faces at once)")
    if prior_sampling:
        print(f"  with the learned prior       {ms(prior_sampling):8.1f} ms   (t = {choice.current.strength:.2f})")
    else:
        print(f"  with the learned prior       not measured: {prior_problem}")
    print(f"  render 32 thumbnails         {ms(rendering):8.1f} ms   ({ms(rendering) / (2 * FACES):.1f} ms each)")
    print(f"  compose + write the PNG      {ms(sheets):8.1f} ms")
    print(f"  whole gallery                {ms(total):8.1f} ms")
    print(f"  limit: 32 bare renders       {ms(bare):8.1f} ms   (same mesh, frame and size; arrays re-uploaded)")
    print(f"  rendering / limit            {ms(rendering) / ms(bare):8.2f} ×")


def batch_of_networks(model: MorphableModel, denoiser: Denoiser, settings: SamplingSettings) -> float:
    """Seconds to draw the gallery's faces and denoise them with the networks in one batch."""
    start = time.perf_counter()
    faces = sample_gallery(model, None, settings, FACES)
    with one_torch_thread():
        denoiser.denoise("shape", np.array([face.alpha_id for face in faces]))
        denoiser.denoise("expression", np.array([face.alpha_exp for face in faces]))
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
