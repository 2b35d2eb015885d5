"""How a generate run is carried out and recorded: workers, progress, manifest, --describe, start-up imports."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from core_fixtures import REPO, dataset_bytes, run_generate
from dying_workers import DenoiserFailingOnItsSecondShard, DenoiserKilledAtWorkerStart, DenoiserKilledOnItsSecondShard

import main
from app.dataset.generation import default_workers
from app.dataset.layout import own_temporary_files
from app.dataset.manifest import Manifest
from app.dataset.settings import GenerationSettings
from app.dataset.shard_workers import ShardJob
from app.dataset.shards import model_for_shards
from app.errors import FaceExplorerError


def test_default_workers_never_start_processes_that_cannot_pay_off() -> None:
    coefficients = GenerationSettings(count=10_000, shard_size=100)
    meshes = GenerationSettings(count=10_000, shard_size=100, mesh_format="ply")
    assert default_workers(coefficients, shards=100, cores=2) == 1  # torch's threads already use both cores
    assert default_workers(meshes, shards=100, cores=2) == 1  # one process keeps two cores busy
    assert default_workers(meshes, shards=100, cores=16) == 8
    assert default_workers(meshes, shards=3, cores=16) == 3  # never more processes than shards


def test_default_workers_count_the_cores_this_process_may_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)  # a 4-core batch job
    assert default_workers(GenerationSettings(count=10_000, shard_size=100, mesh_format="ply"), shards=100) == 2


@pytest.mark.parametrize("mesh_format", ["ply", None], ids=["meshes", "coefficients only"])
def test_two_worker_processes_write_the_bytes_of_one(
    tmp_path: Path, generation_inputs: tuple, mesh_format: str | None
) -> None:
    settings = GenerationSettings(count=6, seed=4, shard_size=2, mesh_format=mesh_format)
    run_generate(tmp_path / "one", generation_inputs, settings, workers=1)
    summary = run_generate(tmp_path / "two", generation_inputs, settings, workers=2)
    assert summary.shards_written == 3 and dataset_bytes(tmp_path / "one") == dataset_bytes(tmp_path / "two")
    assert json.loads((tmp_path / "two" / "manifest.json").read_text())["last_run"]["workers"] == 2


def test_the_command_with_two_workers_writes_the_bytes_of_one(tmp_path: Path, tiny_checkpoints: Path) -> None:
    """From the command line the workers' fork server starts while the model loads; nothing else changes."""
    common = [
        "--count",
        "4",
        "--shard-size",
        "2",
        "--meshes",
        "--checkpoints",
        str(tiny_checkpoints),
        "--device",
        "cpu",
        "--quiet",
    ]
    assert main.main(["generate", str(tmp_path / "one"), *common, "--workers", "1"]) == 0
    assert main.main(["generate", str(tmp_path / "two"), *common, "--workers", "2"]) == 0
    assert dataset_bytes(tmp_path / "one") == dataset_bytes(tmp_path / "two")
    assert json.loads((tmp_path / "two" / "manifest.json").read_text())["last_run"]["workers"] == 2


@pytest.mark.parametrize(
    "dying", [DenoiserKilledAtWorkerStart, DenoiserKilledOnItsSecondShard], ids=["at start-up", "mid-shard"]
)
def test_a_killed_worker_process_is_reported_and_resume_finishes_the_same_bytes(
    tmp_path: Path, generation_inputs: tuple, dying: type
) -> None:
    """3 shards, 2 workers: one worker dies while starting, or while making the one shard that is its second."""
    model, denoiser, provenance = generation_inputs
    settings = GenerationSettings(count=6, seed=4, shard_size=2, mesh_format="ply")
    run_generate(tmp_path / "one", generation_inputs, settings, workers=1)
    with pytest.raises(FaceExplorerError, match=r"a worker process .* ended without finishing its shard .*--resume"):
        run_generate(tmp_path / "two", (model, dying(denoiser), provenance), settings, workers=2)
    assert not list(own_temporary_files(tmp_path / "two"))
    manifest = Manifest.read(tmp_path / "two" / "manifest.json")
    assert not manifest.complete and set(manifest.intact_shards(tmp_path / "two")) == set(manifest.shards)
    run_generate(tmp_path / "two", generation_inputs, settings, workers=2, resume=True)
    assert dataset_bytes(tmp_path / "one") == dataset_bytes(tmp_path / "two")


