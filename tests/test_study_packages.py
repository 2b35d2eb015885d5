"""Rater packages: export, rating on a package, merge, re-merge, foreign and altered packages,
atomic merges, and a package session killed with SIGKILL."""

from __future__ import annotations

import dataclasses
import signal
import sqlite3

import numpy as np
import pytest
from test_ratings import MODEL, make_study, running_voters, tamper

from app.errors import FaceExplorerError
from app.study.database import RatingsDatabase
from app.study.definition import rater_order
from app.study.fingerprint import study_fingerprint
from app.study.packages import export_packages, merge_package
from app.study.session import RatingSession
from main import main


def vote_through(package_path, rater: str, choices: list[str]) -> list[int]:
    """Cast ``choices`` in ``rater``'s order on a package, as the rater window would; returns the face ids."""
    with RatingsDatabase.open(package_path) as package:
        session = RatingSession(package, rater, MODEL)
        faces = []
        for choice in choices:
            faces.append(session.current.face_id)
            session.vote(choice)
    return faces


def standing(study_path) -> list[tuple[str, int, str]]:
    with RatingsDatabase.open(study_path) as study:
        return sorted((v.rater, v.face_id, v.vote) for v in study.votes())


@pytest.fixture
def study_path(tmp_path):
    path = tmp_path / "study.db"
    make_study(path).close()
    return path


def test_packages_are_self_contained_copies_with_the_studys_fingerprint(study_path, tmp_path):
    with RatingsDatabase.open(study_path) as study:
        written = export_packages(study, tmp_path / "packages", 3)
        fingerprint, faces = study.actual_fingerprint(), study.faces()
    assert [p.name for p in written] == ["rater-01.db", "rater-02.db", "rater-03.db"]
    ids = set()
    for path, slot in zip(written, ("rater-01", "rater-02", "rater-03"), strict=True):
        with RatingsDatabase.open(path) as package:
            assert package.package.slot == slot and package.package.fingerprint == fingerprint
            assert package.package.exported_from == "study.db" and package.definition.name == "test"
            assert package.model == MODEL and package.checkpoints == {"shape": "ab", "expression": "cd"}
            assert package.faces().keys() == faces.keys() and not package.votes()
            ids.add(package.package.package_id)
    assert len(ids) == 3, "every package has its own id"
    with pytest.raises(FaceExplorerError, match="never overwritten"), RatingsDatabase.open(study_path) as study:
        export_packages(study, tmp_path / "packages", 2)
    with RatingsDatabase.open(written[0]) as package, pytest.raises(FaceExplorerError, match="itself a rater package"):
        export_packages(package, tmp_path / "more")


def test_merge_reports_per_rater_and_a_second_merge_adds_only_what_is_new(study_path, tmp_path):
    with RatingsDatabase.open(study_path) as study:
        first, second = export_packages(study, tmp_path / "packages", 2)
    ann_faces = vote_through(first, "ann", ["accept", "reject", "accept"])
    vote_through(first, "cy", ["reject"])  # a second rater on the same computer
    bob_faces = vote_through(second, "bob", ["unsure", "accept"])
    with RatingsDatabase.open(study_path) as study:
        result = merge_package(study, first)
        assert (result.added, result.undone, result.already_merged) == ({"ann": 3, "cy": 1}, {}, 0)
        assert merge_package(study, second).added == {"bob": 2}
        again = merge_package(study, first)
        assert (again.added, again.undone, again.already_merged) == ({}, {}, 4)
    merged = standing(study_path)
    assert len(merged) == 6
    assert [(r, f, v) for r, f, v in merged if r == "ann"] == sorted(
        zip(["ann"] * 3, ann_faces, ["accept", "reject", "accept"], strict=True)
    )
    assert {(f, v) for r, f, v in merged if r == "bob"} == {(bob_faces[0], "unsure"), (bob_faces[1], "accept")}

    # ann goes on: takes her last vote back, votes twice more; only that comes in
    with RatingsDatabase.open(first) as package:
        session = RatingSession(package, "ann", MODEL)
        assert session.undo().face_id == ann_faces[2]
        session.vote("reject")
        session.vote("accept")
    with RatingsDatabase.open(study_path) as study:
        result = merge_package(study, first)
        assert (result.added, result.undone, result.already_merged) == ({"ann": 2}, {"ann": 1}, 3)
        votes = study.votes(rater="ann")
        assert [v.face_id for v in votes] == rater_order(list(study.faces()), 4, "ann")[:4]
        assert [v.vote for v in votes] == ["accept", "reject", "reject", "accept"]
        assert len(study.votes(include_undone=True)) == 8
        # the merged votes keep what the package recorded
        with RatingsDatabase.open(first) as package:
            original = package.votes(rater="ann")[0]
        assert (votes[0].shown_at, votes[0].voted_at, votes[0].decision_ms) == (
            original.shown_at,
            original.voted_at,
            original.decision_ms,
        )


def test_a_package_of_another_study_is_refused_and_nothing_changes(study_path, tmp_path):
    with RatingsDatabase.open(study_path) as study:
        definition, faces = study.definition, list(study.faces().values())
    other_path = tmp_path / "other.db"
    # the very same faces, but another study (one more rater slot planned): its package does not belong here
    with RatingsDatabase.create(other_path, dataclasses.replace(definition, rater_slots=2), faces, MODEL) as other:
        (foreign,) = export_packages(other, tmp_path / "foreign", 1)
    vote_through(foreign, "ann", ["accept", "accept"])
    with RatingsDatabase.open(study_path) as study, pytest.raises(FaceExplorerError) as excinfo:
        merge_package(study, foreign)
    assert "a package of another study ('test' from other.db" in str(excinfo.value)
    assert str(excinfo.value).endswith("nothing was merged")
    assert standing(study_path) == []


