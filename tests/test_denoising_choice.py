"""The explorer's choice of denoiser: the paper networks or the learned prior's projection at strength t."""

from __future__ import annotations

import numpy as np
import pytest

from app.denoising.checkpoint_folders import SHIPPED_CHECKPOINTS
from app.errors import FaceExplorerError
from app.explorer.denoising_choice import DenoisingChoice, DenoisingMethod
from app.explorer.face_state import FaceState
from app.explorer.live_face import LiveFace
from app.model.embedded_model import embedded_model
from app.prior.learned_prior import DEFAULT_STRENGTH, LearnedPrior


class Halving:
    def denoise_face(self, alpha_id: np.ndarray, alpha_exp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return alpha_id * 0.5, alpha_exp * 0.5


@pytest.fixture(scope="module")
def prior() -> LearnedPrior:
    return LearnedPrior.from_folder(embedded_model(), SHIPPED_CHECKPOINTS, "cpu")


def test_choice_announces_changes_and_refuses_bad_values():
    choice = DenoisingChoice()
    heard: list[DenoisingMethod] = []
    choice.subscribe(heard.append)
    assert choice.current == DenoisingMethod("networks", DEFAULT_STRENGTH)
    choice.choose(method="prior")
    choice.choose(strength=0.4)
    choice.choose(strength=0.4)  # no change: nothing announced
    assert heard == [DenoisingMethod("prior", DEFAULT_STRENGTH), DenoisingMethod("prior", 0.4)]
    assert choice.current.describe() == "learned prior, t = 0.40"
    for bad in ({"strength": 1.5}, {"strength": -0.1}, {"method": "magic"}):
        with pytest.raises(FaceExplorerError):
            choice.choose(**bad)
    assert choice.current == DenoisingMethod("prior", 0.4)


def test_live_face_projects_with_the_prior_deterministically(prior):
    model = embedded_model()
    state = FaceState(model)
    choice = DenoisingChoice()
    live = LiveFace(state, Halving(), prior, choice)  # type: ignore[arg-type]
    state.sample("both")
    live.refresh()
    networks = live.denoised_vertices.copy()
    assert live.denoised_label == "denoised (networks)"

    choice.choose(method="prior")
    assert live.stale and live.refresh()
    first = live.denoised_vertices.copy()
    assert live.denoised_label == f"denoised (learned prior, t = {DEFAULT_STRENGTH:.2f})"
    assert not np.allclose(first, networks)
    choice.choose(strength=0.5)
    live.refresh()
    choice.choose(strength=DEFAULT_STRENGTH)
    live.refresh()
    assert np.array_equal(live.denoised_vertices, first)  # the same face and strength: the same result

    twin = LiveFace(FaceState(model), None, prior, choice)
    twin.state.set_face(state.alpha_id, state.alpha_exp)
    twin.refresh()
    assert np.array_equal(twin.denoised_vertices, first)  # another live face agrees
    twin.close()

    choice.choose(strength=0.0)
    live.refresh()
    assert np.allclose(live.denoised_vertices, live.input_vertices, atol=1e-2)
    assert np.allclose(live.denoised_id, state.alpha_id)

    choice.choose(method="networks")
    live.refresh()
    assert np.array_equal(live.denoised_vertices, networks)
    live.close()


def test_live_face_without_a_prior_keeps_the_networks():
    state = FaceState(embedded_model())
    choice = DenoisingChoice()
    choice.choose(method="prior")
    live = LiveFace(state, Halving(), None, choice)  # type: ignore[arg-type]
    assert not live.uses_prior and live.denoised_label == "denoised (networks)"
    live.close()
