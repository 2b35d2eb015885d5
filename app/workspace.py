"""What a session works on: the face model, the fitted-parameter data and the denoiser.

The CLI and the GUI both open a ``Workspace`` from the same three optional paths (--model,
--data, --checkpoints); anything not given falls back to the embedded model, its corpus and
the shipped checkpoints. Each part is loaded on first use, so ``info`` on a broken checkpoint
still describes the model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from app.denoising.checkpoint import KINDS, checkpoint_path
from app.denoising.checkpoint_folders import SHIPPED_CHECKPOINTS
from app.denoising.denoiser import Denoiser
from app.errors import DatasetError
from app.model.coefficient_limits import coefficient_limit
from app.model.embedded_corpus import embedded_corpus
from app.model.embedded_model import embedded_model
from app.model.fitted_model_params import is_fit_folder, load_model_fits
from app.model.fitted_params import FittedParameters, load_fitted_parameters
from app.model.model_files import load_model
from app.model.morphable_model import MorphableModel
from app.model.prior_samples import prior_samples
from app.prior.learned_prior import LearnedPrior

T = TypeVar("T")


class read_once(Generic[T]):  # noqa: N801 - a decorator, named like functools.cached_property
    """``functools.cached_property`` without the lock that Python 3.11 shares among all instances.

    With that lock, the explorer reading one model file on a worker thread would wait for another
    worker still reading a superseded one. Two threads reading the same instance at once both read.
    """

    def __init__(self, read: Callable[[Any], T]) -> None:
        self._read = read
        self._name = read.__name__
        self.__doc__ = read.__doc__

    def __get__(self, instance: Any, owner: type | None = None) -> T:
        if instance is None:
            return self  # type: ignore[return-value]  # looked up on the class: the descriptor itself
        value = self._read(instance)
        instance.__dict__[self._name] = value  # found before this (non-data) descriptor from now on
        return value


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

    @read_once
    def model(self) -> MorphableModel:
        return load_model(self.model_path) if self.model_path else embedded_model()

    @read_once
    def data(self) -> FittedParameters:
        """Clean fitted coefficients; the embedded corpus only goes with the embedded model.

        A folder of .npz/.pkl fits is read in the model's published coefficients; a BFM 2017/2019 or
        FLAME model without --data gets samples of its own prior, labelled as such.
        """
        if self.data_path and is_fit_folder(self.data_path):
            data = load_model_fits(self.data_path, self.model)
        elif self.data_path:
            limits = {
                "shape": coefficient_limit(self.model, "shape"),
                "expression": coefficient_limit(self.model, "expression"),
            }
            data = load_fitted_parameters(self.data_path, limits)
        elif self.model.is_embedded:
            data = embedded_corpus()
        elif self.model.origin is not None:
            data = prior_samples(self.model)
        else:
            raise DatasetError(f"{self.model.name} is not the embedded model: give its fitted parameters with --data")
        data.check_counts(self.model.n_id, self.model.n_exp)
        return data

    @read_once
    def denoiser(self) -> Denoiser:
        return Denoiser.from_folder(self.model, self.checkpoints, self.device)

    @read_once
    def prior(self) -> LearnedPrior:
        """The learned prior: prior-shape.pt and prior-expression.pt in the checkpoints folder."""
        return LearnedPrior.from_folder(self.model, self.checkpoints, self.device)

    def with_data(self, data_path: str | Path | None) -> Workspace:
        """The same model (not read again) with other fitted-parameter data; None: the default data."""
        return self._sharing_model(data_path, self.checkpoints)

    def with_checkpoints(self, checkpoints: str | Path) -> Workspace:
        """The same model and data (not read again) with the networks of another checkpoints folder."""
        workspace = self._sharing_model(self.data_path, checkpoints)
        if self.data_loaded:
            workspace.__dict__["data"] = self.data
        return workspace

    def _sharing_model(self, data_path: str | Path | None, checkpoints: str | Path) -> Workspace:
        workspace = Workspace(self.model_path, data_path, checkpoints, self.device)
        workspace.__dict__["model"] = self.model  # where read_once keeps what it read
        return workspace

    def inputs(self) -> dict[str, Path | None]:
        """What every command and the explorer read besides their own arguments: --model (and the 3DDFA
        file beside it), --data, the checkpoints. No output may be one of them or lie inside one of them.
        """
        model = self.model_path
        # A 3DDFA Model_Shape.mat is read with the Model_Exp.mat beside it (and the other way round).
        siblings = (
            {f"--model's {name}": model.with_name(name) for name in ("Model_Shape.mat", "Model_Exp.mat")}
            if model is not None and model.suffix.lower() == ".mat"
            else {}
        )
        return {
            "--model folder" if model is not None and model.is_dir() else "--model file": model,
            **siblings,
            "--data": self.data_path,
            "--checkpoints folder": self.checkpoints,
            **{f"{kind} checkpoint": checkpoint_path(self.checkpoints, kind) for kind in KINDS},
        }

    @property
    def data_loaded(self) -> bool:
        """True once ``data`` was read (reading a folder of fitted files can take seconds)."""
        return "data" in self.__dict__

    def describe_model(self) -> str:
        """The model's name and short digest, e.g. for the window title and ``info``."""
        if self.model.is_embedded:
            return f"{self.model.provenance.describe()} (built in; not the BFM)"
        return self.model.provenance.describe()
