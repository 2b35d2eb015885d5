"""What a session works on: the face model, the fitted-parameter data and the denoiser.

The CLI and the GUI both open a ``Workspace`` from the same three optional paths (--model,
--data, --checkpoints); anything not given falls back to the embedded model, its corpus and
the shipped checkpoints. Each part is loaded on first use, so ``info`` on a broken checkpoint
still describes the model.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from app.denoising.checkpoint_folders import SHIPPED_CHECKPOINTS
from app.denoising.denoiser import Denoiser
from app.errors import DatasetError
from app.model.embedded_corpus import embedded_corpus
from app.model.embedded_model import embedded_model
from app.model.fitted_params import FittedParameters, load_fitted_parameters
from app.model.model_files import load_model
from app.model.morphable_model import MorphableModel


class Workspace:
    def __init__(
        self,
        model_path: str | Path | None = None,
        data_path: str | Path | None = None,
        checkpoints: str | Path | None = None,
        device: str = "auto",
    ) -> None:
        self.model_path = Path(model_path) if model_path else None
        self.data_path = Path(data_path) if data_path else None
        self.checkpoints = Path(checkpoints) if checkpoints else SHIPPED_CHECKPOINTS
        self.device = device

    @cached_property
    def model(self) -> MorphableModel:
        return load_model(self.model_path) if self.model_path else embedded_model()

    @cached_property
    def data(self) -> FittedParameters:
        """Clean fitted coefficients; the embedded corpus only goes with the embedded model."""
        if self.data_path:
            data = load_fitted_parameters(self.data_path)
        elif self.model.is_embedded:
            data = embedded_corpus()
        else:
            raise DatasetError(f"{self.model.name} is not the embedded model: give its fitted parameters with --data")
        data.check_counts(self.model.n_id, self.model.n_exp)
        return data

    @cached_property
    def denoiser(self) -> Denoiser:
        return Denoiser.from_folder(self.model, self.checkpoints, self.device)

    def describe_model(self) -> str:
        """The model's name and short digest, e.g. for the window title and ``info``."""
        if self.model.is_embedded:
            return f"{self.model.provenance.describe()} (built in; not the BFM)"
        return self.model.provenance.describe()
