"""The live face's numpy work runs on one BLAS thread and leaves the pool as it was."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info

from app.explorer.blas_threads import one_blas_thread
from app.explorer.face_state import FaceState
from app.explorer.live_face import LiveFace
from app.model.embedded_model import embedded_model


def blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_one_blas_thread_inside_and_the_previous_count_after():
    before = blas_threads()
    assert before, "numpy's BLAS is loaded"
    with one_blas_thread():
        assert blas_threads() == [1] * len(before)
    assert blas_threads() == before


def test_a_refresh_synthesizes_on_one_blas_thread(monkeypatch):
    model = embedded_model()
    seen = []
    synthesize = model.synthesize

    def recording(alpha_id, alpha_exp):
        seen.append(blas_threads())
        return synthesize(alpha_id, alpha_exp)

    monkeypatch.setattr(model, "synthesize", recording)
    state = FaceState(model)
    live = LiveFace(state, None)
    state.set_face(np.ones(model.n_id), None)
    live.refresh()
    assert seen and all(counts and set(counts) == {1} for counts in seen)
