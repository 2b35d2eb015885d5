"""Study generation: deterministic faces, conditions as defined, blind per-rater orders."""

from __future__ import annotations

import numpy as np
import pytest

from app.denoising.denoiser import Denoiser
from app.errors import FaceExplorerError
from app.model.embedded_corpus import embedded_corpus
from app.model.embedded_model import embedded_model
from app.model.sampling import sample_coefficients
from app.study.definition import (
    StudyDefinition,
    generate_study_faces,
    normalise_rater_id,
    rater_order,
)

ALL = ("denoised", "uniform-raw", "normal", "dataset")


@pytest.fixture(scope="module")
def model():
    return embedded_model()


@pytest.fixture(scope="module")
def denoiser(model, tiny_checkpoints):
    return Denoiser.from_folder(model, tiny_checkpoints, device="cpu")


@pytest.fixture(scope="module")
def corpus():
    return embedded_corpus(60)


def faces_of(definition, model, denoiser, corpus):
    return generate_study_faces(definition, model, denoiser, corpus)


def by_condition(faces):
    table = {}
    for face in faces:
        table.setdefault(face.condition, {})[face.sample] = face
    return table


def test_generation_is_deterministic_and_seed_dependent(model, denoiser, corpus):
    definition = StudyDefinition(faces_per_condition=3, conditions=ALL, seed=7)
    first, again = faces_of(definition, model, denoiser, corpus), faces_of(definition, model, denoiser, corpus)
    assert [f.face_id for f in first] == list(range(1, 13))
    for a, b in zip(first, again, strict=True):
        assert (a.face_id, a.condition, a.sample, a.source) == (b.face_id, b.condition, b.sample, b.source)
        assert np.array_equal(a.alpha_id, b.alpha_id) and np.array_equal(a.alpha_exp, b.alpha_exp)
    other = faces_of(StudyDefinition(faces_per_condition=3, conditions=ALL, seed=8), model, denoiser, corpus)
    assert not np.allclose(by_condition(first)["normal"][0].alpha_id, by_condition(other)["normal"][0].alpha_id)
    counts = {c: sum(f.condition == c for f in first) for c in ALL}
    assert counts == dict.fromkeys(ALL, 3)


def test_conditions_are_what_they_say(model, denoiser, corpus):
    seed, n = 3, 4
    faces = by_condition(
        faces_of(StudyDefinition(faces_per_condition=n, conditions=ALL, seed=seed), model, denoiser, corpus)
    )
    rng = np.random.default_rng([seed, 1])
    uniform_id = sample_coefficients(model, "shape", "uniform", n, rng, 10.0)
    uniform_exp = sample_coefficients(model, "expression", "uniform", n, rng, 15.0)
    denoised_id, denoised_exp = denoiser.denoise("shape", uniform_id), denoiser.denoise("expression", uniform_exp)
    for k in range(n):
        raw, denoised = faces["uniform-raw"][k], faces["denoised"][k]
        assert np.array_equal(raw.alpha_id, uniform_id[k]) and np.array_equal(raw.alpha_exp, uniform_exp[k])
        # denoised k is the same draw, passed through the networks
        assert np.allclose(denoised.alpha_id, denoised_id[k], rtol=1e-4, atol=1e-4 * np.abs(denoised_id).max())
        assert np.allclose(denoised.alpha_exp, denoised_exp[k], rtol=1e-4, atol=1e-4 * np.abs(denoised_exp).max())
        assert not np.allclose(denoised.alpha_id, raw.alpha_id)
        row = corpus.face_ids.index(faces["dataset"][k].source.split(": ")[-1])
        assert np.array_equal(faces["dataset"][k].alpha_id, corpus.shape[row])
        assert np.array_equal(faces["dataset"][k].alpha_exp, corpus.expression[row])
    # normal draws: mean |α/EV| = 0.80; uniform r = 10 draws: 2.5
    normal_id = np.array([faces["normal"][k].alpha_id for k in range(n)])
    assert np.abs(normal_id / model.ev_id).mean() < 1.2 < 2.0 < np.abs(uniform_id / model.ev_id).mean()