def test_a_shard_that_fails_in_a_worker_raises_its_own_error_after_the_others_finish(
    tmp_path: Path, generation_inputs: tuple
) -> None:
    model, denoiser, provenance = generation_inputs
    settings = GenerationSettings(count=6, seed=4, shard_size=2)
    folder = tmp_path / "data"
    with pytest.raises(FaceExplorerError, match=r"^the networks refused this shard$"):
        run_generate(folder, (model, DenoiserFailingOnItsSecondShard(denoiser), provenance), settings, workers=2)
    manifest = Manifest.read(folder / "manifest.json")
    assert set(manifest.shards) == {0, 1} and set(manifest.intact_shards(folder)) == {0, 1}


def test_workers_making_coefficients_only_get_the_scales_not_the_model(generation_inputs: tuple) -> None:
    model, denoiser, provenance = generation_inputs
    coefficients = GenerationSettings(count=6, shard_size=2)
    job = ShardJob(Path("data"), coefficients, model_for_shards(model, coefficients), denoiser, provenance)
    assert len(pickle.dumps(job)) < 1_000_000 < model.basis_id.nbytes
    for needs_the_mesh in (dict(mesh_format="ply"), dict(images=True), dict(albedo=True)):
        assert model_for_shards(model, GenerationSettings(count=6, shard_size=2, **needs_the_mesh)) is model


def test_the_progress_bar_shows_faces_per_second_and_the_time_left(
    tmp_path: Path, generation_inputs: tuple, capsys: pytest.CaptureFixture
) -> None:
    run_generate(tmp_path, generation_inputs, GenerationSettings(count=8, shard_size=2), show_progress=True)
    bar = capsys.readouterr().err
    assert "faces/s" in bar and "ETA" in bar and "8/8 faces" in bar


def test_the_manifest_records_settings_seed_model_checkpoints_and_software(
    tmp_path: Path, generation_inputs: tuple
) -> None:
    model, denoiser, _ = generation_inputs
    run_generate(tmp_path, generation_inputs, GenerationSettings(count=4, seed=11, shard_size=2, r_shape=7.5))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    plan = manifest["plan"]
    assert (plan["seed"], plan["r_shape"], plan["count"], plan["shard_size"]) == (11, 7.5, 4, 2)
    assert plan["model_digest"] == model.digest and plan["checkpoints"] == denoiser.digests
    assert {"python", "numpy", "scipy", "torch", "face-manifold-explorer"} <= set(manifest["software"])
    assert manifest["last_run"]["denoising_device"] == "cpu" and manifest["last_run"]["scheduler"] is None


def test_describe_prints_what_a_dataset_holds(
    tmp_path: Path, generation_inputs: tuple, capsys: pytest.CaptureFixture
) -> None:
    model, denoiser, _ = generation_inputs
    folder = tmp_path / "data"
    run_generate(folder, generation_inputs, GenerationSettings(count=5, seed=2, shard_size=2, r_exp=9.0))
    assert main.main(["generate", "--describe", str(folder)]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"dataset {folder}: complete\n")
    assert "faces:       5 of 5 in 3 of 3 shard(s) of ≤2" in text
    assert model.digest[:12] in text and all(digest in text for digest in denoiser.digests.values())
    assert "seed=2" in text and "r_exp=9.0" in text and "numpy " in text
    (folder / "shard-00001.npz").write_bytes(b"damaged")
    assert main.main(["generate", str(folder), "--describe"]) == 0
    text = capsys.readouterr().out
    assert "unfinished" in text and "faces:       3 of 5 in 2 of 3" in text and "no longer verify: 1" in text
    assert main.main(["generate", "--describe", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path}: not a dataset folder (no manifest.json)\n"


def test_a_command_imports_neither_the_evaluation_nor_matplotlib(tmp_path: Path) -> None:
    probe = (
        "import sys, main; main.main(['generate', '--describe', sys.argv[1]]); "
        "print(sorted(m for m in sys.modules if m.startswith(('matplotlib', 'app.evaluation', 'app.study'))))"
    )
    result = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], cwd=REPO, capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr


def test_describe_names_the_image_files_and_maps(
    tmp_path: Path, generation_inputs: tuple, capsys: pytest.CaptureFixture
) -> None:
    settings = GenerationSettings(
        count=1, shard_size=1, images=True, image_size=32, image_format="300w-lp", maps="mask,depth"
    )
    run_generate(tmp_path, generation_inputs, settings)
    assert main.main(["generate", "--describe", str(tmp_path)]) == 0
    files = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("files:"))
    assert "1 image(s) per face at 32 px (JPEG + 300W-LP .mat)" in files and "mask, depth map(s) per image" in files
