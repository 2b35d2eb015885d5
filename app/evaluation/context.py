"""What every experiment works on: model, clean data, denoiser, held-out faces, settings.

The held-out faces are the ones the checkpoint never saw: the checkpoint lists their ids. For
older checkpoints without the list, training split the data with
``split_by_face(data, test_faces, default_rng(seed))`` as its first use of the generator, so the
same call with the seed and test-face count stored in the checkpoint gives the same split.
Noisy test pairs are then drawn afresh with the paper's protocol (σ and copies from the
checkpoint) from the evaluation seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from app.denoising.corruption import NoisyPairs, make_noisy_pairs
from app.denoising.denoiser import Denoiser
from app.errors import FaceExplorerError
from app.model.fitted_params import FittedParameters, split_by_face, split_by_ids
from app.model.morphable_model import CoefficientKind, MorphableModel
from app.prior.learned_prior import LearnedPrior
from app.workspace import Workspace

KIND_ORDER: tuple[CoefficientKind, ...] = ("expression", "shape")  # the paper reports expression first
PAPER_TEST_MSE = {"expression": (2.07, 0.12), "shape": (12.57, 0.17)}  # (noisy input, denoised)


@dataclass
class EvaluationContext:
    model: MorphableModel
    data: FittedParameters
    denoiser: Denoiser
    output: Path
    seed: int = 0
    epochs: int = 2  # for experiments that train networks (sigma-grid)
    vectors: int = 2000  # samples per set for diversity (Table I: 2,000)
    scatter_points: int = 70  # samples per set in the PCA scatter (Fig 12: 70)
    mesh_faces: int = 500  # faces per condition for the mesh check (the paper rated 500)
    train_copies: int | None = None  # copies per face when training (sigma-grid); None = the checkpoint's
    notes: list[str] = field(default_factory=list)
    load_prior: Callable[[], LearnedPrior] | None = None  # the learned prior, read when an experiment asks
    _pairs: dict[tuple[str, float], NoisyPairs] = field(default_factory=dict, repr=False)

    @classmethod
    def from_workspace(cls, workspace: Workspace, output: str | Path, **settings: Any) -> EvaluationContext:
        return cls(
            workspace.model,
            workspace.data,
            workspace.denoiser,
            Path(output),
            load_prior=lambda: workspace.prior,
            **settings,
        )

    @cached_property
    def prior(self) -> LearnedPrior:
        """The learned prior of the checkpoints folder; a FaceExplorerError when there is none to use."""
        if self.load_prior is None:
            raise FaceExplorerError("no learned prior was given to this evaluation")
        return self.load_prior()

    def checkpoint_setting(self, kind: CoefficientKind, name: str) -> float:
        value = self.denoiser.metadata[kind].get(name)
        if value is None:
            raise FaceExplorerError(f"the {kind} checkpoint does not record its training '{name}'")
        return value

    def normalisation(self, kind: CoefficientKind) -> float:
        return float(self.checkpoint_setting(kind, "normalisation"))

    def sigma(self, kind: CoefficientKind) -> float:
        return float(self.checkpoint_setting(kind, "sigma"))

    @cached_property
    def splits(self) -> dict[CoefficientKind, tuple[FittedParameters, FittedParameters]]:
        """kind → (training faces, held-out faces) exactly as the checkpoint's training split them."""
        splits = {}
        for kind in KIND_ORDER:
            meta = self.denoiser.metadata[kind]
            if meta.get("held_out_faces") and meta.get("data_source") == self.data.source:
                splits[kind] = split_by_ids(self.data, meta["held_out_faces"])
                continue
            if meta.get("data_source") != self.data.source:
                self.notes.append(
                    f"the {kind} checkpoint was trained on '{meta.get('data_source')}', not on '{self.data.source}': "
                    "its held-out split cannot be reproduced, so test faces may include faces it was trained on"
                )
            test_faces = int(self.checkpoint_setting(kind, "test_faces"))
            rng = np.random.default_rng(int(self.checkpoint_setting(kind, "seed")))
            splits[kind] = split_by_face(self.data, min(test_faces, len(self.data) // 2), rng)
        return splits

    def training_faces(self, kind: CoefficientKind) -> np.ndarray:
        return self.splits[kind][0].coefficients(kind)

    def held_out_faces(self, kind: CoefficientKind) -> np.ndarray:
        return self.splits[kind][1].coefficients(kind)

    def test_pairs(self, kind: CoefficientKind, sigma: float | None = None) -> NoisyPairs:
        """Noisy copies of the held-out faces in model units (float32, as in training), made once per σ."""
        sigma = self.sigma(kind) if sigma is None else sigma
        if (kind, sigma) in self._pairs:
            return self._pairs[kind, sigma]
        copies = int(self.checkpoint_setting(kind, "copies"))
        rng = np.random.default_rng([self.seed, KIND_ORDER.index(kind), round(sigma * 1e3)])
        self._pairs[kind, sigma] = make_noisy_pairs(self.held_out_faces(kind), sigma, copies, rng)
        return self._pairs[kind, sigma]

    def normalised_mse(self, kind: CoefficientKind, prediction: np.ndarray, target: np.ndarray) -> float:
        """MSE in the network's units (shape /1e5), the units of the paper's numbers."""
        scale = self.normalisation(kind)
        difference = (np.asarray(prediction, np.float64) - np.asarray(target, np.float64)) / scale
        return float(np.mean(difference**2))

    def rng(self, *stream: int) -> np.random.Generator:
        """An independent generator per use, so one experiment's draws never shift another's."""
        return np.random.default_rng([self.seed, *stream])
