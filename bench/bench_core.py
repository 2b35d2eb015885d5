"""Throughput of the core: synthesis, denoising, dataset generation, training; peak memory.

Run: .venv/bin/python bench/bench_core.py   (prints numbers; nothing is asserted)
Training time per epoch at the paper's dataset size is extrapolated from a measured fraction
of an epoch (the output says so), so the script finishes in about a minute on 2 CPU cores.
"""

from __future__ import annotations

import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from app.dataset.generation import generate  # noqa: E402
from app.dataset.mesh_files import MeshWriter  # noqa: E402
from app.dataset.settings import GenerationSettings, Provenance  # noqa: E402
from app.denoising.corruption import make_noisy_pairs  # noqa: E402
from app.denoising.denoiser import Denoiser  # noqa: E402
from app.denoising.network import AutoEncoder4  # noqa: E402
from app.denoising.training import TrainingConfig  # noqa: E402
from app.model.embedded_corpus import PAPER_FACE_COUNT, embedded_corpus  # noqa: E402
from app.model.embedded_model import embedded_model  # noqa: E402
from app.model.sampling import sample_coefficients  # noqa: E402


def timed(function, repeats: int) -> float:
    """Seconds per call, best of three rounds of ``repeats`` calls."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            function()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


def main() -> None:
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, "
          f"CUDA {'yes: ' + torch.cuda.get_device_name() if torch.cuda.is_available() else 'no'}; python {platform.python_version()}, torch {torch.__version__}")
    model = embedded_model()
    rng = np.random.default_rng(0)
    print(f"model: {model.provenance.describe()}, {model.n_vertices:,} vertices, {len(model.triangles):,} triangles")

    alpha_id = sample_coefficients(model, "shape", "uniform", 256, rng)
    alpha_exp = sample_coefficients(model, "expression", "uniform", 256, rng)
    single = timed(lambda: model.synthesize(alpha_id[0], alpha_exp[0]), 50)
    batch = timed(lambda: model.synthesize(alpha_id, alpha_exp), 3)
    print(f"synthesis: single {1 / single:,.0f} faces/s ({single * 1e3:.2f} ms), batch of 256 {256 / batch:,.0f} faces/s")

    denoiser = Denoiser.from_folder(model, device="cpu")
    vectors = sample_coefficients(model, "shape", "uniform", 100_000, rng)
    exp_vectors = sample_coefficients(model, "expression", "uniform", 100_000, rng)
    for kind, table in (("shape", vectors), ("expression", exp_vectors)):
        seconds = timed(lambda table=table, kind=kind: denoiser.denoise(kind, table), 1)
        print(f"denoise {kind} (cpu): {len(table) / seconds:,.0f} vectors/s")
    if torch.cuda.is_available():
        gpu = Denoiser.from_folder(model, device="cuda")
        for kind, table in (("shape", vectors), ("expression", exp_vectors)):
            seconds = timed(lambda table=table, kind=kind: gpu.denoise(kind, table), 1)
            print(f"denoise {kind} (cuda): {len(table) / seconds:,.0f} vectors/s")
    else:
        print("denoise (cuda): no GPU on this machine")

    provenance = Provenance.of(model, denoiser)
    with tempfile.TemporaryDirectory() as scratch:
        settings = GenerationSettings(count=20_000, shard_size=5_000, seed=0)
        summary = generate(Path(scratch) / "coefficients", settings, model, denoiser, provenance, show_progress=False)
        print(f"generate → coefficients: {summary.faces / summary.seconds:,.0f} faces/s "
              f"({summary.bytes / summary.seconds / 1e6:,.1f} MB/s, {summary.bytes / summary.faces:,.0f} bytes/face)")
        settings = GenerationSettings(count=100, shard_size=50, seed=0, mesh_format="ply")
        summary = generate(Path(scratch) / "meshes", settings, model, denoiser, provenance, show_progress=False)
        print(f"generate → binary PLY: {summary.faces / summary.seconds:,.1f} faces/s, "
              f"{summary.bytes / summary.seconds / 1e6:,.1f} MB/s ({summary.bytes / summary.faces / 1e6:.2f} MB/face)")
        writer, face = MeshWriter(model.triangles, model.n_vertices), model.mean.reshape(-1, 3)
        for name, binary in (("face.ply", True), ("face_ascii.ply", False), ("face.obj", True)):
            seconds = timed(lambda name=name, binary=binary: writer.write(Path(scratch) / name, face, binary), 5)
            print(f"write one mesh ({name}, synced to disk, with normals): {seconds * 1e3:.1f} ms")

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
        print(f"training {kind}: {per_step * 1e3:.2f} ms per batch of {config.batch_size}; one epoch at the paper's size "
              f"({pairs_per_epoch:,} pairs, {epoch_steps:,} batches) ≈ {per_step * epoch_steps:,.0f} s "
              f"(extrapolated from {steps} measured batches, {100 * steps / epoch_steps:.1f} % of an epoch)")

    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"peak memory (max RSS): {peak_kib / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
