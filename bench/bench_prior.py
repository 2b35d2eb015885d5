"""One face through the learned prior at the default strength, on one CPU thread, as the explorer runs it.

Run: .venv/bin/python bench/bench_prior.py   (prints numbers; nothing is asserted)

Times ``LearnedPrior.project_face`` (identity and expression, one face each) at the default strength
beside the paper's two networks on the same face, and the prior's corruption denoiser; target
(issue 17): ≤ 30 ms per face. Also the likelihood that ranks a face for the plausibility badges
(off the GUI thread). Each figure is the median of many calls after warm-up (the machine is
shared, so the load average is printed too).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from app.denoising.denoiser import Denoiser
from app.denoising.torch_threads import one_torch_thread
from app.model.embedded_model import embedded_model
from app.model.sampling import sample_coefficients
from app.prior.learned_prior import DEFAULT_STRENGTH, LearnedPrior, seeded_generator
from app.prior.likelihood import RANKING_STEPS

TARGET_MS = 30.0
CALLS = 200


def median_ms(function, calls: int = CALLS) -> float:
    for _ in range(10):
        function()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    model = embedded_model()
    prior = LearnedPrior.from_folder(model, device="cpu")
    denoiser = Denoiser.from_folder(model, device="cpu")
    rng = np.random.default_rng(0)
    identity = sample_coefficients(model, "shape", "uniform", 1, rng)[0]
    expression = sample_coefficients(model, "expression", "uniform", 1, rng)[0]
    generator = seeded_generator(0)
    with one_torch_thread():
        projected = median_ms(lambda: prior.project_face(identity, expression, DEFAULT_STRENGTH, generator))
        denoised = median_ms(lambda: (prior.denoise("shape", identity), prior.denoise("expression", expression)))
        paper = median_ms(lambda: denoiser.denoise_face(identity, expression))
        ranking = median_ms(
            lambda: (
                prior.log_likelihood("shape", identity, RANKING_STEPS),
                prior.log_likelihood("expression", expression, RANKING_STEPS),
            ),
            calls=20,
        )
    print(f"load average {os.getloadavg()[0]:.1f}; one torch thread; one face (identity + expression)")
    verdict = "met" if projected <= TARGET_MS else "NOT met"
    print(
        f"learned prior, projection at strength {DEFAULT_STRENGTH:g}: {projected:.2f} ms (≤ {TARGET_MS:g} ms {verdict})"
    )
    print(f"learned prior, corruption denoiser:            {denoised:.2f} ms")
    print(f"paper's networks:                              {paper:.2f} ms")
    print(f"likelihood ranking for the badges ({RANKING_STEPS} ODE steps): {ranking:.1f} ms")


if __name__ == "__main__":
    main()
