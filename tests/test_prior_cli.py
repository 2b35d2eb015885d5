"""The learned prior on the command line: `train prior KIND` and `denoise --method prior [--strength T]`."""

from __future__ import annotations

import contextlib
import io
import shutil

import numpy as np
import pytest
import torch

import main
from app.denoising.checkpoint import load_checkpoint
from app.denoising.torch_threads import one_torch_thread
from app.model.embedded_model import embedded_model
from app.prior.checkpoint import load_prior_checkpoint
from app.prior.learned_prior import LearnedPrior

SMALL = ("--faces", "200", "--test-faces", "20", "--diffusion-steps", "100", "--denoiser-steps", "300")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_error(status: int, err: str, *words: str) -> None:
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture(scope="module")
def prior_folder(tiny_checkpoints, tmp_path_factory):
    """The tiny paper networks and priors trained beside them by `train prior`, and what it printed."""
    folder = tmp_path_factory.mktemp("prior-cli")
    for kind in ("shape", "expression"):
        shutil.copy(tiny_checkpoints / f"{kind}.pt", folder)
    printed = {}
    with one_torch_thread():
        for kind in ("shape", "expression"):
            arguments = ["train", "prior", kind, *SMALL, "--checkpoints", str(folder), "--quiet", "--device", "cpu"]
            output = io.StringIO()
            with contextlib.redirect_stdout(output):
                assert main.main(arguments) == 0
            printed[kind] = output.getvalue()
    return folder, printed


def test_train_prior_holds_out_the_paper_networks_faces_and_compares_with_it(prior_folder):
    folder, printed = prior_folder
    model = embedded_model()
    for kind, length in (("shape", 199), ("expression", 29)):
        prior = load_prior_checkpoint(folder / f"prior-{kind}.pt", kind, length, model.provenance)
        paper = load_checkpoint(folder / f"{kind}.pt", kind, length)
        assert prior.metadata["held_out_faces"] == paper.metadata["held_out_faces"]
        assert prior.metadata["diffusion_steps"] == 100 and prior.metadata["device"] == "cpu"
        assert f"wrote {folder / f'prior-{kind}.pt'}" in printed[kind]
        assert "paper network" in printed[kind] and "on the same pairs" in printed[kind]
        assert f"the paper's {kind} network took" in printed[kind]


def test_train_keeps_its_kinds_apart(capsys, tmp_path):
    status, _, err = run(capsys, "train", "prior", "--output", str(tmp_path / "p.pt"))
    one_error(status, err, "train prior needs a kind")
    status, _, err = run(capsys, "train", "shape", "--diffusion-steps", "5", "--output", str(tmp_path / "s.pt"))
    one_error(status, err, "--diffusion-steps", "train prior KIND")
    status, _, err = run(capsys, "train", "prior", "shape", "--epochs", "2", "--output", str(tmp_path / "p.pt"))
    one_error(status, err, "--epochs")
    status, _, err = run(capsys, "train", "shape", "expression", "--output", str(tmp_path / "s.pt"))
    one_error(status, err, "one kind")


def test_denoise_with_the_prior_and_its_projection(prior_folder, capsys, tmp_path):
    folder, _ = prior_folder
    rng = np.random.default_rng(1)
    alpha_id, alpha_exp = rng.normal(size=(4, 199)) * 2e5, rng.uniform(0, 2, size=(4, 29))
    source = tmp_path / "in.npz"
    np.savez(source, alpha_id=alpha_id, alpha_exp=alpha_exp)
    inputs = ("--checkpoints", str(folder), "--device", "cpu")
    prior = LearnedPrior.from_folder(embedded_model(), folder, "cpu")

    status, out, err = run(capsys, "denoise", str(source), str(tmp_path / "d.npz"), "--method", "prior", *inputs)
    assert status == 0 and "the learned prior's denoiser" in out, err
    with np.load(tmp_path / "d.npz") as result:
        np.testing.assert_allclose(result["alpha_exp_denoised"], prior.denoise("expression", alpha_exp), rtol=1e-6)
        assert str(result["method"]) == "the learned prior's denoiser"

    projected = []
    for name, strength in (("a", "0.5"), ("b", "0.5"), ("zero", "0")):
        argv = ["denoise", str(source), str(tmp_path / f"{name}.npz"), "--method", "prior", "--strength", strength]
        status, _, err = run(capsys, *argv, "--seed", "3", *inputs)
        assert status == 0, err
        with np.load(tmp_path / f"{name}.npz") as result:
            projected.append((result["alpha_id_denoised"], result["alpha_exp_denoised"]))
    np.testing.assert_array_equal(projected[0][0], projected[1][0])
    np.testing.assert_array_equal(projected[2][0], alpha_id)
    assert not np.allclose(projected[0][1], alpha_exp)
    expected = prior.project("shape", alpha_id, 0.5, torch.Generator().manual_seed(3))
    np.testing.assert_allclose(projected[0][0], expected, rtol=1e-6)


def test_denoise_refuses_a_bad_strength_and_a_folder_without_priors(prior_folder, tiny_checkpoints, capsys, tmp_path):
    source = tmp_path / "in.npz"
    np.savez(source, alpha_exp=np.ones((2, 29)))
    folder = ("--checkpoints", str(prior_folder[0]))
    status, _, err = run(
        capsys, "denoise", str(source), str(tmp_path / "o.npz"), "--method", "prior", "--strength", "1.5", *folder
    )
    one_error(status, err, "strength must be a number in [0, 1]")
    status, _, err = run(capsys, "denoise", str(source), str(tmp_path / "o.npz"), "--strength", "0.5", *folder)
    one_error(status, err, "--method prior")
    argv = (
        "denoise",
        str(source),
        str(tmp_path / "o.npz"),
        "--method",
        "prior",
        "--checkpoints",
        str(tiny_checkpoints),
    )
    status, _, err = run(capsys, *argv)
    one_error(status, err, "no such prior checkpoint", "train prior")


def test_info_names_the_learned_prior_or_says_why_there_is_none(tiny_checkpoints, capsys):
    assert main.main(["info", "--device", "cpu"]) == 0
    shipped = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("learned prior:"))
    assert "(shape sha256 " in shipped and ", expression sha256 " in shipped
    assert main.main(["info", "--checkpoints", str(tiny_checkpoints), "--device", "cpu"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("learned prior:"))
    assert line.startswith("learned prior:  none (") and "train prior shape" in line