def test_varied_part_and_independent_conditions(model, denoiser, corpus):
    shape_only = faces_of(
        StudyDefinition(faces_per_condition=2, conditions=ALL, varies="shape"), model, denoiser, corpus
    )
    expression_only = faces_of(
        StudyDefinition(faces_per_condition=2, conditions=ALL, varies="expression"), model, denoiser, corpus
    )
    assert all(not f.alpha_exp.any() and f.alpha_id.any() for f in shape_only)
    assert all(not f.alpha_id.any() and f.alpha_exp.any() for f in expression_only)
    both = by_condition(faces_of(StudyDefinition(faces_per_condition=2, conditions=ALL), model, denoiser, corpus))
    assert np.array_equal(by_condition(shape_only)["normal"][1].alpha_id, both["normal"][1].alpha_id)
    # dropping conditions leaves the faces of the others unchanged
    fewer = by_condition(faces_of(StudyDefinition(faces_per_condition=2, conditions=("normal",)), model, None, None))
    assert np.array_equal(fewer["normal"][0].alpha_exp, both["normal"][0].alpha_exp)


def test_missing_networks_or_data_are_clear_errors(model, corpus):
    with pytest.raises(FaceExplorerError, match="denoised"):
        generate_study_faces(StudyDefinition(faces_per_condition=1, conditions=("denoised",)), model)
    with pytest.raises(FaceExplorerError, match="dataset"):
        generate_study_faces(StudyDefinition(faces_per_condition=1, conditions=("dataset",)), model)
    with pytest.raises(FaceExplorerError, match="has 60 faces, the study needs 61"):
        generate_study_faces(StudyDefinition(faces_per_condition=61, conditions=("dataset",)), model, None, corpus)


def test_rater_orders_are_blind_permutations():
    ids = list(range(1, 41))
    alice = rater_order(ids, 5, "alice")
    assert rater_order(ids, 5, "alice") == alice == rater_order(ids, 5, "  alice ")
    bob = rater_order(ids, 5, "bob")
    assert sorted(alice) == sorted(bob) == ids
    assert alice != bob and alice != ids
    assert rater_order(ids, 6, "alice") != alice


def test_definition_json_round_trip_and_bad_files():
    definition = StudyDefinition(
        name="pilot",
        faces_per_condition=5,
        conditions=("normal", "dataset"),
        varies="shape",
        seed=11,
        r_shape=8.0,
        allow_unsure=False,
        view="rotating",
    )
    assert StudyDefinition.from_json(definition.to_json()) == definition
    for text, message in (
        ('{"faces": 3}', "unknown keys faces"),
        ('{"conditions": ["denoised", "fancy"]}', "unknown study condition 'fancy'"),
        ('{"conditions": "normal"}', "'conditions' must be a list"),
        ('{"varies": "hair"}', "'varies' must be one of"),
        ('{"faces_per_condition": 0}', "positive integer"),
        ('{"seed": -1}', "non-negative"),
        ('{"r_exp": "big"}', "r_exp"),
        ("[1, 2]", "top level must be an object"),
        ("{nope", "not valid JSON"),
    ):
        with pytest.raises(FaceExplorerError, match=message):
            StudyDefinition.from_json(text, "study.json")


@pytest.mark.parametrize("bad", ["", "   ", "x" * 65, "tab\there"])
def test_bad_rater_ids(bad):
    with pytest.raises(FaceExplorerError):
        normalise_rater_id(bad)


