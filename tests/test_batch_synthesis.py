"""A dataset's faces are synthesized where its networks run: numpy on the CPU, torch on a GPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from app.dataset.batch_synthesis import TorchSynthesis, batch_synthesis
from app.dataset.generation import generate
from app.dataset.settings import GenerationSettings, Provenance
from app.dataset.shards import load_dataset
from app.denoising.denoiser import Denoiser
from app.model.embedded_model import embedded_model
from app.model.sampling import sample_coefficients


def test_the_torch_gemm_gives_the_models_faces() -> None:
    model = embedded_model()
    rng = np.random.default_rng(3)
    alpha_id = sample_coefficients(model, "shape", "uniform", 5, rng)
    alpha_exp = sample_coefficients(model, "expression", "uniform", 5, rng)
    expected = model.synthesize(alpha_id, alpha_exp)
    faces = TorchSynthesis(model, torch.device("cpu"))(alpha_id, alpha_exp)
    assert faces.shape == expected.shape == (5, model.n_vertices, 3) and faces.dtype == np.float32
    # micrometre units, faces ~1e5 across: float32 rounding of two GEMM orders, far below a micrometre
    np.testing.assert_allclose(faces, expected, rtol=0, atol=0.5)


def test_the_cpu_keeps_numpys_synthesis() -> None:
    model = embedded_model()
    assert batch_synthesis(model, torch.device("cpu")) == model.synthesize


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_gpu_dataset_matches_the_cpu_one_to_float32_precision(tmp_path: Path, tiny_checkpoints: Path) -> None:
    model = embedded_model()
    settings = GenerationSettings(count=6, seed=2, shard_size=3, mesh_format="ply")
    meshes = {}
    for device in ("cpu", "cuda"):
        denoiser = Denoiser.from_folder(model, tiny_checkpoints, device)
        generate(tmp_path / device, settings, model, denoiser, Provenance.of(model, denoiser), show_progress=False)
        meshes[device] = [_ply_positions(path, model.n_vertices) for path in sorted((tmp_path / device).rglob("*.ply"))]
    cpu, gpu = load_dataset(tmp_path / "cpu"), load_dataset(tmp_path / "cuda")
    np.testing.assert_allclose(gpu["alpha_id"], cpu["alpha_id"], rtol=1e-4, atol=1e-3 * model.ev_id.max())
    assert len(meshes["cpu"]) == len(meshes["cuda"]) == 6
    for on_cpu, on_gpu in zip(meshes["cpu"], meshes["cuda"], strict=True):
        np.testing.assert_allclose(on_gpu, on_cpu, rtol=0, atol=5.0)  # micrometres


def _ply_positions(path: Path, n_vertices: int) -> np.ndarray:
    content = path.read_bytes()
    start = content.index(b"end_header\n") + len(b"end_header\n")
    properties = content[:start].count(b"property float")
    return np.frombuffer(content, dtype="<f4", count=n_vertices * properties, offset=start).reshape(n_vertices, -1)[
        :, :3
    ]
