"""Batch generation: byte-identical shards, independent shards, resume, failures, foreign folders."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import app.dataset.generation as generation
from app.dataset.generation import (
    GenerationSettings,
    Provenance,
    generate,
    load_dataset,
    write_shard,
)
from app.denoising.denoiser import Denoiser
from app.errors import ExportError, FaceExplorerError
from app.model.embedded_model import embedded_model


@pytest.fixture(scope="module")
def setup(tiny_checkpoints: Path) -> tuple:
    model = embedded_model()
    denoiser = Denoiser.from_folder(model, tiny_checkpoints, "cpu")
    return model, denoiser, Provenance.of(model, denoiser)


def _run(folder: Path, setup: tuple, settings: GenerationSettings, **options: object):
    model, denoiser, provenance = setup
    return generate(folder, settings, model, denoiser, provenance, show_progress=False, **options)


def _shard_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("shard-*.npz"))}


SETTINGS = GenerationSettings(count=10, seed=7, shard_size=4)


def test_same_settings_give_byte_identical_shards(tmp_path: Path, setup: tuple) -> None:
    summary = _run(tmp_path / "a", setup, SETTINGS)
    _run(tmp_path / "b", setup, SETTINGS)
    first, second = _shard_bytes(tmp_path / "a"), _shard_bytes(tmp_path / "b")
    assert list(first) == ["shard-00000.npz", "shard-00001.npz", "shard-00002.npz"]
    assert first == second
    assert summary.faces == 10 and summary.shards_written == 3 and summary.files == 3
    assert summary.bytes == sum(len(b) for b in first.values())
    other_seed = _run(tmp_path / "c", setup, GenerationSettings(count=10, seed=8, shard_size=4))
    assert other_seed.faces == 10
    assert _shard_bytes(tmp_path / "c")["shard-00000.npz"] != first["shard-00000.npz"]


def test_shard_contents_and_provenance(tmp_path: Path, setup: tuple, tiny_checkpoints: Path) -> None:
    model, denoiser, _ = setup
    _run(tmp_path, setup, SETTINGS)
    with np.load(tmp_path / "shard-00002.npz", allow_pickle=False) as shard:
        assert shard["face_index"].tolist() == [8, 9]
        assert shard["alpha_id_noisy"].shape == (2, 199) and shard["alpha_exp_noisy"].shape == (2, 29)
        np.testing.assert_allclose(shard["alpha_id"], denoiser.denoise("shape", shard["alpha_id_noisy"]))
        np.testing.assert_allclose(shard["alpha_exp"], denoiser.denoise("expression", shard["alpha_exp_noisy"]))
        # Uniform with r = 10: every identity coefficient within ±5 EV.
        assert np.all(np.abs(shard["alpha_id_noisy"]) <= 5 * model.ev_id + 1e-6)
        assert int(shard["seed"]) == 7 and int(shard["shard"]) == 2
        assert json.loads(str(shard["sampling"])) == {"distribution": "uniform", "range_expression": 15.0, "range_shape": 10.0}
        assert str(shard["model_name"]) == model.name and str(shard["model_digest"]) == model.digest
        assert json.loads(str(shard["checkpoints"]))["shape"] == hashlib.sha256((tiny_checkpoints / "shape.pt").read_bytes()).hexdigest()
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["complete"] and manifest["plan"]["seed"] == 7 and len(manifest["shards"]) == 3
    assert load_dataset(tmp_path)["face_index"].tolist() == list(range(10))


def test_a_shard_depends_only_on_seed_and_index(tmp_path: Path, setup: tuple) -> None:
    model, denoiser, provenance = setup
    _run(tmp_path / "full", setup, SETTINGS)
    alone = tmp_path / "alone"
    alone.mkdir()
    write_shard(alone, 1, SETTINGS, model, denoiser, provenance)
    assert (alone / "shard-00001.npz").read_bytes() == (tmp_path / "full" / "shard-00001.npz").read_bytes()
    # A larger dataset with the same seed and shard size shares its complete shards.
    _run(tmp_path / "larger", setup, GenerationSettings(count=12, seed=7, shard_size=4))
    for name in ("shard-00000.npz", "shard-00001.npz"):
        assert (tmp_path / "larger" / name).read_bytes() == (tmp_path / "full" / name).read_bytes()


def test_resume_finishes_only_missing_shards(tmp_path: Path, setup: tuple) -> None:
    _run(tmp_path, setup, SETTINGS)
    reference = _shard_bytes(tmp_path)
    (tmp_path / "shard-00001.npz").unlink()
    with pytest.raises(FaceExplorerError, match="--resume"):
        _run(tmp_path, setup, SETTINGS)
    summary = _run(tmp_path, setup, SETTINGS, resume=True)
    assert (summary.shards_written, summary.shards_skipped, summary.faces) == (1, 2, 4)
    assert _shard_bytes(tmp_path) == reference
    with pytest.raises(FaceExplorerError, match="other settings.*seed"):
        _run(tmp_path, setup, GenerationSettings(count=10, seed=8, shard_size=4), resume=True)
    summary = _run(tmp_path, setup, SETTINGS, overwrite=True)
    assert summary.shards_written == 3 and _shard_bytes(tmp_path) == reference


def test_failure_mid_shard_leaves_no_complete_looking_shard(tmp_path: Path, setup: tuple,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    real_writer = generation.save_npz_deterministic
    calls = []

    def disk_fills_on_second_shard(path: Path, arrays: dict) -> None:
        calls.append(path)
        if len(calls) == 2:
            Path(path).write_bytes(b"PK\x03\x04 half a zip")
            raise OSError(28, "No space left on device")
        real_writer(path, arrays)

    monkeypatch.setattr(generation, "save_npz_deterministic", disk_fills_on_second_shard)
    with pytest.raises(ExportError, match="^disk full while writing .*shard-00001.npz$"):
        _run(tmp_path, setup, SETTINGS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "shard-00000.npz"]
    assert not json.loads((tmp_path / "manifest.json").read_text())["complete"]
    monkeypatch.setattr(generation, "save_npz_deterministic", real_writer)
    _run(tmp_path, setup, SETTINGS, resume=True)
    _run(tmp_path / "clean", setup, SETTINGS)
    assert _shard_bytes(tmp_path) == _shard_bytes(tmp_path / "clean")


def test_failure_while_writing_meshes_leaves_the_shard_unfinished(tmp_path: Path, setup: tuple,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import app.dataset.mesh_files

    real_export = app.dataset.mesh_files.export_mesh
    written = []

    def fails_on_third_mesh(path, vertices, triangles, binary=True):
        written.append(path)
        if len(written) == 3:
            raise ExportError(f"cannot write {path}: No space left on device")
        return real_export(path, vertices, triangles, binary)

    monkeypatch.setattr(app.dataset.mesh_files, "export_mesh", fails_on_third_mesh)
    settings = GenerationSettings(count=4, seed=1, shard_size=4, mesh_format="ply")
    with pytest.raises(ExportError):
        _run(tmp_path, setup, settings)
    assert not (tmp_path / "shard-00000.npz").exists()
    monkeypatch.setattr(app.dataset.mesh_files, "export_mesh", real_export)
    summary = _run(tmp_path, setup, settings, resume=True)
    meshes = sorted((tmp_path / "meshes" / "shard-00000").iterdir())
    assert [m.name for m in meshes] == [f"face-{i:08d}.ply" for i in range(4)]
    assert summary.files == 5 and meshes[0].read_bytes().startswith(b"ply\nformat binary")


def test_foreign_folder_is_refused(tmp_path: Path, setup: tuple) -> None:
    (tmp_path / "notes.txt").write_text("someone else's work")
    with pytest.raises(FaceExplorerError, match="not a dataset folder"):
        _run(tmp_path, setup, SETTINGS)
    with pytest.raises(FaceExplorerError, match="nothing to resume"):
        _run(tmp_path, setup, SETTINGS, resume=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    _run(tmp_path, setup, SETTINGS, overwrite=True)
    assert (tmp_path / "notes.txt").read_text() == "someone else's work"
    assert len(list(tmp_path.glob("shard-*.npz"))) == 3


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (GenerationSettings(count=0), "at least 1"),
        (GenerationSettings(count=5, distribution="cauchy"), "unknown distribution"),
        (GenerationSettings(count=5, random_views=2), "ask for images"),
        (GenerationSettings(count=5, mesh_format="stl"), "unknown mesh format"),
    ],
)
def test_bad_settings_are_explained(tmp_path: Path, setup: tuple, settings: GenerationSettings, message: str) -> None:
    with pytest.raises(FaceExplorerError, match=message):
        _run(tmp_path / "out", setup, settings)
    assert not (tmp_path / "out").exists()
