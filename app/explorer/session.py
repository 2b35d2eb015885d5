"""What the explorer works on and everything a user can do to it, without Qt.

An ``ExplorerSession`` holds the workspace (model, data, networks), the face being explored
(``FaceState``), its ``LiveFace`` and its ``FaceHistory`` (undo, redo, earlier faces). The window
turns user actions into calls on it and shows what they return or raise. Each action checks
everything before it changes anything, so an action refused with a FaceExplorerError leaves the
face, the networks and the files as they were.

Opening another model, data or checkpoints folder takes two steps so that the slow part can run
off the GUI thread: an ``open_*`` function of ``app.explorer.opened_workspace`` reads the files,
then ``adopt`` switches the session to what it read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.dataset.face_export import ExportChoice, ExportedFace, export_faces
from app.dataset.mesh_formats import EXPORT_MESH_UNIT
from app.denoising.checkpoint import describe_training
from app.denoising.devices import describe
from app.errors import FaceExplorerError
from app.explorer.denoising_choice import DenoisingChoice
from app.explorer.face_origin import FaceOrigin, PartOrigin
from app.explorer.face_preset import apply_preset, load_preset, save_preset
from app.explorer.face_state import FaceState
from app.explorer.history import FaceHistory
from app.explorer.live_face import LiveFace
from app.explorer.opened_workspace import OpenedWorkspace, load_networks
from app.model.provenance import SHORT_DIGEST
from app.model.sampling_settings import SamplingSettings
from app.output_paths import refuse_output_over_input
from app.study.database import RatingsDatabase
from app.study.definition import StudyFace
from app.workspace import Workspace


class ExplorerSession:
    """The open workspace, its networks, the current face and the live input/denoised faces."""

    def __init__(self, workspace: Workspace, settings: SamplingSettings | None = None) -> None:
        """Open ``workspace``: its model must load; networks that cannot be used leave ``networks.problem``."""
        self.workspace = workspace
        self.networks = load_networks(workspace)
        self.state = FaceState(workspace.model, settings)
        self.denoising = DenoisingChoice()  # networks or learned prior: kept across models and checkpoints
        self.live = LiveFace(self.state, self.networks.denoiser, self.networks.prior, self.denoising)
        self.history = FaceHistory(self.state)

    def adopt(self, opened: OpenedWorkspace) -> None:
        """Switch to what an ``open_*`` function read.

        A new model starts at its mean face with the same sampling settings, a new live face and
        a new history; new networks keep the face, its history and its live face, of which only
        the denoised half is recomputed. The new faces are computed before anything is replaced,
        so a failure there (a FaceExplorerError) leaves the session as it was.
        """
        state = FaceState(opened.workspace.model, self.state.settings) if opened.part == "model" else self.state
        networks = opened.networks or self.networks
        live = self.live
        if state is not self.state:
            live = LiveFace(state, networks.denoiser, networks.prior, self.denoising)
            self.live.close()
        elif networks is not self.networks:
            live.use_denoiser(networks.denoiser, networks.prior)
        if state is not self.state:
            self.history.close()
            self.history = FaceHistory(state)
        self.workspace, self.state, self.networks, self.live = opened.workspace, state, networks, live
        if networks.prior is None:
            self.denoising.choose("networks")  # the prior chosen before is not there any more

    # ---- the live face --------------------------------------------------------------------------
    def refresh(self, draft: bool = False) -> bool:
        """Bring the live face (its draft, while a slider is dragged) up to the state; False when nothing had changed.

        A face that cannot be shown (the networks or the synthesis fail for it) is refused:
        the state goes back to the last face the live arrays hold, and the error is raised.
        """
        try:
            return self.live.refresh(draft)
        except FaceExplorerError as problem:
            self.history.take_back_newest(self.live.return_to_last_good_face)
            raise FaceExplorerError(f"This face cannot be shown, the previous one is kept: {problem}") from problem

    # ---- faces in and out -------------------------------------------------------------------------
    def export_faces(
        self,
        path: str | Path,
        which: ExportChoice,
        binary: bool = True,
        coefficient_format: str | None = ".json",
        unit: str = EXPORT_MESH_UNIT,
    ) -> list[Path]:
        """Write the input face, the denoised face or both in ``unit`` (see ``app.dataset.face_export``)."""
        if which not in ("input", "denoised", "both"):
            raise FaceExplorerError(f"unknown face to export '{which}' (use input, denoised or both)")
        self.check_output(path)
        self.refresh()
        live, model = self.live, self.workspace.model
        faces = {
            "input": ExportedFace("input", live.input_vertices, self.state.alpha_id, self.state.alpha_exp),
            "denoised": ExportedFace("denoised", live.denoised_vertices, live.denoised_id, live.denoised_exp),
        }
        chosen = list(faces.values()) if which == "both" else [faces[which]]
        return export_faces(
            path,
            chosen,
            model.triangles,
            binary=binary,
            coefficient_format=coefficient_format,
            uv_layout=model.uv_layout,
            unit=unit,
            triangle_parts=model.triangle_parts,
            **model.provenance.to_record(),
            sampling=self.state.settings.to_dict(),
        )

    def save_preset(self, path: str | Path) -> Path:
        self.check_output(path)
        return save_preset(path, self.state)

    def check_output(self, path: str | Path) -> None:
        """Refuse ``path`` where no command may write either: over or inside the model, data or checkpoints."""
        refuse_output_over_input(path, self.workspace.inputs())

    def load_preset(self, path: str | Path) -> None:
        """The preset's face and sampling settings; one made on another model changes nothing."""
        model = self.workspace.model
        apply_preset(self.state, load_preset(path, model.n_id, model.n_exp), str(path))

    def apply_denoised(self) -> None:
        """Make the denoised face (the networks' or the learned prior's) the new input face."""
        self.refresh()
        if not self.live.denoises:
            raise FaceExplorerError("no denoising networks are loaded (File → Open checkpoints folder)")
        before = self.state.origin
        origin = FaceOrigin(
            *(PartOrigin(f"denoised from {before.part(kind).describe()}") for kind in ("shape", "expression"))
        )
        self.state.set_face(self.live.denoised_id, self.live.denoised_exp, "the denoised face", origin)

    def load_fitted_face(self) -> str:
        """A clean face of the fitted data, picked by the sampling seed (which then advances); says which.

        Reads the data first if it was not read yet (``Workspace.data_loaded``).
        """
        data = self.workspace.data
        settings = self.state.settings
        row = int(np.random.default_rng(settings.seed).integers(len(data)))
        self.state.set_face(data.shape[row], data.expression[row], f"fitted face {data.face_ids[row]}")
        self.state.update_settings(seed=settings.seed + 1)
        return f"fitted face {data.face_ids[row]} from {data.source}"

    def open_study_face(self, study: str | Path, face_id: int) -> StudyFace:
        """Show face ``face_id`` of a rater study made on this model."""
        with RatingsDatabase.open(study) as database:
            database.require_model(self.workspace.model.provenance)
            face = database.face(face_id)
        self.state.set_face(face.alpha_id, face.alpha_exp, f"{study}: face {face.face_id}")
        return face

    def network_information(self) -> str:
        """Where the networks come from, how they were trained and the digests of their files."""
        denoiser = self.live.denoiser
        if denoiser is None:
            return "No denoising networks are loaded."
        lines = [f"checkpoints: {self.workspace.checkpoints}", f"device: {describe(denoiser.device)}"]
        for kind, meta in denoiser.metadata.items():
            lines.append(f"{kind}: {describe_training(meta)}; sha256 {denoiser.digests[kind][:SHORT_DIGEST]}")
        return "\n".join(lines)
