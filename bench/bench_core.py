"""Throughput of the core beside the physical limit of the same work, measured in the same run.

Run: .venv/bin/python bench/bench_core.py [--quick]   (prints numbers; nothing is asserted)

Each figure is printed with the limit it is judged against and their ratio: synthesis against the bare
float32 GEMM ``alpha @ basis``; denoising and coefficient datasets against the bare networks (forward
passes on normalised tensors, the two nets in sequence per face, on one torch thread as generation runs
them); binary PLY datasets against synthesis + normals + a raw ``numpy.tofile`` of the same bytes (no
header, fsync or rename); image datasets against the bare off-screen render and read-back of the same
mesh and size (no PNG, no file); ``--workers N`` against one worker. Targets (issue 10): each dataset
≥ 0.5× its limit, N workers never slower than one. Training time per epoch is extrapolated (it says so).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch

from app.dataset.generation import default_workers, generate, usable_cores
from app.dataset.mesh_files import MeshWriter
from app.dataset.settings import GenerationSettings, Provenance
from app.denoising.corruption import make_noisy_pairs
from app.denoising.denoiser import Denoiser
from app.denoising.network import AutoEncoder4, apply_in_batches
from app.denoising.torch_threads import one_torch_thread
from app.denoising.training import TrainingConfig
from app.model.embedded_corpus import PAPER_FACE_COUNT, embedded_corpus
from app.model.embedded_model import embedded_model
from app.model.sampling import sample_coefficients
from app.model.vertex_normals import VertexNormals

ROWS: list[tuple[str, str, str, str, str]] = []  # what, measured, limit, ratio, target


def best_seconds(function, repeats: int = 1, rounds: int = 3) -> float:
    """Seconds per call: the best of ``rounds`` rounds of ``repeats`` calls (the machine is shared)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            function()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


def report(what: str, rate: float, limit: float, unit: str, target: float | None = None) -> None:
    ratio = rate / limit
    verdict = "" if target is None else (f"≥ {target:g}× {'met' if ratio >= target else 'NOT met'}")
    ROWS.append((what, f"{rate:,.1f} {unit}", f"{limit:,.1f} {unit}", f"{ratio:.2f}×", verdict))
    print(f"{what}: {rate:,.1f} {unit} vs limit {limit:,.1f} {unit} = {ratio:.2f}× {verdict}")


