"""The study's numbers against textbook values and a small study counted by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hand_rated_study import MODEL, hand_rated_study

from app.study.agreement import krippendorff_alpha
from app.study.database import RatingsDatabase, Vote
from app.study.definition import StudyDefinition, StudyFace
from app.study.report import markdown
from app.study.statistics import acceptance_rate, fleiss_kappa, study_statistics, wilson_interval


def test_wilson_interval_by_hand():
    # 5 of 8: centre (p + z²/2n)/(1 + z²/n), half-width z·√(p(1−p)/n + z²/4n²)/(1 + z²/n), z = 1.96
    assert wilson_interval(5, 8) == pytest.approx((0.30574, 0.86316), abs=1e-5)
    assert wilson_interval(5, 5) == pytest.approx((0.56552, 1.0), abs=1e-5)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.27753), abs=1e-5)
    assert all(np.isnan(wilson_interval(0, 0)))


def test_fleiss_kappa_textbook_example():
    # Fleiss (1971) / Wikipedia: 10 subjects, 14 raters, 5 categories → κ = 0.210
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    assert fleiss_kappa(np.array(table)) == pytest.approx(0.20993, abs=1e-5)
    assert fleiss_kappa(np.array([[3, 0], [2, 0]])) is None  # one category only: undefined
    assert fleiss_kappa(np.array([[1, 0], [0, 0]])) is None  # nobody judged a face twice


def test_acceptance_rate_ignores_unsure_votes():
    def votes(*choices: str) -> list[Vote]:
        return [Vote(i, "s", "r", i, "normal", choice, "", "", 1, "", "", None) for i, choice in enumerate(choices)]

    assert acceptance_rate(votes("accept", "reject", "unsure", "accept")) == pytest.approx(2 / 3)
    assert math.isnan(acceptance_rate(votes("unsure")))
    assert math.isnan(acceptance_rate([]))


def test_study_numbers_match_the_hand_computation(tmp_path):
    with hand_rated_study(tmp_path / "hand.db") as study:
        statistics = study_statistics(study)
    raw, normal = statistics.condition("uniform-raw"), statistics.condition("normal")
    everything = statistics.condition("all")

    assert (raw.faces, raw.votes, raw.accepts, raw.rejects, raw.unsure, raw.raters) == (3, 9, 5, 3, 1, 3)
    assert raw.acceptance == pytest.approx(5 / 8)
    assert raw.acceptance_ci == pytest.approx((0.30574, 0.86316), abs=1e-5)
    assert (raw.judged_faces, raw.never_rejected, raw.paper_rule) == (3, 1, pytest.approx(1 / 3))
    # P_i = 1, 1/3, 1 (face 3 has two decisions) → P̄ = 7/9; p = (5/8, 3/8) → P_e = 34/64
    assert raw.kappa == pytest.approx((7 / 9 - 34 / 64) / (1 - 34 / 64))  # = 0.52593

    assert (normal.faces, normal.votes, normal.accepts, normal.rejects, normal.unsure) == (3, 5, 5, 0, 0)
    assert normal.acceptance == 1.0 and normal.acceptance_ci == pytest.approx((0.56552, 1.0), abs=1e-5)
    assert (normal.judged_faces, normal.never_rejected, normal.paper_rule) == (2, 2, 1.0)  # face 6 not judged
    assert normal.kappa is None

    assert (everything.faces, everything.votes, everything.accepts, everything.rejects) == (6, 14, 10, 3)
    assert (everything.judged_faces, everything.never_rejected) == (5, 3)
    # P̄ = (1 + 1/3 + 1 + 1 + 1)/5 = 13/15; p = (10/13, 3/13) → P_e = 109/169; κ = 562/900
    assert everything.kappa == pytest.approx(562 / 900)

    raters = {r.rater: r for r in statistics.raters}
    assert (raters["x"].votes, raters["x"].acceptance, raters["x"].median_decision_ms) == (5, 0.8, 300)
    assert raters["x"].acceptance_by_condition == pytest.approx({"uniform-raw": 2 / 3, "normal": 1.0})
    assert (raters["y"].acceptance, raters["y"].acceptance_by_condition["uniform-raw"]) == (0.6, pytest.approx(1 / 3))
    assert (raters["z"].votes, raters["z"].acceptance, raters["z"].median_decision_ms) == (4, 1.0, 25)

    assert [(f.face_id, f.rejected_by, f.accepted_by) for f in statistics.rejected] == [
        (2, ["y"], ["x", "z"]),
        (3, ["x", "y"], []),
    ]
    assert np.array_equal(statistics.rejected[1].alpha_id, np.full(199, 3.0))


def test_krippendorff_alpha_textbook_example():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", reliability data of 4 observers
    # and 12 units with missing values: nominal alpha = 0.743
    nan = np.nan
    data = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
    assert krippendorff_alpha(np.array(data)) == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha(np.array([[1, 1], [1, nan]])) is None  # one value only: no variation to agree on
    assert krippendorff_alpha(np.array([[1, nan], [nan, 0]])) is None  # no face with two decisions


def test_agreement_curve_and_bootstrap_match_the_hand_computation(tmp_path):
    with hand_rated_study(tmp_path / "hand.db") as study:
        statistics = study_statistics(study, replicates=300)
    raw, normal = statistics.condition("uniform-raw"), statistics.condition("normal")
    # coincidences (accept A, reject R; unsure is no decision): face 1 A,A,A → AA 3; face 2 A,R,A → AA 1, AR 1, RA 1;
    # face 3 R,R → RR 2. n_A = 5, n_R = 3, n = 8: D_o = 2/8, D_e = 2·5·3/(8·7) → alpha = 1 − (1/4)/(30/56) = 16/30
    assert raw.alpha == pytest.approx(16 / 30)
    assert normal.alpha is None  # nobody rejected a normal face
    # rule with 1 rater: x 2/3, y 1/3, z 2/2 (face 3 unsure) → 2/3;
    # with 2: {x,y} 1/3, {x,z} 2/3, {y,z} 1/3 → 4/9; all 3: 1/3
    assert [(p.raters, p.mean, p.subsets) for p in raw.raters_curve] == [
        (1, pytest.approx(2 / 3), 3),
        (2, pytest.approx(4 / 9), 3),
        (3, pytest.approx(1 / 3), 1),
    ]
    # the middle 95 % of {1/3, 2/3, 1} with numpy's linear interpolation: 1/3 + 0.05/3 and 2/3 + 0.95/3
    assert (raw.raters_curve[0].low, raw.raters_curve[0].high) == pytest.approx((0.35, 59 / 60))
    assert normal.paper_rule_bootstrap_ci == (1.0, 1.0)  # every resample has no rejection
    low, high = raw.paper_rule_bootstrap_ci
    assert 0.0 <= low <= raw.paper_rule <= high <= 1.0 and high - low > 0.3
    with hand_rated_study(tmp_path / "again.db") as study:
        assert study_statistics(study, replicates=300).condition("uniform-raw").paper_rule_bootstrap_ci == (low, high)
    # diversity of the shown faces: α_id = 1, 2, 3 in every coefficient → variance 1 each,
    # 199 of them; 29 for expression
    assert raw.diversity == {"shape": pytest.approx(199.0), "expression": pytest.approx(29.0)}
    assert statistics.condition("all").diversity == {}


def attention_study(path):
    """Two normal faces, two catch faces (5, 6) and two repeats (3 repeats 1, 4 repeats 2); rule: reject ≥ 50 %
    of the catch faces and vote the same on ≥ 60 % of the repeated faces."""
    definition = StudyDefinition(
        name="attention",
        faces_per_condition=2,
        conditions=("normal",),
        catch_trials=2,
        repeated_faces=2,
        min_catch_rejected=0.5,
        min_repeat_agreement=0.6,
    )
    faces = [
        StudyFace(1, "normal", 0, "n0", np.zeros(199), np.zeros(29)),
        StudyFace(2, "normal", 1, "n1", np.ones(199), np.ones(29)),
        StudyFace(3, "repeat", 1, "repeat of face 1", np.zeros(199), np.zeros(29)),
        StudyFace(4, "repeat", 2, "repeat of face 2", np.ones(199), np.ones(29)),
        StudyFace(5, "catch", 0, "c0", np.full(199, 9.0), np.full(29, 9.0)),
        StudyFace(6, "catch", 1, "c1", np.full(199, -9.0), np.full(29, -9.0)),
    ]
    database = RatingsDatabase.create(path, definition, faces, MODEL)
    votes = {
        "good": ["accept", "reject", "accept", "reject", "reject", "reject"],
        "lazy": ["accept", "accept", "accept", "accept", "accept", "unsure"],  # rejects 0 of 2 catch faces
        "flip": ["accept", "accept", "reject", "accept", "reject", "accept"],
    }  # 1 of 2 repeats the same
    for rater, choices in votes.items():
        for face_id, choice in enumerate(choices, start=1):
            database.record_vote(rater, face_id, choice, "shown", "voted", 10, MODEL.digest)
    return database


def test_attention_checks_flag_raters_and_everything_is_recomputed_without_them(tmp_path):
    with attention_study(tmp_path / "attention.db") as study:
        assert study.repeats() == {3: 1, 4: 2}
        everyone = study_statistics(study, replicates=50)
        cleaned = study_statistics(study, frozenset(everyone.flagged), replicates=50)
    attention = {entry.rater: entry for entry in everyone.attention}
    assert (attention["good"].catch_rejected, attention["good"].catch_votes, attention["good"].repeat_agreed) == (
        2,
        2,
        2,
    )
    assert attention["lazy"].reasons == ("rejected 0 of 2 catch faces (rule: at least 50 %)",)
    assert attention["flip"].reasons == ("voted the same on 1 of 2 repeated faces (rule: at least 60 %)",)
    assert everyone.flagged == ["flip", "lazy"] and everyone.exclusion_rule == (
        "a rater is excluded who rejects fewer than 50 % of the 2 catch faces or votes the same on fewer than "
        "60 % of the 2 repeated faces"
    )
    # only the two normal faces count: catch and repeated faces measure the raters, not the condition
    normal = everyone.condition("normal")
    assert (normal.faces, normal.votes, normal.accepts, normal.rejects, normal.never_rejected) == (2, 6, 5, 1, 1)
    assert {r.rater: r.votes for r in everyone.raters} == {"flip": 2, "good": 2, "lazy": 2}
    without = cleaned.condition("normal")
    assert (without.votes, without.accepts, without.rejects, without.paper_rule, without.raters) == (2, 1, 1, 0.5, 1)
    assert cleaned.left_out == ["flip", "lazy"] and [r.rater for r in cleaned.raters] == ["good"]
    text = markdown(everyone, without_flagged=cleaned)
    assert "| lazy | 0/2 (0.0 %) | 2/2 (100.0 %) | rejected 0 of 2 catch faces (rule: at least 50 %) |" in text
    assert "## Without the flagged raters (flip, lazy)" in text
