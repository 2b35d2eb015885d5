"""Reading another model, fitted-parameter data or checkpoints folder for the explorer, in full.

Each ``open_*`` function builds a new ``Workspace`` from the current one and reads what it
changes (a BFM ``.mat``, a folder of thousands of fitted files, two checkpoints), raising the
user-facing error before anything else happens. They read the current workspace and change
nothing, so the explorer runs them on a worker thread and hands the ``OpenedWorkspace`` to
``ExplorerSession.adopt`` on the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from app.denoising.denoiser import Denoiser
from app.errors import FaceExplorerError
from app.prior.learned_prior import LearnedPrior
from app.workspace import Workspace

WorkspacePart = Literal["model", "data", "checkpoints"]


@dataclass(frozen=True)
class Networks:
    """The denoiser and learned prior that go with a model, or why there are none."""

    denoiser: Denoiser | None
    problem: str = ""  # why none could be loaded: the explorer shows the input face on both sides
    warning: str = ""  # why they may not suit the model: they are used all the same
    prior: LearnedPrior | None = None
    prior_problem: str = "the learned prior is not loaded"  # why there is no prior (one line)


@dataclass(frozen=True)
class OpenedWorkspace:
    """A workspace whose changed ``part`` is read, ready to be adopted."""

    workspace: Workspace
    part: WorkspacePart
    networks: Networks | None  # new networks (a new model or checkpoints folder), else None
    summary: str  # one line saying what was opened


def load_networks(workspace: Workspace) -> Networks:
    """The workspace's networks and prior for its model; a checkpoint that cannot be used becomes a problem."""
    prior = load_prior(workspace)
    try:
        denoiser = workspace.denoiser
    except FaceExplorerError as problem:
        return Networks(None, problem=f"the denoising networks are not available: {problem}", **prior)
    return Networks(denoiser, warning=denoiser.model_mismatch(workspace.model) or "", **prior)


def load_prior(workspace: Workspace) -> dict[str, Any]:
    """``Networks``' prior fields: the learned prior of the checkpoints folder, or why there is none."""
    try:
        return {"prior": workspace.prior, "prior_problem": ""}
    except FaceExplorerError as problem:
        return {"prior": None, "prior_problem": f"no learned prior: {problem}".splitlines()[0]}


def open_model(current: Workspace, model_path: str | Path | None) -> OpenedWorkspace:
    """Another face model (None: the embedded one) with the current checkpoints, without data."""
    workspace = Workspace(model_path, None, current.checkpoints, current.device)
    workspace.model  # noqa: B018 - reading raises the user-facing error
    return OpenedWorkspace(workspace, "model", load_networks(workspace), f"opened {workspace.describe_model()}")


def open_data(current: Workspace, data_path: str | Path | None) -> OpenedWorkspace:
    """Fitted parameters for the current model (None: its default data)."""
    workspace = current.with_data(data_path)
    data = workspace.data
    return OpenedWorkspace(workspace, "data", None, f"data: {data.source}: {len(data):,} faces")


def open_checkpoints(current: Workspace, folder: str | Path) -> OpenedWorkspace:
    """The networks in ``folder`` for the current model; a folder that cannot be used raises."""
    workspace = current.with_checkpoints(folder)
    denoiser = workspace.denoiser
    networks = Networks(denoiser, warning=denoiser.model_mismatch(workspace.model) or "", **load_prior(workspace))
    return OpenedWorkspace(workspace, "checkpoints", networks, f"checkpoints: {folder}")
