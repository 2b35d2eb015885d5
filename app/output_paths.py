"""The one rule for where a command may write: never over what it reads or over data of another kind.

No output goes over a file the command reads, into a folder it reads from (an ICT model folder,
a --data folder) or around a file it reads (a report folder holding its study), whatever the
spelling (``os.path.samefile`` for hard and symbolic links, resolved names otherwise). An
existing SQLite database (a study, a rater package) is never replaced; an existing face model,
checkpoint or dataset only by a writer of that kind or with ``--overwrite``, which never lifts
the first two refusals. Without this, the atomic rename makes such a write succeed silently.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

from app.errors import FaceExplorerError

DATABASE = "an SQLite database (a study or a rater package)"
MODEL = "a face model"
CHECKPOINT = "a network checkpoint"
DATASET = "a dataset"
MATLAB = "a Matlab or HDF5 file (a face model or fitted parameters)"
_SQLITE_HEADER = b"SQLite format 3\x00"
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
# Members of an .npz (without ".npy") that say what it is; any one set is enough.
_NPZ_KINDS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"mean", "basis_id"}), MODEL),  # the project's model .npz
    (frozenset({"neutral", "identity_steps"}), MODEL),  # the embedded model's data file
    (frozenset({"uv", "uv_triangles"}), MODEL),  # a texture layout
    (frozenset({"uv", "source_digest"}), MODEL),
    (frozenset({"v_template", "shapedirs"}), MODEL),  # FLAME's arrays
    (frozenset({"shape", "expression"}), DATASET),  # fitted-parameter tables (--data)
    (frozenset({"face_index", "alpha_id_noisy"}), DATASET),  # a generated dataset's shard
)


def same_file(first: str | os.PathLike[str], second: str | os.PathLike[str]) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:  # one of them does not exist (yet)
        return Path(first).resolve() == Path(second).resolve()


def refuse_output_over_input(
    output: str | os.PathLike[str],
    inputs: Mapping[str, str | os.PathLike[str] | None],
    *,
    writes: str | None = None,
    overwrite: bool = False,
) -> None:
    """Raise unless the command may write ``output`` (see the module docstring).

    ``inputs`` maps what each input is to its path (None: not given); ``writes`` is the kind of
    data the command writes when it is one of the guarded kinds (``CHECKPOINT`` for train,
    ``DATASET`` for generate); ``overwrite`` is the user's explicit ``--overwrite``.
    """
    output = Path(output)
    given = {role: Path(source) for role, source in inputs.items() if source is not None}
    for role, source in given.items():  # the most precise refusal first
        if same_file(output, source):
            raise FaceExplorerError(
                f"{output} is also the {role} of this command: writing it would destroy that input; "
                "choose another output"
            )
    for role, source in given.items():
        if source.is_dir() and _inside(output, source):
            raise FaceExplorerError(
                f"{output} lies inside {source}, the {role} of this command, which it reads: "
                "writing there would change that input; choose an output outside it"
            )
        if not source.is_dir() and _inside(source, output):
            raise FaceExplorerError(
                f"{output} holds {source}, the {role} of this command: writing into the folder it reads "
                "from could replace that input; choose another folder"
            )
    found = existing_kind(output)
    if found == DATABASE:
        raise FaceExplorerError(f"{output} already exists and is {DATABASE}, which is never overwritten")
    if found is not None and found != writes and not overwrite:
        raise FaceExplorerError(
            f"{output} already exists and is {found}; give --overwrite to replace it, or choose another output"
        )


def existing_kind(path: str | os.PathLike[str]) -> str | None:
    """Which guarded kind (``DATABASE``, ``MODEL``, ``CHECKPOINT``, ``DATASET``, ``MATLAB``) ``path`` holds, or None.

    Read from the first bytes and, for zip archives, the member names: cheap for any file size.
    """
    path = Path(path)
    if path.is_dir():
        if (path / "manifest.json").is_file():
            return DATASET
        if (path / "generic_neutral_mesh.obj").is_file():
            return MODEL  # an ICT-FaceKit folder
        return None
    if not path.is_file():
        return None  # nothing there, or a device or pipe that reading would block on
    try:
        with open(path, "rb") as handle:
            head = handle.read(520)
    except OSError:
        return None
    if head.startswith(_SQLITE_HEADER):
        return DATABASE
    if head.startswith(b"MATLAB") or head.startswith(_HDF5_SIGNATURE) or head[512:520] == _HDF5_SIGNATURE:
        return MATLAB
    if path.suffix.lower() == ".pkl" and head.startswith(b"\x80"):
        return MODEL  # a pickled model (FLAME)
    if head.startswith(b"PK"):
        return _zip_kind(path)
    return None


def _zip_kind(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return None
    if any(name.endswith("/data.pkl") for name in names):
        return CHECKPOINT  # torch.save's zip
    members = {name.removesuffix(".npy") for name in names}
    return next((kind for keys, kind in _NPZ_KINDS if keys <= members), None)


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies below it (resolved, so ``..`` and links count)."""
    return path.resolve().is_relative_to(folder.resolve())