def test_a_package_altered_after_export_is_refused(study_path, tmp_path):
    with RatingsDatabase.open(study_path) as study:
        (package,) = export_packages(study, tmp_path / "packages", 1)
        altered = dict(study.faces())
        definition = study.definition
    vote_through(package, "ann", ["accept"])
    tamper(package, "UPDATE faces SET alpha_exp = ? WHERE face_id = 2", str([0.5] * 29))
    with RatingsDatabase.open(study_path) as study, pytest.raises(FaceExplorerError) as excinfo:
        merge_package(study, package)
    assert str(excinfo.value) == (
        f"{package}: the faces were altered after the package was exported (they no longer match "
        "the study's fingerprint); its votes cannot be trusted or merged"
    )
    with RatingsDatabase.open(package) as opened, pytest.raises(FaceExplorerError, match="altered"):
        RatingSession(opened, "bob", MODEL)  # nobody rates an altered package either
    # rewriting the recorded fingerprints to match does not help: it is then no package of this study
    altered[2] = dataclasses.replace(altered[2], alpha_exp=np.full(29, 0.5))
    tamper(
        package,
        "UPDATE study SET value = ? WHERE key IN ('fingerprint', 'package_fingerprint')",
        study_fingerprint(definition, altered.values()),
    )
    with (
        RatingsDatabase.open(study_path) as study,
        pytest.raises(FaceExplorerError, match="a package of another study"),
    ):
        merge_package(study, package)
    assert standing(study_path) == []


def test_a_merge_is_all_of_a_package_or_nothing(study_path, tmp_path):
    with RatingsDatabase.open(study_path) as study:
        first, second = export_packages(study, tmp_path / "packages", 2)
    order = rater_order(list(range(1, 7)), 4, "ann")
    vote_through(first, "ann", ["accept"] * 2)
    vote_through(second, "bob", ["accept"] * 3)
    vote_through(second, "ann", ["reject"] * 3)  # the same rater ID on another computer: same faces again
    with RatingsDatabase.open(study_path) as study:
        merge_package(study, first)
        with pytest.raises(FaceExplorerError, match=r"already has a standing vote.*nothing was merged"):
            merge_package(study, second)  # bob's three votes came first and are rolled back too
    assert standing(study_path) == sorted([("ann", order[0], "accept"), ("ann", order[1], "accept")])
    with sqlite3.connect(study_path) as raw:
        assert raw.execute("SELECT count(*) FROM merged_votes").fetchone() == (2,)
        assert raw.execute("SELECT slot FROM merges").fetchall() == [("rater-01",)]


def test_studies_and_packages_are_not_mixed_up(study_path, tmp_path):
    with RatingsDatabase.open(study_path) as study:
        (package,) = export_packages(study, tmp_path / "packages", 1)
        with pytest.raises(FaceExplorerError, match="is the study itself"):
            merge_package(study, study_path)
        copy = tmp_path / "copy.db"
        make_study(copy).close()
        with pytest.raises(FaceExplorerError, match="not a rater package"):
            merge_package(study, copy)
    with (
        RatingsDatabase.open(package) as opened,
        pytest.raises(FaceExplorerError, match="is a rater package, not a study"),
    ):
        merge_package(opened, package)


def test_a_package_session_killed_with_sigkill_keeps_its_votes_for_the_merge(study_path, tmp_path):
    with RatingsDatabase.open(study_path) as study:
        (package,) = export_packages(study, tmp_path / "packages", 1)
    k = 4
    with running_voters(tmp_path, package, ("ann",), k) as (voter,):
        voter.stdin.write("go\n")
        voter.stdin.flush()
        lines = [voter.stdout.readline().strip() for _ in range(k + 1)]
        assert lines[-2:] == [f"voted {k}", "done"]
        voter.send_signal(signal.SIGKILL)
        assert voter.wait(timeout=30) == -signal.SIGKILL
    with RatingsDatabase.open(study_path) as study:
        assert merge_package(study, package).added == {"ann": k}
        votes = study.votes()
    assert [v.face_id for v in votes] == rater_order(list(range(1, 7)), 4, "ann")[:k]
    assert [v.vote for v in votes] == [("accept", "reject", "unsure")[i % 3] for i in range(k)]


def test_cli_package_and_merge(study_path, tmp_path, capsys):
    folder = tmp_path / "out"
    assert main(["rate-package", str(study_path), str(folder), "--raters", "2"]) == 0
    assert "wrote 2 rater package(s)" in capsys.readouterr().out
    vote_through(folder / "rater-02.db", "bob", ["accept", "reject"])
    arguments = ["rate-merge", str(study_path), str(folder / "rater-01.db"), str(folder / "rater-02.db")]
    assert main(arguments) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{folder / 'rater-01.db'} (slot rater-01): nothing new; 0 already merged before",
        f"{folder / 'rater-02.db'} (slot rater-02): bob +2 vote(s); 0 already merged before",
    ]
    assert main(arguments) == 0
    assert capsys.readouterr().out.splitlines()[1].endswith("nothing new; 2 already merged before")
    (tmp_path / "junk.db").write_text("not a package")
    assert main(["rate-merge", str(study_path), str(tmp_path / "junk.db")]) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'junk.db'}: not a study database")
    assert main(["rate-package", str(study_path), str(folder)]) == 2  # rater-01.db exists
    assert "never overwritten" in capsys.readouterr().err
