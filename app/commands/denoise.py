"""The `denoise` command: denoise coefficient tables, npz in, npz out."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.commands.common import Subcommands, open_workspace, workspace_inputs
from app.errors import FaceExplorerError

if TYPE_CHECKING:
    import numpy as np

    from app.model.morphable_model import CoefficientKind

# Each table's name in the .npz files and the network that denoises it (a generated dataset names
# its tables after the network, which the input may use instead).
_TABLES: tuple[tuple[str, CoefficientKind], ...] = (("alpha_id", "shape"), ("alpha_exp", "expression"))


def add_parsers(commands: Subcommands, inputs: argparse.ArgumentParser) -> None:
    """`denoise INPUT OUTPUT`."""
    denoise = commands.add_parser("denoise", parents=[inputs], help="denoise coefficient tables: npz in, npz out")
    denoise.add_argument(
        "input", help=".npz with 'alpha_id' (M,199) and/or 'alpha_exp' (M,29) (or 'shape'/'expression')"
    )
    denoise.add_argument("output", help=".npz to write with the inputs and their denoised versions")
    denoise.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Write each input table, checked against the model, beside its denoised version and the model's provenance."""
    import numpy as np

    from app.atomic_files import atomic_output
    from app.model.coefficient_limits import check_coefficients
    from app.output_paths import refuse_output_over_input

    workspace = open_workspace(args)
    refuse_output_over_input(args.output, {"input table": args.input, **workspace_inputs(workspace)})
    tables = _read_coefficient_tables(Path(args.input))
    result: dict[str, np.ndarray] = {}
    for key, kind in _TABLES:
        if key in tables:
            result[key] = check_coefficients(workspace.model, kind, tables[key], args.input)
            result[f"{key}_denoised"] = workspace.denoiser.denoise(kind, tables[key])
    provenance = {key: np.array(value) for key, value in workspace.model.provenance.to_record().items()}
    # Any: mypy checks the values of a **dict against savez's ``allow_pickle: bool`` as well
    arrays: dict[str, Any] = {**result, **provenance}
    with atomic_output(args.output) as temp, open(temp, "wb") as handle:
        np.savez(handle, **arrays)
    print(f"wrote {args.output}: " + ", ".join(f"{k} {v.shape}" for k, v in result.items()))
    return 0


def _read_coefficient_tables(path: Path) -> dict[str, np.ndarray]:
    """alpha_id/alpha_exp tables from an .npz (also accepts the dataset names shape/expression)."""
    import numpy as np

    from app.npz_files import read_npz

    data = read_npz(path)
    tables = {}
    for key, kind in _TABLES:
        for name in (key, kind):
            if name in data:
                try:
                    tables[key] = np.atleast_2d(np.asarray(data[name], dtype=np.float64))
                except (TypeError, ValueError) as failure:
                    raise FaceExplorerError(f"{path}: table '{name}' is not numeric") from failure
                break
    if not tables:
        raise FaceExplorerError(f"{path}: no 'alpha_id' or 'alpha_exp' table inside")
    return tables
