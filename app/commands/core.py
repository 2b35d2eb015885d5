"""The core tools: info, train, denoise, export."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from app.atomic_files import atomic_output, create_folder
from app.dataset.export import load_coefficients
from app.dataset.landmark_files import landmarks_path, require_landmarks, save_landmarks
from app.dataset.mesh_files import export_mesh
from app.denoising.checkpoint import KINDS, checkpoint_path, describe_training
from app.denoising.checkpoint_folders import is_shipped, user_checkpoints
from app.denoising.devices import describe
from app.denoising.network import AutoEncoder4, parameter_count
from app.denoising.training import TrainingConfig, train_denoiser
from app.errors import DatasetError, FaceExplorerError
from app.model.coefficient_limits import check_coefficients
from app.model.embedded_corpus import embedded_corpus
from app.model.provenance import SHORT_DIGEST
from app.npz_files import read_npz
from app.output_paths import refuse_output_over_input
from app.workspace import Workspace


def open_workspace(args: argparse.Namespace) -> Workspace:
    return Workspace(args.model, args.data, args.checkpoints, args.device)


def workspace_inputs(workspace: Workspace) -> dict[str, Path | None]:
    """What a command may read besides its own arguments: --model, --data, the checkpoints."""
    return {
        "--model file": workspace.model_path,
        "--data": workspace.data_path,
        "--checkpoints folder": workspace.checkpoints,
        **{f"{kind} checkpoint": checkpoint_path(workspace.checkpoints, kind) for kind in KINDS},
    }


def info(args: argparse.Namespace) -> int:
    """Describe the model, data and checkpoints; an explicitly given input that cannot be used
    is reported after everything that could be read, and makes the command fail."""
    workspace = open_workspace(args)
    model = workspace.model
    unusable: list[str] = []
    named_id = sum(bool(n) for n in model.names_id)
    named_exp = sum(bool(n) for n in model.names_exp)
    print(f"model:          {workspace.describe_model()}")
    print(
        f"                {model.n_vertices:,} vertices, {len(model.triangles):,} triangles, "
        f"{model.n_id} identity + {model.n_exp} expression coefficients ({named_id} + {named_exp} named)"
    )
    print(f"                sha256 {model.digest}")
    try:
        data = workspace.data
        print(f"data:           {data.source}: {len(data):,} faces loaded, {len(data.skipped)} files skipped")
        for file, reason in data.skipped:
            print(f"  skipped {file}: {reason}")
    except DatasetError as problem:
        print(f"data:           none ({problem})")
        if args.data:
            unusable.append(str(problem))
    for kind in KINDS:
        length = model.n_coefficients(kind)
        print(f"{kind + ' net:':<16}{parameter_count(AutoEncoder4(length)):,} parameters (input {length})")
    try:
        denoiser = workspace.denoiser
    except FaceExplorerError as problem:
        print(f"checkpoints:    not usable ({problem})")
        if args.checkpoints:
            unusable.append(str(problem))
    else:
        print(f"checkpoints:    {workspace.checkpoints} on {describe(denoiser.device)}")
        for kind in KINDS:
            print(
                f"  {kind}: {describe_training(denoiser.metadata[kind])}; sha256 {denoiser.digests[kind][:SHORT_DIGEST]}"
            )
        mismatch = denoiser.model_mismatch(model)
        if mismatch:
            print(f"  warning: {mismatch}")
    if unusable:
        raise FaceExplorerError("; ".join(unusable))
    return 0


def train(args: argparse.Namespace) -> int:
    workspace = open_workspace(args)
    if args.faces is not None:
        if not workspace.model.is_embedded or args.data:
            raise FaceExplorerError("--faces sets the embedded corpus size; it cannot be used with --model/--data")
        data = embedded_corpus(args.faces)
    else:
        data = workspace.data
    overrides = {
        key: value
        for key, value in {"sigma": args.sigma, "copies": args.copies, "normalisation": args.normalisation}.items()
        if value is not None
    }
    config = TrainingConfig.paper(
        args.kind,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        test_faces=args.test_faces,
        seed=args.seed,
        device=args.device,
        **overrides,
    )
    for name, value in (("epochs", config.epochs), ("batch size", config.batch_size), ("copies", config.copies)):
        if value < 1:
            raise FaceExplorerError(f"{name} must be at least 1 (got {value})")
    if not (config.sigma > 0 and config.normalisation > 0 and config.learning_rate > 0):
        raise FaceExplorerError("sigma, normalisation and learning rate must be positive")
    output = _training_output(args)
    refuse_output_over_input(output, {"--model file": args.model, "--data": args.data})
    model = workspace.model.provenance
    if args.data and not args.model:
        print(
            f"note: no --model given, so the coefficients of {args.data} will be shown on {model.describe()}; "
            "give --model for the model they were fitted with"
        )
    if is_shipped(output):
        print(f"note: {output} is one of the shipped weights; --checkpoints/--output asked to replace it")
    print(f"training the {args.kind} network on {data.source} for {model.describe()} → {output}")
    metadata = train_denoiser(data, config, model, output, show_progress=not args.quiet)
    print(
        f"wrote {output}: test MSE noisy input {metadata['test_mse_noisy']:.4f} → "
        f"denoised {metadata['test_mse_denoised']:.4f} "
        f"({metadata['test_mse_noisy'] / metadata['test_mse_denoised']:.1f}× lower)"
    )
    if not (args.output or args.checkpoints):
        print(
            f"use it with --checkpoints {output.parent} (the folder needs both shape.pt and expression.pt); "
            "the shipped weights are unchanged"
        )
    return 0


def _training_output(args: argparse.Namespace) -> Path:
    """--output, else <--checkpoints>/<kind>.pt, else the user's folder: the shipped weights only when named."""
    if args.output:
        return Path(args.output)
    if args.checkpoints:
        return checkpoint_path(args.checkpoints, args.kind)
    return checkpoint_path(create_folder(user_checkpoints()), args.kind)


