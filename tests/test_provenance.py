"""Provenance by content: a model is its digest, its name is for people, and one function decides
whether a recorded model fits the loaded one (presets and datasets here; studies in test_ratings,
checkpoints in test_denoiser)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.dataset.generation import inspect_output, prepare_output
from app.dataset.settings import GenerationSettings, Provenance
from app.errors import FaceExplorerError
from app.explorer.face_preset import apply_preset, load_preset, save_preset
from app.explorer.face_state import FaceState
from app.model.morphable_model import MorphableModel
from app.model.provenance import ModelProvenance, model_mismatch, require_same_model

FIELDS = ("mean", "basis_id", "basis_exp", "ev_id", "ev_exp", "triangles")


def tiny_model(name: str = "tiny", **changes: np.ndarray) -> MorphableModel:
    rng = np.random.default_rng(1)
    arrays = {
        "mean": rng.normal(size=12),
        "basis_id": rng.normal(size=(5, 12)),
        "basis_exp": rng.normal(size=(3, 12)),
        "ev_id": np.array([5.0, 4.0, 3.0, 2.0, 1.0]),
        "ev_exp": np.array([3.0, 2.0, 1.0]),
        "triangles": np.array([[0, 1, 2], [0, 2, 3]]),
    }
    return MorphableModel(name=name, **{**arrays, **changes})


def test_the_digest_follows_the_numbers_not_the_names():
    model = tiny_model()
    assert len(model.digest) == 64 and model.provenance == ModelProvenance("tiny", model.digest)
    assert tiny_model("another name", basis_id=model.basis_id.copy()).digest == model.digest
    renamed_modes = MorphableModel(name="tiny", names_id=["width"], **{f: getattr(model, f) for f in FIELDS})
    assert renamed_modes.digest == model.digest
    changed = {
        "mean": model.mean + np.float32(1e-3),
        "basis_id": np.roll(model.basis_id, 1, axis=0),
        "basis_exp": model.basis_exp * 2,
        "ev_id": model.ev_id * (1 + 1e-12),  # stored as float64: even this is another model
        "ev_exp": model.ev_exp[::-1].copy(),
        "triangles": model.triangles[:, ::-1].copy(),
    }
    digests = {field: tiny_model(**{field: value}).digest for field, value in changed.items()}
    assert len(set(digests.values()) | {model.digest}) == len(FIELDS) + 1, digests


def test_records_round_trip_and_old_files_have_no_digest():
    model = ModelProvenance("embedded face model v3", "0123456789abcdef" * 4)
    assert model.describe() == "embedded face model v3 [0123456789ab]"
    assert ModelProvenance.from_record(model.to_record(), "x") == model
    legacy = ModelProvenance.from_record({"model_identity": "embedded:v1"}, "x")
    assert legacy == ModelProvenance("embedded:v1", None) and legacy.describe() == "embedded:v1 [no digest]"
    assert legacy.to_record() == {"model_identity": "embedded:v1"}  # written back as it was read
    for digest in ("0123", "G" * 64, None, 7):
        with pytest.raises(FaceExplorerError, match=r"f\.json: the recorded face model is damaged"):
            ModelProvenance.from_record({"model_name": "m", "model_digest": digest}, "f.json")


def test_one_function_decides_compatibility():
    loaded = ModelProvenance("BFM.mat", "b" * 64)
    assert model_mismatch(ModelProvenance("copy of BFM.mat", "b" * 64), loaded, "the preset p.json") is None
    cases = {
        ModelProvenance(
            "embedded face model v3", "e" * 64
        ): "the preset p.json was made on embedded face model v3 [eeeeeeeeeeee], but BFM.mat [bbbbbbbbbbbb] is loaded",
        ModelProvenance(
            "BFM.mat", "c" * 64
        ): "the preset p.json was made on BFM.mat [cccccccccccc], but the loaded model of the same name has other "
        "content (BFM.mat [bbbbbbbbbbbb]): the model changed since",
        ModelProvenance(
            "embedded:v1", None
        ): "the preset p.json records only the model name 'embedded:v1' (it was made before face models were "
        "identified by their content), so it cannot be checked against BFM.mat [bbbbbbbbbbbb]",
        ModelProvenance(
            "", None
        ): "the preset p.json does not record which face model it was made on, so it cannot be shown on "
        "BFM.mat [bbbbbbbbbbbb]",
    }
    for recorded, message in cases.items():
        assert model_mismatch(recorded, loaded, "the preset p.json") == message
        with pytest.raises(FaceExplorerError) as excinfo:
            require_same_model(recorded, loaded, "the preset p.json")
        assert str(excinfo.value) == message


def test_a_preset_applies_only_to_the_model_it_was_made_on(tmp_path):
    model = tiny_model()
    state = FaceState(model)
    state.set_face(np.full(5, 1.0), np.full(3, 0.5))
    path = save_preset(tmp_path / "face.json", state)
    assert {key: value for key, value in json.loads(path.read_text()).items() if key.startswith("model")} == {
        "model_name": "tiny",
        "model_digest": model.digest,
    }
    same_numbers = FaceState(tiny_model("tiny, loaded from elsewhere"))
    apply_preset(same_numbers, load_preset(path, 5, 3))
    np.testing.assert_array_equal(same_numbers.alpha_id, np.full(5, 1.0))

    changed = FaceState(tiny_model(mean=model.mean * 2))  # same name, same counts, other faces
    with pytest.raises(FaceExplorerError, match=f"the face preset {path} was made on tiny .*the model changed since"):
        apply_preset(changed, load_preset(path, 5, 3))
    assert not changed.alpha_id.any() and not changed.alpha_exp.any()  # the face did not change

    document = json.loads(path.read_text())
    del document["model_name"], document["model_digest"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps({**document, "model_identity": "embedded:v1"}))
    with pytest.raises(FaceExplorerError, match="records only the model name 'embedded:v1'"):
        apply_preset(FaceState(model), load_preset(old, 5, 3))


def test_resuming_a_dataset_on_another_model_is_one_clear_error(tmp_path: Path):
    settings = GenerationSettings(count=4, shard_size=2)
    made_on = Provenance(ModelProvenance("embedded face model v3", "e" * 64), {"shape": "s", "expression": "x"})
    prepare_output(inspect_output(tmp_path, settings, made_on, resume=False, overwrite=False))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["plan"]["model_name"] == "embedded face model v3" and manifest["plan"]["model_digest"] == "e" * 64
    prepare_output(inspect_output(tmp_path, settings, made_on, resume=True, overwrite=False))  # same model: fine
    other = Provenance(ModelProvenance("embedded face model v3", "f" * 64), made_on.checkpoints)
    with pytest.raises(FaceExplorerError) as excinfo:
        inspect_output(tmp_path, settings, other, resume=True, overwrite=False)
    assert str(excinfo.value) == (
        f"the dataset in {tmp_path} was made on embedded face model v3 [eeeeeeeeeeee], but the loaded model of the "
        "same name has other content (embedded face model v3 [ffffffffffff]): the model changed since"
    )
