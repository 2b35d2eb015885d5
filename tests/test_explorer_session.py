"""The explorer's session without Qt: opening models, data and networks, and every face action.

A 20-vertex model in the real BFM.mat layout (199 + 29 modes) keeps each live face cheap; the
networks are the session's tiny trained ones (made on the embedded model, same counts).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from core_fixtures import bfm_fields, write_bfm, write_fitted_mat

from app.dataset.export import load_coefficients
from app.errors import FaceExplorerError
from app.explorer.opened_workspace import Networks, OpenedWorkspace, open_checkpoints, open_data, open_model
from app.explorer.session import ExplorerSession
from app.model.model_files import load_model
from app.model.sampling_settings import SamplingSettings
from app.study.database import RatingsDatabase
from app.study.definition import StudyDefinition, generate_study_faces
from app.workspace import Workspace


@pytest.fixture
def model_path(tmp_path):
    return write_bfm(tmp_path / "BFM.mat", bfm_fields())


@pytest.fixture
def session(model_path, tiny_checkpoints):
    return ExplorerSession(Workspace(model_path, None, tiny_checkpoints, "cpu"))


class Refusing:
    """Networks that cannot take any face."""

    def denoise_face(self, alpha_id, alpha_exp):
        raise FaceExplorerError("the shape network's output is not finite for these coefficients")


class Halving:
    """Networks that halve every coefficient."""

    def denoise_face(self, alpha_id, alpha_exp):
        return alpha_id / 2, alpha_exp / 2


def test_a_session_opens_with_its_networks_and_says_when_they_were_made_on_another_model(session):
    assert session.live.denoiser is session.networks.denoiser is not None
    assert not session.networks.problem and "network" in session.networks.warning
    assert session.workspace.model.n_vertices == 20 and np.all(session.state.alpha_id == 0)


def test_without_usable_networks_the_session_shows_the_input_and_says_why(model_path, tmp_path):
    session = ExplorerSession(Workspace(model_path, None, tmp_path, "cpu"))
    assert session.live.denoiser is None and "no such checkpoint" in session.networks.problem
    session.state.sample("both")
    session.refresh()
    np.testing.assert_array_equal(session.live.denoised_vertices, session.live.input_vertices)
    with pytest.raises(FaceExplorerError, match="no denoising networks"):
        session.apply_denoised()
    assert session.network_information() == "No denoising networks are loaded."


def test_opening_a_model_reads_it_and_adopting_switches_to_its_mean_face(session, tmp_path):
    session.state.update_settings(r_shape=4.0)
    session.state.sample("both")
    session.refresh()
    old_state, old_live = session.state, session.live
    opened = open_model(session.workspace, write_bfm(tmp_path / "small.mat", bfm_fields(rows=3, columns=4)))
    assert opened.part == "model" and opened.workspace.model.n_vertices == 12
    assert session.workspace.model.n_vertices == 20  # reading changed nothing
    session.adopt(opened)
    assert session.workspace.model.n_vertices == 12 and session.live.input_vertices.shape == (12, 3)
    assert np.all(session.state.alpha_id == 0) and session.state.settings.r_shape == 4.0
    old_state.set_coefficient("shape", 0, 1.0)
    assert not session.live.stale and not old_live.stale  # the old face is followed by no one
    session.state.set_coefficient("shape", 0, 1.0)
    assert session.live.stale


def test_files_that_cannot_be_used_raise_before_anything_changes(session, tmp_path):
    broken = tmp_path / "broken.mat"
    broken.write_text("not a mat file")
    with pytest.raises(FaceExplorerError, match=r"broken\.mat"):
        open_model(session.workspace, broken)
    with pytest.raises(FaceExplorerError, match="no such checkpoint"):
        open_checkpoints(session.workspace, tmp_path)
    with pytest.raises(FaceExplorerError, match="missing"):
        open_data(session.workspace, tmp_path / "missing")
    with pytest.raises(FaceExplorerError, match="not the embedded model"):
        session.load_fitted_face()  # a file model has no default data


def test_new_networks_keep_the_face_and_recompute_only_the_denoised_half(session, tiny_checkpoints):
    session.state.sample("both")
    session.refresh()
    face, live, old_networks = session.state.alpha_id, session.live, session.networks
    input_normals = live.input_normals.copy()
    live.input_normals[...] = 0  # would be rewritten if the input face were recomputed
    opened = open_checkpoints(session.workspace, tiny_checkpoints)
    assert opened.workspace.model is session.workspace.model  # not read again
    session.adopt(opened)
    assert session.networks is not old_networks and session.live is live
    assert live.denoiser is session.networks.denoiser and live.changed == set()  # same weights, same face
    halving = OpenedWorkspace(session.workspace.with_checkpoints("elsewhere"), "checkpoints", Networks(Halving()), "")
    session.adopt(halving)
    assert live.changed == {"denoised"}
    np.testing.assert_array_equal(live.denoised_id, face / 2)
    assert not live.input_normals.any() and input_normals.any()
    np.testing.assert_array_equal(session.state.alpha_id, face)
    session.state.set_coefficient("shape", 1, 2.0)
    assert session.live.stale


def test_networks_that_cannot_take_the_face_are_refused_and_the_session_stays(session):
    old_live, old_networks = session.live, session.networks
    refusing = OpenedWorkspace(session.workspace.with_checkpoints("elsewhere"), "checkpoints", Networks(Refusing()), "")
    with pytest.raises(FaceExplorerError, match="not finite"):
        session.adopt(refusing)
    assert session.live is old_live and session.networks is old_networks
    assert session.live.denoiser is old_networks.denoiser
    assert session.workspace.checkpoints != "elsewhere"
    session.state.set_coefficient("shape", 0, 1.0)
    assert session.live.stale  # still following the face


def test_fitted_data_is_read_once_and_the_seed_picks_the_face(session, tmp_path):
    rng = np.random.default_rng(3)
    rows = [(rng.normal(size=199) * 1e4, rng.normal(size=29) * 0.1) for _ in range(5)]
    for index, (shape, expression) in enumerate(rows):
        write_fitted_mat(tmp_path / "fits" / f"image{index}.mat", shape, expression)
    session.adopt(open_data(session.workspace, tmp_path / "fits"))
    assert session.workspace.data_loaded and len(session.workspace.data) == 5
    assert session.workspace.with_checkpoints(session.workspace.checkpoints).data_loaded  # networks keep the data
    session.state.update_settings(seed=7)
    said = session.load_fitted_face()
    row = int(np.random.default_rng(7).integers(5))
    data = session.workspace.data
    np.testing.assert_array_equal(session.state.alpha_id, data.shape[row])
    np.testing.assert_array_equal(session.state.alpha_exp, data.expression[row])
    assert data.face_ids[row] in said and session.state.settings.seed == 8


def test_a_face_that_cannot_be_shown_is_refused_and_the_last_good_one_returns(session, monkeypatch):
    session.state.set_coefficient("shape", 2, 1000.0)
    session.refresh()
    good = session.state.alpha_id
    monkeypatch.setattr(session.live, "denoiser", Refusing())
    session.state.set_coefficient("shape", 0, 5e4)
    with pytest.raises(FaceExplorerError, match="cannot be shown, the previous one is kept"):
        session.refresh()
    np.testing.assert_array_equal(session.state.alpha_id, good)
    assert not session.live.stale


def test_export_writes_the_chosen_faces_with_their_coefficients(session, tmp_path):
    session.state.sample("both")  # not refreshed yet: the export brings the faces up to date first
    written = session.export_faces(tmp_path / "face.obj", "both", coefficient_format=".json")
    assert sorted(p.name for p in written) == [
        "face_denoised.json",
        "face_denoised.mtl",
        "face_denoised.obj",
        "face_input.json",
        "face_input.mtl",
        "face_input.obj",
    ]
    alpha_id, _, info = load_coefficients(tmp_path / "face_denoised.json")
    np.testing.assert_allclose(alpha_id, session.live.denoised_id)
    assert info["face"] == "denoised" and info["sampling"] == session.state.settings.to_dict()
    assert not np.allclose(session.live.denoised_id, session.state.alpha_id)
    with pytest.raises(FaceExplorerError, match="sideways"):
        session.export_faces(tmp_path / "other.obj", "sideways")
    assert not (tmp_path / "other.obj").exists()


@pytest.mark.parametrize("coefficient_format", [".json", ".npz"])
def test_an_exported_coefficient_file_loads_back_as_a_preset(session, tmp_path, coefficient_format):
    session.state.update_settings(seed=5, distribution="normal")
    session.state.sample("both")
    session.export_faces(tmp_path / "face.obj", "both", coefficient_format=coefficient_format)
    denoised, settings = session.live.denoised_id.copy(), session.state.settings
    session.state.reset()
    session.state.update_settings(**SamplingSettings().to_dict())
    session.load_preset(tmp_path / f"face_denoised{coefficient_format}")
    np.testing.assert_allclose(session.state.alpha_id, denoised)
    assert session.state.settings == replace(settings, seed=0)  # the next seed stays the explorer's


def test_export_writes_the_unit_into_the_mesh_and_its_coefficients(session, tmp_path):
    session.state.sample("both")
    session.export_faces(tmp_path / "face.obj", "input")  # mm by default
    session.export_faces(tmp_path / "micro.ply", "input", unit="um")
    assert (tmp_path / "face.obj").read_text().startswith("# face-manifold-explorer\n# unit: millimetres\n")
    assert load_coefficients(tmp_path / "face.json")[2]["unit"] == "mm"
    assert b"comment unit micrometres\n" in (tmp_path / "micro.ply").read_bytes()[:200]
    assert load_coefficients(tmp_path / "micro.json")[2]["unit"] == "um"
    with pytest.raises(FaceExplorerError, match="inch"):
        session.export_faces(tmp_path / "other.obj", "input", unit="inch")
    assert not (tmp_path / "other.obj").exists()


def test_a_coefficient_file_without_a_model_record_is_still_not_a_preset(session, tmp_path):
    from app.dataset.export import save_coefficients

    path = save_coefficients(tmp_path / "bare.json", session.state.alpha_id, session.state.alpha_exp)
    with pytest.raises(FaceExplorerError, match="not a face preset"):
        session.load_preset(path)


def test_presets_round_trip_and_apply_denoised_takes_the_networks_output(session, tmp_path):
    session.state.update_settings(seed=11, distribution="normal")
    session.state.sample("both")
    saved = session.state.alpha_id, session.state.alpha_exp, session.state.settings
    path = session.save_preset(tmp_path / "face.json")
    session.state.reset()
    session.state.update_settings(**SamplingSettings().to_dict())
    session.load_preset(path)
    np.testing.assert_array_equal(session.state.alpha_id, saved[0])
    np.testing.assert_array_equal(session.state.alpha_exp, saved[1])
    assert session.state.settings == replace(saved[2], seed=0)  # the next seed stays the explorer's
    session.apply_denoised()
    denoised = session.live.denoised_id
    session.refresh()
    np.testing.assert_array_equal(session.state.alpha_id, denoised)


def test_a_study_face_opens_by_id_and_a_wrong_id_changes_nothing(session, tmp_path):
    model = session.workspace.model
    definition = StudyDefinition(name="inspect", faces_per_condition=2, conditions=("normal",), seed=4)
    path = tmp_path / "study.db"
    RatingsDatabase.create(path, definition, generate_study_faces(definition, model), model.provenance).close()
    face = session.open_study_face(path, 2)
    assert face.face_id == 2
    np.testing.assert_array_equal(session.state.alpha_id, face.alpha_id)
    with pytest.raises(FaceExplorerError, match="99"):
        session.open_study_face(path, 99)
    np.testing.assert_array_equal(session.state.alpha_id, face.alpha_id)


def test_network_information_names_the_folder_and_the_digests(session, tiny_checkpoints):
    text = session.network_information()
    assert f"checkpoints: {tiny_checkpoints}" in text and "device: cpu" in text
    for kind in ("shape", "expression"):
        assert f"sha256 {session.networks.denoiser.digests[kind][:12]}" in text


def test_the_explorer_writes_under_the_rule_every_command_follows(session, model_path, tiny_checkpoints):
    """Nothing into the checkpoints folder it reads from, nothing over the model file it opened."""
    before = sorted(path.name for path in tiny_checkpoints.iterdir())
    with pytest.raises(FaceExplorerError, match="lies inside"):
        session.export_faces(tiny_checkpoints / "face.obj", "both")
    with pytest.raises(FaceExplorerError, match="destroy that input"):
        session.save_preset(model_path)
    assert sorted(path.name for path in tiny_checkpoints.iterdir()) == before
    assert load_model(model_path).n_vertices > 0
