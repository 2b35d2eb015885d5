"""Batch generation: byte-identical shards, verified resume, failures, full disks, foreign folders, user files."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from core_fixtures import run_generate
from PIL import Image

import app.atomic_files
import app.dataset.generation as generation
import app.dataset.requirements as requirements
from app.dataset.mesh_files import MeshWriter
from app.dataset.settings import GenerationSettings
from app.dataset.shards import FaceFileWriters, load_dataset, write_shard
from app.errors import ExportError, FaceExplorerError


def _shard_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("shard-*.npz"))}


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


SETTINGS = GenerationSettings(count=10, seed=7, shard_size=4)


def test_same_settings_give_byte_identical_shards(tmp_path: Path, generation_inputs: tuple) -> None:
    summary = run_generate(tmp_path / "a", generation_inputs, SETTINGS)
    run_generate(tmp_path / "b", generation_inputs, SETTINGS)
    first, second = _shard_bytes(tmp_path / "a"), _shard_bytes(tmp_path / "b")
    assert list(first) == ["shard-00000.npz", "shard-00001.npz", "shard-00002.npz"]
    assert first == second
    assert summary.faces == 10 and summary.shards_written == 3 and summary.files == 3
    assert summary.bytes == sum(len(b) for b in first.values())
    other_seed = run_generate(tmp_path / "c", generation_inputs, GenerationSettings(count=10, seed=8, shard_size=4))
    assert other_seed.faces == 10
    assert _shard_bytes(tmp_path / "c")["shard-00000.npz"] != first["shard-00000.npz"]


def test_shard_contents_provenance_and_digests(
    tmp_path: Path, generation_inputs: tuple, tiny_checkpoints: Path
) -> None:
    model, denoiser, _ = generation_inputs
    run_generate(tmp_path, generation_inputs, SETTINGS)
    with np.load(tmp_path / "shard-00002.npz", allow_pickle=False) as shard:
        assert shard["face_index"].tolist() == [8, 9]
        assert shard["alpha_id_noisy"].shape == (2, model.n_id) and shard["alpha_exp_noisy"].shape == (2, model.n_exp)
        np.testing.assert_allclose(shard["alpha_id"], denoiser.denoise("shape", shard["alpha_id_noisy"]))
        np.testing.assert_allclose(shard["alpha_exp"], denoiser.denoise("expression", shard["alpha_exp_noisy"]))
        # Uniform with r = 10: every identity coefficient within ±5 EV.
        assert np.all(np.abs(shard["alpha_id_noisy"]) <= 5 * model.ev_id + 1e-6)
        assert int(shard["seed"]) == 7 and int(shard["shard"]) == 2
        assert json.loads(str(shard["sampling"])) == {"distribution": "uniform", "r_exp": 15.0, "r_shape": 10.0}
        assert str(shard["model_name"]) == model.name and str(shard["model_digest"]) == model.digest
        assert (
            json.loads(str(shard["checkpoints"]))["shape"]
            == hashlib.sha256((tiny_checkpoints / "shape.pt").read_bytes()).hexdigest()
        )
    manifest = _manifest(tmp_path)
    assert manifest["complete"] and manifest["plan"]["seed"] == 7 and manifest["plan"]["r_shape"] == 10.0
    assert manifest["shards"] == [
        {
            "shard": i,
            "faces": faces,
            "sha256": hashlib.sha256((tmp_path / f"shard-{i:05d}.npz").read_bytes()).hexdigest(),
            "face_file_bytes": 0,  # coefficients only: no meshes or images
        }
        for i, faces in enumerate((4, 4, 2))
    ]
    assert load_dataset(tmp_path)["face_index"].tolist() == list(range(10))


def test_a_shard_depends_only_on_seed_and_index(tmp_path: Path, generation_inputs: tuple) -> None:
    model, denoiser, provenance = generation_inputs
    run_generate(tmp_path / "full", generation_inputs, SETTINGS)
    alone = tmp_path / "alone"
    alone.mkdir()
    write_shard(alone, 1, SETTINGS, model, denoiser, provenance, FaceFileWriters(model))
    assert (alone / "shard-00001.npz").read_bytes() == (tmp_path / "full" / "shard-00001.npz").read_bytes()
    # A larger dataset with the same seed and shard size shares its complete shards.
    run_generate(tmp_path / "larger", generation_inputs, GenerationSettings(count=12, seed=7, shard_size=4))
    for name in ("shard-00000.npz", "shard-00001.npz"):
        assert (tmp_path / "larger" / name).read_bytes() == (tmp_path / "full" / name).read_bytes()


def test_resume_finishes_only_missing_shards(tmp_path: Path, generation_inputs: tuple) -> None:
    run_generate(tmp_path, generation_inputs, SETTINGS)
    reference = _shard_bytes(tmp_path)
    (tmp_path / "shard-00001.npz").unlink()
    with pytest.raises(FaceExplorerError, match="--resume"):
        run_generate(tmp_path, generation_inputs, SETTINGS)
    summary = run_generate(tmp_path, generation_inputs, SETTINGS, resume=True)
    assert (summary.shards_written, summary.shards_skipped, summary.faces) == (1, 2, 4)
    assert _shard_bytes(tmp_path) == reference
    with pytest.raises(FaceExplorerError, match=r"other settings.*seed"):
        run_generate(tmp_path, generation_inputs, GenerationSettings(count=10, seed=8, shard_size=4), resume=True)
    summary = run_generate(tmp_path, generation_inputs, SETTINGS, overwrite=True)
    assert summary.shards_written == 3 and _shard_bytes(tmp_path) == reference


@pytest.mark.parametrize("damage", ["zero bytes", "truncated", "another dataset's shard", "one byte changed"])
def test_a_shard_counts_as_done_only_when_its_digest_verifies(
    tmp_path: Path, generation_inputs: tuple, damage: str
) -> None:
    run_generate(tmp_path / "other", generation_inputs, GenerationSettings(count=10, seed=8, shard_size=4))
    run_generate(tmp_path / "data", generation_inputs, SETTINGS)
    folder = tmp_path / "data"
    reference = _shard_bytes(folder)
    shard = folder / "shard-00001.npz"
    content = shard.read_bytes()
    shard.write_bytes(
        {
            "zero bytes": b"",
            "truncated": content[: len(content) // 2],
            "another dataset's shard": (tmp_path / "other" / "shard-00001.npz").read_bytes(),
            "one byte changed": content[:-30] + bytes([content[-30] ^ 1]) + content[-29:],
        }[damage]
    )
    with pytest.raises(FaceExplorerError) as excinfo:
        load_dataset(folder)
    assert str(excinfo.value) == (
        f"{shard}: missing, damaged or changed since it was written (its sha256 is not the one "
        "manifest.json records); make it again with generate --resume"
    )
    summary = run_generate(folder, generation_inputs, SETTINGS, resume=True)
    assert (summary.shards_written, summary.shards_skipped) == (1, 2)
    assert _shard_bytes(folder) == reference
    assert load_dataset(folder)["face_index"].tolist() == list(range(10))


def test_an_unfinished_dataset_does_not_load(
    tmp_path: Path, generation_inputs: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_generate(tmp_path, generation_inputs, SETTINGS)
    manifest = _manifest(tmp_path)
    manifest["shards"] = manifest["shards"][:2]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(
        FaceExplorerError, match=r"unfinished \(1 of 3 shards missing\); finish it with generate --resume"
    ):
        load_dataset(tmp_path)
    summary = run_generate(tmp_path, generation_inputs, SETTINGS, resume=True)
    assert (summary.shards_written, summary.shards_skipped) == (1, 2)


def _disk_full_at_shard(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    real_sync = app.atomic_files._sync

    def sync(path: Path, mode: int) -> None:
        if Path(path).name.startswith(f".{name}."):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_sync(path, mode)

    monkeypatch.setattr(app.atomic_files, "_sync", sync)


def test_failure_mid_run_records_the_finished_shards_only(
    tmp_path: Path, generation_inputs: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    _disk_full_at_shard(monkeypatch, "shard-00001")
    with pytest.raises(ExportError, match=f"^disk full while writing {tmp_path / 'shard-00001.npz'}$"):
        run_generate(tmp_path, generation_inputs, SETTINGS)
    assert _files(tmp_path) == ["manifest.json", "shard-00000.npz"]
    manifest = _manifest(tmp_path)
    assert not manifest["complete"] and [record["shard"] for record in manifest["shards"]] == [0]
    monkeypatch.undo()
    summary = run_generate(tmp_path, generation_inputs, SETTINGS, resume=True)
    assert (summary.shards_written, summary.shards_skipped) == (2, 1)
    run_generate(tmp_path / "clean", generation_inputs, SETTINGS)
    assert _shard_bytes(tmp_path) == _shard_bytes(tmp_path / "clean")


def test_failure_while_writing_meshes_leaves_the_shard_unfinished(
    tmp_path: Path, generation_inputs: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = MeshWriter.write
    written = []

    def fails_on_third_mesh(self, path, vertices, binary=True, colours=None):
        written.append(path)
        if len(written) == 3:
            raise ExportError(f"disk full while writing {path}")
        return real_write(self, path, vertices, binary, colours)

    monkeypatch.setattr(MeshWriter, "write", fails_on_third_mesh)
    settings = GenerationSettings(count=4, seed=1, shard_size=4, mesh_format="ply")
    with pytest.raises(ExportError):
        run_generate(tmp_path, generation_inputs, settings)
    assert not (tmp_path / "shard-00000.npz").exists() and _manifest(tmp_path)["shards"] == []
    monkeypatch.setattr(MeshWriter, "write", real_write)
    summary = run_generate(tmp_path, generation_inputs, settings, resume=True)
    meshes = sorted((tmp_path / "meshes" / "shard-00000").iterdir())
    assert [m.name for m in meshes] == [f"face-{i:08d}.ply" for i in range(4)]
    assert summary.files == 5 and meshes[0].read_bytes().startswith(b"ply\nformat binary")
    # A shard whose mesh went missing is made again, meshes and all.
    meshes[2].unlink()
    summary = run_generate(tmp_path, generation_inputs, settings, resume=True)
    assert summary.shards_written == 1 and meshes[2].is_file()


def test_images_are_part_of_a_shard(tmp_path: Path, generation_inputs: tuple) -> None:
    settings = GenerationSettings(count=2, seed=4, shard_size=2, images=True, image_size=32, random_views=1)
    summary = run_generate(tmp_path, generation_inputs, settings)
    images = [f"images/shard-00000/face-{face:08d}-{view}.png" for face in (0, 1) for view in ("front", "view1")]
    assert _files(tmp_path) == sorted(["manifest.json", "shard-00000.npz", *images]) and summary.files == 5
    with Image.open(tmp_path / images[0]) as image:
        assert image.size == (32, 32) and np.asarray(image).std() > 0  # a face, not a blank frame
    with np.load(tmp_path / "shard-00000.npz", allow_pickle=False) as shard:
        assert shard["view_pose_para"].shape == (2, 2, 7) and not shard["view_pose_para"][:, 0, :3].any()
        assert shard["view_pose_para"][:, 1, :2].all() and not shard["view_pose_para"][:, 1, 2].any()  # no roll asked
    (tmp_path / images[3]).unlink()
    assert (
        run_generate(tmp_path, generation_inputs, settings, resume=True).shards_written == 1
        and (tmp_path / images[3]).is_file()
    )


def test_a_real_full_disk_stops_cleanly_and_resume_finishes(
    small_disk: Path, tmp_path: Path, generation_inputs: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = GenerationSettings(count=400, seed=3, shard_size=50)  # 8 shards of 183 kB on a 1 MB disk
    folder = small_disk / "data"
    with pytest.raises(
        FaceExplorerError, match=f"^{folder}: this dataset needs about .* MB on disk, but only .* are free there$"
    ):
        run_generate(folder, generation_inputs, settings)
    assert not folder.exists()
    monkeypatch.setattr(
        generation, "refuse_unaffordable", lambda *args, **kwargs: None
    )  # as if the estimate were wrong
    with pytest.raises(ExportError, match=f"^disk full while writing {folder}/shard-0000[3-6].npz$"):
        run_generate(folder, generation_inputs, settings)
    recorded = [record["shard"] for record in _manifest(folder)["shards"]]
    assert recorded and set(_files(folder)) == {"manifest.json", *(f"shard-{i:05d}.npz" for i in recorded)}
    for shard in recorded:  # move the finished shards to a bigger disk and finish there
        (tmp_path / f"shard-{shard:05d}.npz").write_bytes((folder / f"shard-{shard:05d}.npz").read_bytes())
    (tmp_path / "manifest.json").write_bytes((folder / "manifest.json").read_bytes())
    summary = run_generate(tmp_path, generation_inputs, settings, resume=True)
    assert summary.shards_skipped == len(recorded) and load_dataset(tmp_path)["face_index"].tolist() == list(range(400))


def test_requests_that_cannot_fit_are_refused_before_anything_is_written(
    tmp_path: Path, generation_inputs: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "out"
    with pytest.raises(FaceExplorerError, match=r"this dataset needs about [\d.,]+ PB on disk"):
        run_generate(folder, generation_inputs, GenerationSettings(count=10**12))
    monkeypatch.setattr(requirements, "physical_memory", lambda: 2**30)
    with pytest.raises(FaceExplorerError) as excinfo:
        run_generate(folder, generation_inputs, GenerationSettings(count=10**6, shard_size=10**6))
    assert re.fullmatch(
        r"this request needs about [\d.]+ GB of memory \(1 worker\(s\), shards of 1,000,000 faces, 1 shards "
        r"to track\), but this machine has 1.1 GB: use a smaller --shard-size or --count, or fewer --workers",
        str(excinfo.value),
    )
    assert not folder.exists()


def test_foreign_folder_is_refused_and_its_junk_shard_never_counts(tmp_path: Path, generation_inputs: tuple) -> None:
    (tmp_path / "notes.txt").write_text("someone else's work")
    (tmp_path / "shard-00000.npz").write_bytes(b"not a shard of ours")
    with pytest.raises(FaceExplorerError, match="not a dataset folder"):
        run_generate(tmp_path, generation_inputs, SETTINGS)
    with pytest.raises(FaceExplorerError, match="nothing to resume"):
        run_generate(tmp_path, generation_inputs, SETTINGS, resume=True)
    assert _files(tmp_path) == ["notes.txt", "shard-00000.npz"]
    summary = run_generate(tmp_path, generation_inputs, SETTINGS, overwrite=True)
    assert (summary.shards_written, summary.shards_skipped) == (3, 0)
    assert (tmp_path / "notes.txt").read_text() == "someone else's work"
    assert load_dataset(tmp_path)["face_index"].tolist() == list(range(10))


def test_overwrite_deletes_only_the_datasets_own_files(tmp_path: Path, generation_inputs: tuple) -> None:
    run_generate(tmp_path, generation_inputs, GenerationSettings(count=6, seed=1, shard_size=2, mesh_format="obj"))
    user_files = {
        "meshes/my_scan.obj": "a user's scan",
        "meshes/shard-00000/notes.txt": "kept beside the faces",
        "meshes/shard-00001/face-99999999.obj": "named like ours, but not in the plan",
        "shard-00009.npz": "not in the plan either",
        ".notes.abcdefgh.part.txt": "looks temporary, is not ours",
    }
    for name, text in user_files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / ".shard-00002.k3j4h5g6.part.npz").write_bytes(b"an interrupted write of ours")
    summary = run_generate(
        tmp_path, generation_inputs, GenerationSettings(count=2, seed=1, shard_size=2), overwrite=True
    )
    assert summary.shards_written == 1
    assert _files(tmp_path) == sorted(["manifest.json", "shard-00000.npz", *user_files])
    assert all((tmp_path / name).read_text() == text for name, text in user_files.items())
    assert not (tmp_path / "meshes" / "shard-00002").exists()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (GenerationSettings(count=0), "at least 1"),
        (GenerationSettings(count=5, distribution="cauchy"), "unknown distribution"),
        (GenerationSettings(count=5, random_views=2), "ask for images"),
        (GenerationSettings(count=5, mesh_format="stl"), "unknown mesh format"),
        (GenerationSettings(count=5, seed=2**64), r"seed must be a non-negative integer below 2\^63"),
        (GenerationSettings(count=5, seed=-1), r"seed must be a non-negative integer below 2\^63"),
    ],
)
def test_bad_settings_are_explained(
    tmp_path: Path, generation_inputs: tuple, settings: GenerationSettings, message: str
) -> None:
    with pytest.raises(FaceExplorerError, match=message):
        run_generate(tmp_path / "out", generation_inputs, settings)
    assert not (tmp_path / "out").exists()