def denoise(args: argparse.Namespace) -> int:
    workspace = open_workspace(args)
    refuse_output_over_input(args.output, {"input table": args.input, **workspace_inputs(workspace)})
    tables = _read_coefficient_tables(Path(args.input))
    result: dict[str, np.ndarray] = {}
    for key, kind in (("alpha_id", "shape"), ("alpha_exp", "expression")):
        if key in tables:
            result[key] = check_coefficients(workspace.model, kind, tables[key], args.input)
            result[f"{key}_denoised"] = workspace.denoiser.denoise(kind, tables[key])
    with atomic_output(args.output) as temp, open(temp, "wb") as handle:
        np.savez(
            handle,
            **result,
            **{key: np.array(value) for key, value in workspace.model.provenance.to_record().items()},
        )
    print(f"wrote {args.output}: " + ", ".join(f"{k} {v.shape}" for k, v in result.items()))
    return 0


def export(args: argparse.Namespace) -> int:
    workspace = open_workspace(args)
    inputs = {"--coefficients file": args.coefficients, **workspace_inputs(workspace)}
    refuse_output_over_input(args.output, inputs)
    if args.landmarks:
        refuse_output_over_input(landmarks_path(args.output), inputs)
    model = workspace.model
    if args.coefficients:
        alpha_id, alpha_exp, _ = load_coefficients(args.coefficients)
        alpha_id = check_coefficients(model, "shape", alpha_id, args.coefficients)
        alpha_exp = check_coefficients(model, "expression", alpha_exp, args.coefficients)
    else:
        alpha_id, alpha_exp = np.zeros(model.n_id), np.zeros(model.n_exp)
    if args.denoised:
        alpha_id, alpha_exp = workspace.denoiser.denoise_face(alpha_id, alpha_exp)
    vertices = model.synthesize(alpha_id, alpha_exp)
    if args.landmarks:
        require_landmarks(model)  # before the mesh is written: refused means nothing written
    path = export_mesh(args.output, vertices, model.triangles, binary=not args.ascii, uv_layout=model.uv_layout)
    print(f"wrote {path} ({model.n_vertices:,} vertices, {len(model.triangles):,} triangles)")
    if args.landmarks:
        written = save_landmarks(landmarks_path(path), model, vertices)
        print(f"wrote {written} ({len(model.landmarks)} landmarks)")
    return 0


def _read_coefficient_tables(path: Path) -> dict[str, np.ndarray]:
    """alpha_id/alpha_exp tables from an .npz (also accepts the dataset names shape/expression)."""
    data = read_npz(path)
    tables = {}
    for key, alias in (("alpha_id", "shape"), ("alpha_exp", "expression")):
        for name in (key, alias):
            if name in data:
                try:
                    tables[key] = np.atleast_2d(np.asarray(data[name], dtype=np.float64))
                except (TypeError, ValueError) as failure:
                    raise FaceExplorerError(f"{path}: table '{name}' is not numeric") from failure
                break
    if not tables:
        raise FaceExplorerError(f"{path}: no 'alpha_id' or 'alpha_exp' table inside")
    return tables
