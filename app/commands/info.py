"""The `info` command: describe the loaded model, data and checkpoints."""

from __future__ import annotations

import argparse

from app.commands.common import Subcommands, open_workspace
from app.errors import DatasetError, FaceExplorerError


def add_parsers(commands: Subcommands, inputs: argparse.ArgumentParser) -> None:
    """`info` takes only the input options."""
    info = commands.add_parser("info", parents=[inputs], help="describe the loaded model, data and checkpoints")
    info.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Describe the model, data and checkpoints; an explicitly given input that cannot be used
    is reported after everything that could be read, and makes the command fail."""
    from app.denoising.checkpoint import KINDS, describe_training
    from app.denoising.devices import describe
    from app.denoising.network import AutoEncoder4, parameter_count
    from app.model.provenance import SHORT_DIGEST

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
    if model.origin is not None:
        print(f"                {model.origin.describe()}")
        for missing in model.origin.missing:
            print(f"                missing: {missing}")
        if model.skinning is not None:
            print(f"                joints (posed in the explorer): {', '.join(model.skinning.joint_names)}")
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
        try:
            print(f"{kind + ' net:':<16}{parameter_count(AutoEncoder4(length)):,} parameters (input {length})")
        except FaceExplorerError as problem:  # too few modes for the network: the model is still described
            print(f"{kind + ' net:':<16}none ({problem})")
    try:
        denoiser = workspace.denoiser
    except FaceExplorerError as problem:
        print(f"checkpoints:    not usable ({problem})")
        if args.checkpoints:
            unusable.append(str(problem))
    else:
        print(f"checkpoints:    {workspace.checkpoints} on {describe(denoiser.device)}")
        for kind in KINDS:
            digest = denoiser.digests[kind][:SHORT_DIGEST]
            print(f"  {kind}: {describe_training(denoiser.metadata[kind])}; sha256 {digest}")
        mismatch = denoiser.model_mismatch(model)
        if mismatch:
            print(f"  warning: {mismatch}")
    try:  # optional: only `--method prior` and the prior's experiments need it
        prior = workspace.prior
    except FaceExplorerError as problem:
        print(f"learned prior:  none ({problem})")
    else:
        files = ", ".join(
            f"{kind} sha256 {checkpoint.sha256[:SHORT_DIGEST]}" for kind, checkpoint in prior.checkpoints.items()
        )
        print(f"learned prior:  {workspace.checkpoints} ({files})")
    if unusable:
        raise FaceExplorerError("; ".join(unusable))
    return 0
