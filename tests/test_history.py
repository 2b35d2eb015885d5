"""Undo/redo and the list of earlier faces (FaceHistory), the origin of the face on screen, and σ units, without Qt."""

from __future__ import annotations

import numpy as np
import pytest

from app.errors import FaceExplorerError
from app.explorer.coefficient_display import format_in_unit, mode_label, mode_name, to_sigma
from app.explorer.face_origin import FaceOrigin, PartOrigin
from app.explorer.face_preset import apply_preset, load_preset, save_preset
from app.explorer.face_state import FaceState
from app.explorer.history import FaceHistory
from app.explorer.number_entry import parse_coefficient
from app.explorer.session import ExplorerSession
from app.model.morphable_model import MorphableModel
from app.workspace import Workspace


@pytest.fixture
def model() -> MorphableModel:
    rng = np.random.default_rng(3)
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


def face(state: FaceState) -> tuple[np.ndarray, np.ndarray]:
    return state.alpha_id, state.alpha_exp


def assert_same_face(a, b) -> None:
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_every_kind_of_change_is_one_step_and_undo_redo_restore_exact_faces(model):
    state = FaceState(model)
    history = FaceHistory(state)
    faces = [face(state)]
    state.sample("both")
    faces.append(face(state))
    state.set_coefficient("shape", 1, 12345.678)  # typed
    faces.append(face(state))
    state.reset_part("expression")
    faces.append(face(state))
    state.reset()
    faces.append(face(state))
    assert len(history.entries) == 5 and history.position == 4
    assert [e.action for e in history.entries] == [
        "start",
        "sample both (seed 0)",
        f"identity 1 (height) = {12345.678 / 3e5:.2f}σ",
        "neutral expression",
        "mean face",
    ]
    for expected in reversed(faces[:-1]):
        assert history.undo()
        assert_same_face(face(state), expected)
    assert not history.undo() and not history.can_undo
    for expected in faces[1:]:
        assert history.redo()
        assert_same_face(face(state), expected)
    assert not history.redo()
    assert len(history.entries) == 5  # moving through the history records nothing


def test_a_drag_is_one_step_and_a_change_after_undo_drops_the_redo_branch(model):
    state = FaceState(model)
    history = FaceHistory(state)
    state.begin_gesture()
    for value in (1e4, 2e4, 3e4):
        state.set_coefficient("shape", 0, value)
    state.end_gesture()
    state.begin_gesture()
    state.set_coefficient("shape", 0, 5e4)
    state.end_gesture()
    state.set_coefficient("shape", 0, 6e4)  # outside a gesture: a step of its own
    assert len(history.entries) == 4
    assert [e.alpha_id[0] for e in history.entries] == [0.0, 3e4, 5e4, 6e4]
    history.undo()
    history.undo()
    assert state.alpha_id[0] == 3e4 and history.can_redo
    state.set_coefficient("expression", 0, 0.5)
    assert not history.can_redo and len(history.entries) == 3
    assert state.alpha_id[0] == 3e4


def test_go_to_returns_to_any_earlier_face_and_the_list_is_bounded(model):
    state = FaceState(model)
    history = FaceHistory(state, limit=4)
    heard = []
    history.subscribe(lambda: heard.append(history.position))
    for seed in range(6):
        state.update_settings(seed=seed)
        state.sample("shape")
    assert len(history.entries) == 4  # the oldest entries went
    target = history.entries[1]
    history.go_to(1)
    assert_same_face(face(state), (target.alpha_id, target.alpha_exp))
    assert state.origin == target.origin and state.origin.shape.seed == 3
    assert heard[-1] == 1
    with pytest.raises(IndexError):
        history.go_to(4)
    history.close()
    state.sample("shape")
    assert len(history.entries) == 4  # a closed history no longer follows


def test_the_origin_says_seed_and_distribution_per_part_and_edited_after_a_change(model):
    state = FaceState(model)
    assert state.origin.describe() == "mean"
    state.update_settings(seed=7)
    state.sample("both")
    assert state.origin.describe() == "seed 7 · uniform r = 10 / 15"
    state.update_settings(distribution="normal")
    state.sample("expression")
    assert state.origin.describe() == "identity: seed 7 · uniform r = 10; expression: seed 8 · normal"
    state.set_coefficient("shape", 0, 1.0)
    assert state.origin.shape.edited and not state.origin.expression.edited
    assert "seed 7 · uniform r = 10, edited" in state.origin.describe()
    state.set_face(np.ones(5), None, "the denoised face")
    assert state.origin.shape == PartOrigin("the denoised face") and state.origin.expression.seed == 8