def test_catch_trials_and_repeated_faces(model, denoiser, corpus):
    definition = StudyDefinition(
        faces_per_condition=4,
        conditions=("denoised", "normal"),
        seed=2,
        catch_trials=3,
        repeated_faces=2,
        varies="expression",
    )
    faces = faces_of(definition, model, denoiser, corpus)
    assert [f.face_id for f in faces] == list(range(1, 4 * 2 + 3 + 2 + 1)) and definition.face_count == 13
    by_id = {f.face_id: f for f in faces}
    catch = [f for f in faces if f.condition == "catch"]
    repeats = [f for f in faces if f.condition == "repeat"]
    assert len(catch) == 3 and len(repeats) == 2
    # catch faces: raw uniform at r = 30 in the varied part, twice the paper's 15 → |α| up to 15·s
    scale = model.ev_exp / model.ev_exp.max()
    assert all(np.abs(f.alpha_exp / scale).max() > 7.5 and not f.alpha_id.any() for f in catch)
    for face in repeats:
        original = by_id[face.repeats]
        assert original.condition in ("denoised", "normal") and face.source == f"repeat of face {original.face_id}"
        assert np.array_equal(face.alpha_exp, original.alpha_exp) and np.array_equal(face.alpha_id, original.alpha_id)
    # the study's own faces are those of the same study without attention checks
    plain = by_condition(
        faces_of(
            StudyDefinition(faces_per_condition=4, conditions=("denoised", "normal"), seed=2, varies="expression"),
            model,
            denoiser,
            corpus,
        )
    )
    assert np.array_equal(by_condition(faces)["normal"][3].alpha_exp, plain["normal"][3].alpha_exp)


def test_repeated_faces_are_shown_far_apart_in_every_order():
    ids = list(range(1, 31))
    repeats = {29: 4, 30: 17}
    for rater in ("ann", "bob", "cy", "dee"):
        order = rater_order(ids, 3, rater, repeats)
        assert sorted(order) == ids
        assert [face for face in order if face not in repeats] == rater_order(list(range(1, 29)), 3, rater)
        for repeat, original in repeats.items():
            assert abs(order.index(repeat) - order.index(original)) >= 28 // 3


def test_conditions_with_their_own_range_or_part(model, denoiser, corpus):
    definition = StudyDefinition(
        faces_per_condition=3,
        seed=1,
        varies="expression",
        conditions=("uniform-raw:r_exp=5", "uniform-raw:r_exp=20", "denoised:varies=shape"),
    )
    faces = by_condition(faces_of(definition, model, denoiser, corpus))
    narrow, wide = faces["uniform-raw:r_exp=5"], faces["uniform-raw:r_exp=20"]
    for k in range(3):  # the same draws, scaled by r
        assert np.allclose(wide[k].alpha_exp, 4 * narrow[k].alpha_exp) and not narrow[k].alpha_id.any()
        assert (
            faces["denoised:varies=shape"][k].alpha_id.any() and not faces["denoised:varies=shape"][k].alpha_exp.any()
        )
    assert narrow[0].source == "uniform r_shape=10 r_exp=5 #0"
    for conditions, message in (
        (["denoised:r_exp=-1"], "the sampling range r_exp must be a number greater than 0"),
        (["normal:r_exp=5"], "only uniform conditions"),
        (["denoised:colour=red"], "'colour=red' is not one of"),
        (["denoised:varies=hair"], "'varies' must be one of"),
        (["denoised", "denoised:r_exp=15"], None),  # the same faces under two labels is allowed, the same label is not
        (["normal", "normal"], "listed twice"),
    ):
        if message is None:
            StudyDefinition(conditions=conditions)
            continue
        with pytest.raises(FaceExplorerError, match=message):
            StudyDefinition(conditions=conditions)


def test_attention_settings_are_checked():
    for values, message in (
        ({"catch_trials": -1}, "catch trials must be a non-negative integer"),
        ({"repeated_faces": 200}, "cannot be more than the study's 100 faces"),
        ({"min_catch_rejected": 0.8}, "needs catch trials"),
        ({"catch_trials": 2, "min_catch_rejected": 1.5}, "share from 0 to 1"),
        (
            {"repeated_faces": 2, "min_repeat_agreement": 0.5, "rater_slots": 0},
            "rater slots must be a positive integer",
        ),
    ):
        with pytest.raises(FaceExplorerError, match=message):
            StudyDefinition(**values)
    definition = StudyDefinition(catch_trials=4, min_catch_rejected=0.75, repeated_faces=3, min_repeat_agreement=0.5)
    assert StudyDefinition.from_json(definition.to_json()) == definition  # the rule travels with the study file
