"""Training faces drawn from a model's own Gaussian prior, for a model given without fitted faces.

The BFM 2017/2019 and FLAME publish no fitted faces, and the denoisers need clean vectors to
corrupt. Without --data they train on N(0, EV²) draws of every coefficient: exactly the model's
prior, as many faces as the paper's corpus (5,837), from a fixed seed. Such nets learn to pull a
face towards the prior's typical set, not onto the manifold of real faces, so the source names
itself as prior samples wherever it is recorded (``info``, checkpoint provenance).
"""

from __future__ import annotations

import numpy as np

from app.model.fitted_params import FittedParameters
from app.model.model_origin import PRIOR_SOURCE_PREFIX
from app.model.morphable_model import MorphableModel

PRIOR_FACES = 5_837  # the paper's corpus: 300W-3D (3,837) + AFLW2000-3D (2,000)
PRIOR_SEED = 0


def prior_samples(model: MorphableModel, count: int | None = None, seed: int = PRIOR_SEED) -> FittedParameters:
    """``count`` (default ``PRIOR_FACES``) seeded draws of N(0, EV²) per coefficient, labelled as prior samples."""
    count = PRIOR_FACES if count is None else count
    rng = np.random.default_rng(seed)
    shape = rng.standard_normal((count, model.n_id)) * model.ev_id
    expression = rng.standard_normal((count, model.n_exp)) * model.ev_exp
    ids = [f"prior-{row:05d}" for row in range(count)]
    source = f"{PRIOR_SOURCE_PREFIX} ({count:,} draws, seed {seed}; no fitted faces given with --data)"
    return FittedParameters(shape, expression, ids, source)