def test_presets_record_the_origin_and_old_presets_say_they_came_from_the_file(model, tmp_path):
    state = FaceState(model)
    state.update_settings(seed=11)
    state.sample("both")
    state.set_coefficient("expression", 2, 0.25)
    saved = state.origin
    save_preset(tmp_path / "face.json", state)
    other = FaceState(model)
    apply_preset(other, load_preset(tmp_path / "face.json", 5, 3))
    assert other.origin == saved and "edited" in other.origin.describe()
    preset = load_preset(tmp_path / "face.json", 5, 3)
    old = type(preset)(preset.alpha_id, preset.alpha_exp, preset.settings, preset.model, preset.path, None)
    apply_preset(other, old)
    assert other.origin.describe() == "preset face.json"
    with pytest.raises(FaceExplorerError, match="origin"):
        FaceOrigin.from_record({"shape": {"source": "x", "colour": 1}, "expression": {"source": "y"}})


def test_sigma_units_names_and_typed_sigma(model):
    # identity σ is EV; expression σ is EV / max(EV)
    assert to_sigma(model, "shape", 1, 6e5) == pytest.approx(2.0)
    assert to_sigma(model, "expression", 1, 1.0) == pytest.approx(2.0)
    assert mode_name(model, "shape", 0) == "width" and mode_name(model, "shape", 4) == "identity mode 4"
    assert mode_label(model, "expression", 2) == "expression mode 2"
    assert format_in_unit(7.5e5, 3e5, "sigma") == "2.500σ" and format_in_unit(7.5e5, 3e5, "raw") == "750000"
    assert parse_coefficient("2.5σ", "raw", 3e5) == pytest.approx(7.5e5)
    assert parse_coefficient("-1 sigma", "raw", 3e5) == pytest.approx(-3e5)
    assert parse_coefficient("2.5", "sigma", 3e5) == pytest.approx(7.5e5)
    assert parse_coefficient("2.5", "raw", 3e5) == 2.5
    for text, says in (("1,5σ", "use a point"), ("1,5", "use a point"), ("σ", "no number"), ("2.5σσ", "not a number")):
        with pytest.raises(FaceExplorerError, match=says):
            parse_coefficient(text, "sigma", 3e5)


def test_the_session_records_sampling_denoising_and_presets_and_a_new_model_starts_a_new_history(
    tiny_checkpoints, tmp_path
):
    session = ExplorerSession(Workspace(None, None, tiny_checkpoints, "cpu"))
    session.state.sample("both")
    sampled = face(session.state)
    session.apply_denoised()
    assert session.state.origin.shape.source.startswith("denoised from seed 0")
    session.save_preset(tmp_path / "p.json")
    session.state.reset()
    session.load_preset(tmp_path / "p.json")
    assert [e.action for e in session.history.entries][1:] == [
        "sample both (seed 0)",
        "the denoised face",
        "mean face",
        str(tmp_path / "p.json"),
    ]
    session.history.go_to(1)
    assert_same_face(face(session.state), sampled)
    assert session.state.origin.describe() == "seed 0 · uniform r = 10 / 15"


class RefusingHalfTheTime:
    """Networks that refuse any face whose first identity coefficient is negative."""

    def denoise_face(self, alpha_id, alpha_exp):
        if alpha_id[0] < 0:
            raise FaceExplorerError("the shape network's output is not finite for these coefficients")
        return alpha_id, alpha_exp


def test_a_face_that_cannot_be_shown_leaves_no_history_entry(tiny_checkpoints):
    session = ExplorerSession(Workspace(None, None, tiny_checkpoints, "cpu"))
    session.live.use_denoiser(RefusingHalfTheTime())
    session.state.set_coefficient("shape", 0, 1e5)
    session.refresh()
    good = face(session.state)
    entries = [e.action for e in session.history.entries]
    session.state.set_coefficient("shape", 0, -1e5)  # a step of its own, refused
    with pytest.raises(FaceExplorerError, match="cannot be shown"):
        session.refresh()
    assert [e.action for e in session.history.entries] == entries
    assert_same_face(face(session.state), good)
    session.state.begin_gesture()  # a drag refused on its way: back to the last full face, no entry
    session.state.set_coefficient("shape", 0, 2e5)
    session.refresh(draft=True)
    session.state.set_coefficient("shape", 0, -2e5)
    with pytest.raises(FaceExplorerError):
        session.refresh(draft=True)
    session.state.end_gesture()
    assert [e.action for e in session.history.entries] == entries
    assert_same_face(face(session.state), good)
    session.state.set_coefficient("shape", 0, 3e5)
    session.refresh()
    session.state.set_coefficient("shape", 0, -3e5)
    session.state.set_face(None, np.full(session.state.model.n_exp, 0.5), "typed")  # a second step, then refused
    with pytest.raises(FaceExplorerError):
        session.refresh()
    assert len(session.history.entries) == len(entries) + 1  # both steps after the last face shown went
    assert session.history.entries[-1].alpha_id[0] == 3e5 == session.state.alpha_id[0]
    assert session.history.undo() and session.state.alpha_id[0] == 1e5
