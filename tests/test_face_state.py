"""FaceState (the explorer's one state object), LiveFace, presets and face export, without Qt."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import ClassVar

import numpy as np
import pytest

from app.dataset.export import load_coefficients
from app.dataset.face_export import ExportedFace, export_faces
from app.errors import FaceExplorerError
from app.explorer.face_preset import apply_preset, load_preset, save_preset
from app.explorer.face_state import FaceChange, FaceState
from app.explorer.live_face import LiveFace
from app.model.morphable_model import MorphableModel
from app.model.sampling_settings import SamplingSettings
from app.model.vertex_normals import VertexNormals


@pytest.fixture
def model() -> MorphableModel:
    """A 4-vertex model with 5 identity and 3 expression modes (EVs chosen so scales differ)."""
    rng = np.random.default_rng(7)
    return MorphableModel(
        mean=rng.normal(size=12) * 1e4,
        basis_id=rng.normal(size=(5, 12)),
        basis_exp=rng.normal(size=(3, 12)),
        ev_id=np.array([5e5, 3e5, 2e5, 1e5, 5e4]),
        ev_exp=np.array([4.0, 2.0, 1.0]),
        triangles=np.array([[0, 1, 2], [0, 2, 3]]),
        name="test:tiny",
        names_id=["width", "height"],
        names_exp=["smile"],
    )


class FakeDenoiser:
    """Halves every coefficient: enough to tell input and denoised faces apart."""

    def denoise_face(self, alpha_id: np.ndarray, alpha_exp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return alpha_id * 0.5, alpha_exp * 0.5


def recorded(state: FaceState) -> list:
    changes: list = []
    state.subscribe(changes.append)
    return changes


def test_single_coefficient_change_is_announced_with_old_and_new(model):
    state = FaceState(model)
    changes = recorded(state)
    state.set_coefficient("shape", 2, 1.5e5)
    state.set_coefficient("shape", 2, 1.5e5)  # no change, no announcement
    state.set_coefficient("expression", 1, -0.25)
    assert [(c.kind, c.index, c.old, c.new) for c in changes] == [
        ("shape", 2, 0.0, 1.5e5),
        ("expression", 1, 0.0, -0.25),
    ]
    assert all(c.is_single for c in changes)
    assert state.alpha_id[2] == 1.5e5 and state.alpha_exp[1] == -0.25


def test_whole_face_change_and_reset(model):
    state = FaceState(model)
    changes = recorded(state)
    state.set_face(np.arange(5.0), np.ones(3))
    assert not changes[-1].is_single
    state.reset()
    assert not changes[-1].is_single
    assert np.all(state.alpha_id == 0) and np.all(state.alpha_exp == 0)


def test_coefficients_are_copies(model):
    state = FaceState(model)
    state.alpha_id[0] = 99.0
    assert state.alpha_id[0] == 0.0


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.set_coefficient("shape", 5, 1.0),
        lambda s: s.set_coefficient("expression", 0, float("nan")),
        lambda s: s.set_face(np.zeros(4), None),
        lambda s: s.set_face(None, np.array([0.0, np.inf, 0.0])),
        lambda s: s.update_settings(distribution="cauchy"),
        lambda s: s.update_settings(r_shape=-1.0),
        lambda s: s.update_settings(seed=-3),
        lambda s: s.set_coefficient("shape", 0, 5e5 * 1000 * 1.01),  # beyond ±1000 × the largest EV
        lambda s: s.set_coefficient("expression", 2, -1001.0),  # expression scales are EV/max(EV) ≤ 1
        lambda s: s.set_face(np.full(5, 1e300), np.zeros(3)),  # finite but absurd: refused whole
        lambda s: s.set_face(np.zeros(5), np.array([0.0, 1e30, 0.0])),
        lambda s: s.update_settings(r_exp=1e9),
    ],
)
def test_bad_input_is_a_face_explorer_error_and_changes_nothing(model, call):
    state = FaceState(model)
    state.set_face(np.ones(5), np.ones(3))
    before = (state.alpha_id, state.alpha_exp, state.settings)
    with pytest.raises(FaceExplorerError):
        call(state)
    assert np.array_equal(state.alpha_id, before[0]) and np.array_equal(state.alpha_exp, before[1])
    assert state.settings == before[2]


def test_sampling_is_reproducible_from_the_seed_and_advances_it(model):
    state = FaceState(model, SamplingSettings(seed=42))
    seen = []
    state.subscribe_settings(seen.append)
    state.sample("both")
    first = (state.alpha_id, state.alpha_exp)
    assert state.settings.seed == 43 and seen[-1].seed == 43
    state.sample("both")
    assert not np.array_equal(state.alpha_id, first[0])
    state.update_settings(seed=42)
    state.sample("both")
    assert np.array_equal(state.alpha_id, first[0]) and np.array_equal(state.alpha_exp, first[1])


def test_uniform_samples_stay_in_the_paper_intervals(model):
    state = FaceState(model, SamplingSettings(r_shape=10.0, r_exp=15.0))
    for _ in range(50):
        state.sample("both")
        assert np.all(np.abs(state.alpha_id) <= 5.0 * model.ev_id)
        assert np.all(np.abs(state.alpha_exp) <= 7.5 * model.ev_exp / model.ev_exp.max())


def test_sampling_one_part_keeps_the_other(model):
    state = FaceState(model)
    state.set_face(np.ones(5), np.full(3, 2.0))
    state.sample("shape")
    assert np.all(state.alpha_exp == 2.0) and not np.all(state.alpha_id == 1.0)
    state.sample("expression")
    assert not np.all(state.alpha_exp == 2.0)


def test_normal_distribution_follows_the_scales(model):
    state = FaceState(model, SamplingSettings(distribution="normal"))
    draws = []
    for _ in range(400):
        state.sample("shape")
        draws.append(state.alpha_id)
    spread = np.std(draws, axis=0)
    assert np.allclose(spread / model.ev_id, 1.0, atol=0.15)


def test_live_face_incremental_update_matches_full_synthesis(model):
    state = FaceState(model)
    live = LiveFace(state, FakeDenoiser())
    state.sample("both")
    live.refresh()
    for index, value in ((0, 3e5), (4, -1e5), (0, -2e5)):
        state.set_coefficient("shape", index, value)
    state.set_coefficient("expression", 2, 1.25)
    assert live.stale
    expected = model.synthesize(state.alpha_id, state.alpha_exp)
    assert np.allclose(live.input_vertices, expected, rtol=1e-5, atol=1e-2)  # updated per event, before refresh
    assert live.refresh() and not live.refresh()
    assert np.allclose(live.denoised_id, state.alpha_id * 0.5)
    assert np.allclose(
        live.denoised_vertices, model.synthesize(state.alpha_id * 0.5, state.alpha_exp * 0.5), rtol=1e-5, atol=1e-2
    )
    distance = np.linalg.norm(live.denoised_vertices - live.input_vertices, axis=1) / 1000.0
    assert np.allclose(live.displacement_mm, distance, rtol=1e-5)
    assert np.allclose(np.linalg.norm(live.input_normals, axis=1), 1.0, atol=1e-5)


def test_live_face_without_denoiser_shows_the_input(model):
    state = FaceState(model)
    live = LiveFace(state, None)
    state.sample("both")
    live.refresh()
    assert np.array_equal(live.denoised_vertices, live.input_vertices)
    assert np.all(live.displacement_mm == 0)


def test_vertex_normals_of_a_flat_square_point_up():
    vertices = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], dtype=np.float32)
    normals = VertexNormals(np.array([[0, 1, 2], [0, 2, 3]]), 4).compute(vertices)
    assert np.allclose(normals, [[0, 0, 1]] * 4)


def test_preset_round_trip(model, tmp_path):
    state = FaceState(model, SamplingSettings(r_shape=8.0, r_exp=12.0, seed=5, distribution="normal"))
    state.sample("both")
    path = save_preset(tmp_path / "face.json", state)
    other = FaceState(model)
    preset = load_preset(path, model.n_id, model.n_exp)
    apply_preset(other, preset)
    assert preset.model == model.provenance
    assert np.array_equal(other.alpha_id, state.alpha_id) and np.array_equal(other.alpha_exp, state.alpha_exp)
    assert other.settings == replace(state.settings, seed=0)  # the ranges; the next seed stays the explorer's


def test_bad_presets_are_refused(model, tmp_path):
    state = FaceState(model)
    good = json.loads(save_preset(tmp_path / "good.json", state).read_text())
    cases = {
        "not_json.json": "{ this is not json",
        # a coefficient file loads as a preset when it records its model; without that record it is refused
        "no_model.json": json.dumps(
            {k: v for k, v in good.items() if k not in ("preset", *model.provenance.to_record())}
        ),
        "wrong_count.json": json.dumps({**good, "alpha_id": [0.0] * 4}),
        "bad_sampling.json": json.dumps({**good, "sampling": {"r_shape": "wide"}}),
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(FaceExplorerError):
            load_preset(tmp_path / name, model.n_id, model.n_exp)


def test_export_both_writes_meshes_and_coefficients(model, tmp_path):
    state = FaceState(model)
    state.sample("both")
    live = LiveFace(state, FakeDenoiser())
    faces = [
        ExportedFace("input", live.input_vertices, state.alpha_id, state.alpha_exp),
        ExportedFace("denoised", live.denoised_vertices, live.denoised_id, live.denoised_exp),
    ]
    written = export_faces(
        tmp_path / "face.ply",
        faces,
        model.triangles,
        binary=False,
        coefficient_format=".npz",
        **model.provenance.to_record(),
    )
    assert sorted(p.name for p in written) == [
        "face_denoised.npz",
        "face_denoised.ply",
        "face_input.npz",
        "face_input.ply",
    ]
    alpha_id, _, info = load_coefficients(tmp_path / "face_denoised.npz")
    assert np.allclose(alpha_id, state.alpha_id * 0.5) and info == {
        "face": "denoised",
        "unit": "mm",
        "unit_name": "millimetres",
        **model.provenance.to_record(),
    }
    assert (tmp_path / "face_input.ply").read_text(errors="replace").startswith("ply\nformat ascii")


def test_export_to_a_missing_folder_writes_nothing(model, tmp_path):
    state = FaceState(model)
    live = LiveFace(state, None)
    face = ExportedFace("input", live.input_vertices, state.alpha_id, state.alpha_exp)
    with pytest.raises(FaceExplorerError):
        export_faces(tmp_path / "missing" / "face.obj", [face], model.triangles)
    assert list(tmp_path.iterdir()) == []


def test_the_limit_is_one_per_kind_and_names_the_offender(model):
    state = FaceState(model)
    state.set_coefficient("shape", 4, 5e8)  # exactly 1000 × the largest identity EV: allowed
    state.set_coefficient("expression", 2, 999.0)  # a small-EV mode may still take O(1..1000) values
    with pytest.raises(FaceExplorerError, match=r"preset.json: identity mode 3 is 1e\+300, outside ±5e\+08"):
        state.set_face(np.array([0, 0, 0, 1e300, 1e300]), None, source="preset.json")
    assert state.coefficient("shape", 4) == 5e8


def test_a_face_the_networks_cannot_take_keeps_the_last_good_face(model):
    class Overflowing(FakeDenoiser):
        def denoise_face(self, alpha_id, alpha_exp):
            if alpha_id[0] > 1e6:
                raise FaceExplorerError("the shape network's output is not finite for these coefficients")
            return super().denoise_face(alpha_id, alpha_exp)

    state = FaceState(model)
    live = LiveFace(state, Overflowing())
    state.set_coefficient("shape", 1, 2e5)
    live.refresh()
    shown_input, shown_denoised = live.input_vertices.copy(), live.denoised_vertices.copy()
    state.set_coefficient("shape", 0, 2e6)  # moves the input vertices at once (incremental path) …
    with pytest.raises(FaceExplorerError, match="not finite"):
        live.refresh()
    # … but a failed refresh puts every array back to the face that was computed completely.
    np.testing.assert_allclose(live.input_vertices, shown_input, rtol=1e-6)
    np.testing.assert_array_equal(live.denoised_vertices, shown_denoised)
    assert live.good_coefficients[0][0] == 0.0 and live.good_coefficients[0][1] == 2e5


def test_live_denoising_runs_on_one_torch_thread_and_batch_work_keeps_the_default(model):
    import torch

    class Counting(FakeDenoiser):
        threads: ClassVar[list[int]] = []

        def denoise_face(self, alpha_id, alpha_exp):
            self.threads.append(torch.get_num_threads())
            return super().denoise_face(alpha_id, alpha_exp)

    default = torch.get_num_threads()
    torch.set_num_threads(2)  # what a two-core machine gets by default; the live face must not use it
    try:
        state = FaceState(model)
        live = LiveFace(state, Counting())
        state.sample("both")
        live.refresh()
        assert Counting.threads == [1, 1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(default)


def test_a_live_face_that_cannot_be_built_does_not_follow_the_state(model):
    class Refusing(FakeDenoiser):
        def denoise_face(self, alpha_id, alpha_exp):
            raise FaceExplorerError("the shape network's output is not finite for these coefficients")

    class Listening(LiveFace):
        heard: ClassVar[list[FaceChange]] = []

        def _on_face_change(self, change):
            self.heard.append(change)
            super()._on_face_change(change)

    state = FaceState(model)
    with pytest.raises(FaceExplorerError, match="not finite"):
        Listening(state, Refusing())
    state.set_coefficient("shape", 0, 1.0)
    assert Listening.heard == []
