"""The study's numbers against textbook values and a small study counted by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.study.database import Vote
from app.study.statistics import acceptance_rate, fleiss_kappa, study_statistics, wilson_interval
from hand_rated_study import hand_rated_study


def test_wilson_interval_by_hand():
    # 5 of 8: centre (p + z²/2n)/(1 + z²/n), half-width z·√(p(1−p)/n + z²/4n²)/(1 + z²/n), z = 1.96
    assert wilson_interval(5, 8) == pytest.approx((0.30574, 0.86316), abs=1e-5)
    assert wilson_interval(5, 5) == pytest.approx((0.56552, 1.0), abs=1e-5)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.27753), abs=1e-5)
    assert all(np.isnan(wilson_interval(0, 0)))


def test_fleiss_kappa_textbook_example():
    # Fleiss (1971) / Wikipedia: 10 subjects, 14 raters, 5 categories → κ = 0.210
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
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
        (2, ["y"], ["x", "z"]), (3, ["x", "y"], [])]
    assert np.array_equal(statistics.rejected[1].alpha_id, np.full(199, 3.0))
