"""`generate --method prior [--strength T]`: clean faces by the learned prior's projection, seeded per shard."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from core_fixtures import run_generate
from explorer_window import PRIOR_FILES

import main
from app.dataset.settings import GenerationSettings, Provenance
from app.denoising.checkpoint_folders import SHIPPED_CHECKPOINTS
from app.denoising.torch_threads import one_torch_thread
from app.errors import FaceExplorerError
from app.model.embedded_model import embedded_model
from app.prior.learned_prior import LearnedPrior, seeded_generator

PRIOR = GenerationSettings(count=6, seed=5, shard_size=3, method="prior", strength=0.5)


@pytest.fixture(scope="module")
def shipped_prior() -> LearnedPrior:
    """The shipped prior (checkpoints/prior-*.pt) of the embedded model, on the CPU."""
    return LearnedPrior.from_folder(embedded_model(), SHIPPED_CHECKPOINTS, "cpu")


@pytest.fixture
def prior_inputs(generation_inputs: tuple, shipped_prior: LearnedPrior) -> tuple:
    model, denoiser, _ = generation_inputs
    return model, denoiser, Provenance.of_prior(model, shipped_prior)


def _shards(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.glob("shard-*.npz"))}


def test_prior_shards_are_the_projection_of_the_noisy_faces_and_the_same_bytes_in_workers(
    tmp_path: Path, prior_inputs: tuple, shipped_prior: LearnedPrior
) -> None:
    run_generate(tmp_path / "a", prior_inputs, PRIOR, prior=shipped_prior, workers=1)
    run_generate(tmp_path / "b", prior_inputs, PRIOR, prior=shipped_prior, workers=1)
    run_generate(tmp_path / "c", prior_inputs, PRIOR, prior=shipped_prior, workers=2)
    first = _shards(tmp_path / "a")
    assert list(first) == ["shard-00000.npz", "shard-00001.npz"]
    assert _shards(tmp_path / "b") == first and _shards(tmp_path / "c") == first
    for shard in (0, 1):
        with np.load(tmp_path / "a" / f"shard-{shard:05d}.npz", allow_pickle=False) as content:
            with one_torch_thread():  # as generate computes it
                alpha_id, alpha_exp = shipped_prior.project_face(
                    content["alpha_id_noisy"], content["alpha_exp_noisy"], 0.5, seeded_generator(5, shard, 3)
                )
            np.testing.assert_array_equal(content["alpha_id"], alpha_id)
            np.testing.assert_array_equal(content["alpha_exp"], alpha_exp)
            assert not np.allclose(content["alpha_id"], content["alpha_id_noisy"])
            sampling = json.loads(str(content["sampling"]))
            assert sampling == {
                "distribution": "uniform",
                "r_exp": 15.0,
                "r_shape": 10.0,
                "method": "prior",
                "strength": 0.5,
            }
            checkpoints = json.loads(str(content["checkpoints"]))
            assert checkpoints == {f"prior-{kind}": digest for kind, digest in shipped_prior.digests.items()}
    plan = json.loads((tmp_path / "a" / "manifest.json").read_text())["plan"]
    assert plan["method"] == "prior" and plan["strength"] == 0.5


def test_network_method_records_neither_method_nor_strength(tmp_path: Path, generation_inputs: tuple) -> None:
    run_generate(tmp_path, generation_inputs, GenerationSettings(count=2, shard_size=2))
    plan = json.loads((tmp_path / "manifest.json").read_text())["plan"]
    assert "method" not in plan and "strength" not in plan
    with np.load(tmp_path / "shard-00000.npz", allow_pickle=False) as content:
        assert json.loads(str(content["sampling"])) == {"distribution": "uniform", "r_exp": 15.0, "r_shape": 10.0}
    # A plan without them (every dataset made before the prior) reads as the network method, and resumes.
    run_generate(tmp_path, generation_inputs, GenerationSettings(count=2, shard_size=2), resume=True)


def test_resume_with_another_strength_or_method_is_refused(
    tmp_path: Path, prior_inputs: tuple, generation_inputs: tuple, shipped_prior: LearnedPrior
) -> None:
    settings = GenerationSettings(count=2, seed=1, shard_size=2, method="prior", strength=0.5)
    run_generate(tmp_path, prior_inputs, settings, prior=shipped_prior)
    other = GenerationSettings(count=2, seed=1, shard_size=2, method="prior", strength=0.3)
    with pytest.raises(FaceExplorerError, match=r"other settings .*strength"):
        run_generate(tmp_path, prior_inputs, other, prior=shipped_prior, resume=True)
    with pytest.raises(FaceExplorerError, match=r"other settings .*method"):
        run_generate(tmp_path, generation_inputs, GenerationSettings(count=2, seed=1, shard_size=2), resume=True)
    with pytest.raises(FaceExplorerError, match="needs the learned prior"):
        run_generate(tmp_path / "none", prior_inputs, settings)


def _one_error(capsys: pytest.CaptureFixture, argv: list[str], *words: str) -> None:
    assert main.main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert all(word in lines[0] for word in words), lines[0]


def test_generate_command_with_the_prior_and_its_refusals(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = str(tmp_path / "data")
    _one_error(capsys, ["generate", out, "--count", "2", "--strength", "0.5"], "--method prior")
    _one_error(capsys, ["generate", out, "--count", "2", "--method", "prior", "--strength", "1.5"], "[0, 1]")
    assert not (tmp_path / "data").exists()
    argv = ["generate", out, "--count", "3", "--shard-size", "2", "--method", "prior", "--quiet", "--device", "cpu"]
    assert main.main(argv) == 0
    assert "the learned prior at strength 1" in capsys.readouterr().out
    assert main.main(["generate", "--describe", out]) == 0
    text = capsys.readouterr().out
    assert "method:      prior (the learned prior's projection at strength 1)" in text
    assert "method='prior'" in text and "prior-shape sha256" in text
    _one_error(capsys, [*argv, "--resume", "--strength", "0.2"], "other settings", "strength")


def test_the_prior_method_needs_no_paper_network_and_records_none(
    tmp_path: Path, capsys: pytest.CaptureFixture, shipped_prior: LearnedPrior
) -> None:
    # A checkpoints folder with the learned prior alone: the paper's networks are neither read nor claimed.
    only_prior = tmp_path / "only-prior"
    only_prior.mkdir()
    for name in PRIOR_FILES:
        shutil.copy(SHIPPED_CHECKPOINTS / name, only_prior / name)
    out = tmp_path / "data"
    argv = ["generate", str(out), "--count", "2", "--method", "prior", "--strength", "0.5", "--quiet"]
    assert main.main([*argv, "--checkpoints", str(only_prior), "--device", "cpu"]) == 0
    assert "the learned prior at strength 0.5" in capsys.readouterr().out
    prior_digests = {f"prior-{kind}": digest for kind, digest in shipped_prior.digests.items()}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["plan"]["checkpoints"] == prior_digests
    assert manifest["plan"]["method"] == "prior" and manifest["plan"]["strength"] == 0.5
    assert manifest["last_run"]["denoising_device"] == "cpu"
    with np.load(out / "shard-00000.npz", allow_pickle=False) as content:
        assert json.loads(str(content["checkpoints"])) == prior_digests
    # The network method still needs the paper's networks, and says which folder lacks them.
    _one_error(capsys, ["generate", str(tmp_path / "net"), "--count", "2", "--checkpoints", str(only_prior)], "shape")


def test_dask_workers_get_the_prior_and_give_the_same_bytes(
    tmp_path: Path, prior_inputs: tuple, shipped_prior: LearnedPrior
) -> None:
    distributed = pytest.importorskip("dask.distributed")
    settings = GenerationSettings(count=4, seed=2, shard_size=2, method="prior", strength=0.5)
    run_generate(tmp_path / "local", prior_inputs, settings, prior=shipped_prior, workers=1)
    with (
        distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as client,
    ):
        run_generate(tmp_path / "cluster", prior_inputs, settings, prior=shipped_prior, scheduler=client)
    assert _shards(tmp_path / "cluster") == _shards(tmp_path / "local")