def dataset_rate(
    scratch: Path, name: str, settings: GenerationSettings, model, denoiser, provenance, **options
) -> float:
    """Faces/s of one whole ``generate`` run, start-up included (the dataset is deleted afterwards)."""
    summary = generate(scratch / name, settings, model, denoiser, provenance, show_progress=False, **options)
    shutil.rmtree(scratch / name)
    return summary.faces / summary.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (about a minute less), noisier figures")
    args = parser.parse_args()
    scale = 0.25 if args.quick else 1.0
    cores = usable_cores()
    cuda = f"yes: {torch.cuda.get_device_name()}" if torch.cuda.is_available() else "no"
    print(
        f"machine: {platform.processor() or platform.machine()}, {cores} cores, "
        f"{torch.get_num_threads()} torch threads, "
        f"load {os.getloadavg()[0]:.1f}, CUDA {cuda}; "
        f"python {platform.python_version()}, torch {torch.__version__}"
    )
    model = embedded_model()
    rng = np.random.default_rng(0)
    print(f"model: {model.provenance.describe()}, {model.n_vertices:,} vertices, {len(model.triangles):,} triangles")

    # Synthesis against the bare GEMM of the same shapes.
    batch = 64
    alpha_id = sample_coefficients(model, "shape", "uniform", batch, rng)
    alpha_exp = sample_coefficients(model, "expression", "uniform", batch, rng)
    alpha32 = np.hstack([alpha_id, alpha_exp]).astype(np.float32)
    basis = np.vstack([model.basis_id, model.basis_exp])
    gemm = batch / best_seconds(lambda: alpha32 @ basis, 3)
    report(
        f"synthesis, batches of {batch}",
        batch / best_seconds(lambda: model.synthesize(alpha_id, alpha_exp), 3),
        gemm,
        "faces/s",
    )

    # Denoising against the bare networks.
    denoiser = Denoiser.from_folder(model, device="cpu")
    provenance = Provenance.of(model, denoiser)
    count = int(100_000 * scale)
    tables = {
        "shape": sample_coefficients(model, "shape", "uniform", count, rng),
        "expression": sample_coefficients(model, "expression", "uniform", count, rng),
    }
    bare = {}
    for kind, table in tables.items():  # on one torch thread, as dataset generation runs them
        net = denoiser.nets[kind]
        ready = torch.from_numpy((table / denoiser.metadata[kind]["normalisation"]).astype(np.float32))
        with one_torch_thread():
            bare[kind] = count / best_seconds(lambda net=net, ready=ready: apply_in_batches(net, ready))
            rate = count / best_seconds(lambda kind=kind, table=table: denoiser.denoise(kind, table))
        report(f"denoise {kind} (cpu, 1 thread)", rate, bare[kind], "vectors/s")
    network_faces = 1 / (1 / bare["shape"] + 1 / bare["expression"])
    if torch.cuda.is_available():
        gpu = Denoiser.from_folder(model, device="cuda")
        for kind, table in tables.items():
            seconds = best_seconds(lambda kind=kind, table=table: gpu.denoise(kind, table))
            print(f"denoise {kind} (cuda): {count / seconds:,.0f} vectors/s")
    else:
        print("denoise (cuda): no GPU on this machine")

    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_SCRATCH")) as scratch_name:
        scratch = Path(scratch_name)
        faces = int(40_000 * scale)
        settings = GenerationSettings(count=faces, shard_size=max(faces // 4, 1), seed=0)
        report(
            "generate → coefficients (1 process)",
            dataset_rate(scratch, "coefficients", settings, model, denoiser, provenance),
            network_faces,
            "faces/s",
            0.5,
        )

        # PLY: the same work done bare: GEMM, normals, one raw write of the file's bytes.
        writer, normals = (
            MeshWriter(model.triangles, model.n_vertices),
            VertexNormals(model.triangles, model.n_vertices),
        )
        vertices = model.synthesize(alpha_id, alpha_exp)
        mesh_bytes = 320 + 24 * model.n_vertices + 13 * len(model.triangles)
        payload = np.zeros(mesh_bytes, dtype=np.uint8)
        raw = scratch / "raw.bin"
        tofile = best_seconds(lambda: payload.tofile(raw), 10)
        print(f"numpy tofile of one PLY's bytes ({mesh_bytes / 1e6:.2f} MB): {mesh_bytes / tofile / 1e6:,.0f} MB/s")
        normals_seconds = best_seconds(lambda: normals.compute(vertices[0]), 10)
        ply_limit = 1 / (1 / gemm + normals_seconds + tofile)
        ply_faces = int(960 * scale)  # enough for worker processes' start-up (seconds) to amortise
        ply = GenerationSettings(count=ply_faces, shard_size=max(ply_faces // 4, 1), seed=0, mesh_format="ply")
        one = dataset_rate(scratch, "ply-1", ply, model, denoiser, provenance, workers=1)
        report("generate → binary PLY (1 worker)", one, ply_limit, "faces/s", 0.5)
        workers = max(2, default_workers(ply, ply.shard_count))
        many = dataset_rate(scratch, f"ply-{workers}", ply, model, denoiser, provenance, workers=workers)
        report(
            f"generate → binary PLY ({workers} workers; default here {default_workers(ply, ply.shard_count)})",
            many,
            one,
            "faces/s of 1 worker",
            1.0,
        )
        write_one = best_seconds(lambda: writer.write(scratch / "face.ply", vertices[0]), 5)
        print(
            f"one PLY file with normals, synced and renamed: {write_one * 1e3:.1f} ms "
            f"(normals {normals_seconds * 1e3:.1f} ms, raw write {tofile * 1e3:.1f} ms)"
        )

        # Images against the bare off-screen render of the same mesh at 256 px.
        try:
            from app.rendering.face_renderer import FaceRenderer

            renderer = FaceRenderer(model.mean.reshape(-1, 3), model.triangles, 256, model.triangle_parts)
        except Exception as failure:  # no GL here: say so and go on
            print(f"images: cannot render off-screen here ({failure})")
        else:
            camera = renderer.camera()

            def bare_render(face=vertices[0]) -> None:  # the face in the dataset's own frame (pixels)
                renderer.draw(face, camera)

            render_limit = 1 / best_seconds(bare_render, 10)
            renderer.close()
            image_faces = int(600 * scale)  # the renderer's start-up (about a second) amortised
            images = GenerationSettings(count=image_faces, shard_size=max(image_faces // 2, 1), seed=0, images=True)
            report(
                "generate → PNG 256 px (1 worker)",
                dataset_rate(scratch, "images", images, model, denoiser, provenance, workers=1),
                render_limit,
                "faces/s",
                0.5,
            )

    corpus = embedded_corpus(PAPER_FACE_COUNT)
    for kind in ("expression", "shape"):
        config = TrainingConfig.paper(kind)
        pairs_per_epoch = (PAPER_FACE_COUNT - config.test_faces) * config.copies
        clean = corpus.coefficients(kind)[:2000] / config.normalisation
        pairs = make_noisy_pairs(clean, config.sigma / config.normalisation, 2, rng)
        net = AutoEncoder4(clean.shape[1])
        optimiser = torch.optim.Adam(net.parameters(), lr=config.learning_rate)
        noisy = torch.from_numpy(pairs.noisy)
        target = torch.from_numpy(pairs.targets())
        steps = len(noisy) // config.batch_size
        start = time.perf_counter()
        for step in range(steps):
            rows = slice(step * config.batch_size, (step + 1) * config.batch_size)
            loss = torch.nn.functional.mse_loss(net(noisy[rows].unsqueeze(1)).squeeze(1), target[rows])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
        per_step = (time.perf_counter() - start) / steps
        epoch_steps = -(-pairs_per_epoch // config.batch_size)
        print(
            f"training {kind}: {per_step * 1e3:.2f} ms per batch of {config.batch_size}; one epoch at the paper's size "
            f"({pairs_per_epoch:,} pairs, {epoch_steps:,} batches) ≈ {per_step * epoch_steps:,.0f} s "
            f"(extrapolated from {steps} measured batches, {100 * steps / epoch_steps:.1f} % of an epoch)"
        )

    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"peak memory (max RSS): {peak_kib / 1024:,.0f} MiB")
    print("\n| work | measured | limit | ratio | target |\n| --- | ---: | ---: | ---: | --- |")
    for row in ROWS:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
