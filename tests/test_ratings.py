"""The study database: durable votes, undo, resume, CSV, refusal of foreign or damaged files,
a session killed with SIGKILL, and two processes voting into one file at the same time."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from core_fixtures import REPO

import main
from app.errors import FaceExplorerError
from app.model.provenance import ModelProvenance
from app.study.database import CSV_COLUMNS, RatingsDatabase
from app.study.definition import StudyDefinition, StudyFace, rater_order
from app.study.session import RatingSession
from app.study.statistics import study_statistics

MODEL = ModelProvenance("test model", "ab" * 32)


def make_study(path: Path, faces_per_condition: int = 3, allow_unsure: bool = True) -> RatingsDatabase:
    """A study with hand-made faces (the database does not need a face model)."""
    definition = StudyDefinition(
        name="test",
        faces_per_condition=faces_per_condition,
        conditions=("uniform-raw", "normal"),
        seed=4,
        allow_unsure=allow_unsure,
    )
    rng = np.random.default_rng(0)
    faces = [
        StudyFace(
            i + 1,
            ("uniform-raw", "normal")[i % 2],
            i // 2,
            f"made #{i}",
            rng.normal(size=199) * 1e5,
            rng.normal(size=29),
        )
        for i in range(definition.face_count)
    ]
    return RatingsDatabase.create(path, definition, faces, MODEL, {"shape": "ab", "expression": "cd"})


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_faces_round_trip_exactly_and_file_is_wal(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "study.db"
    with make_study(path) as database:
        assert len(database.faces()) == 6
        assert database.definition.name == "test" and database.model == MODEL
        assert database.checkpoints == {"shape": "ab", "expression": "cd"}
    with RatingsDatabase.open(path) as database:
        first = database.face(1)
        assert np.array_equal(first.alpha_id, rng.normal(size=199) * 1e5)  # bit-exact through JSON
        assert np.array_equal(first.alpha_exp, rng.normal(size=29))
        with pytest.raises(FaceExplorerError, match="no face with id 7"):
            database.face(7)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert not list(tmp_path.glob(".*part*")), "the temporary file of the atomic write is gone"


def test_votes_undo_and_unique_standing_vote(tmp_path):
    database = make_study(tmp_path / "study.db")
    database.record_vote("ann", 1, "accept", "t0", "t1", 1200, MODEL.digest)
    database.record_vote("ann", 2, "reject", "t2", "t3", 800, MODEL.digest)
    with pytest.raises(FaceExplorerError, match="already voted on face 2"):
        database.record_vote("ann", 2, "accept", "t4", "t5", 10, MODEL.digest)
    with pytest.raises(FaceExplorerError, match="unknown vote 'maybe'"):
        database.record_vote("ann", 3, "maybe", "t4", "t5", 10, MODEL.digest)
    undone = database.undo_last_vote("ann")
    assert (undone.face_id, undone.vote, undone.undone_at is not None) == (2, "reject", True)
    database.record_vote("ann", 2, "accept", "t6", "t7", 300, MODEL.digest)
    standing = database.votes()
    assert [(v.face_id, v.vote, v.decision_ms) for v in standing] == [(1, "accept", 1200), (2, "accept", 300)]
    assert len(database.votes(include_undone=True)) == 3
    vote = standing[0]
    assert (vote.rater, vote.condition, vote.app_version, vote.model_identity) == (
        "ann",
        "uniform-raw",
        "0.1.0",
        MODEL.digest,
    )
    assert vote.study.startswith("test [")
    assert database.undo_last_vote("bob") is None


def test_unsure_is_refused_when_the_study_does_not_allow_it(tmp_path):
    database = make_study(tmp_path / "study.db", allow_unsure=False)
    with pytest.raises(FaceExplorerError, match="does not allow 'unsure'"):
        database.record_vote("ann", 1, "unsure", "t0", "t1", 5, MODEL.digest)


def test_session_order_timing_pause_undo_and_resume(tmp_path):
    path = tmp_path / "study.db"
    database = make_study(path)
    clock = FakeClock()
    session = RatingSession(database, "ann", MODEL, clock=clock)
    order = rater_order(list(range(1, 7)), 4, "ann")
    assert session.order == order and session.current.face_id == order[0] and session.total == 6
    clock.now += 1.5
    session.pause()
    with pytest.raises(FaceExplorerError, match="paused"):
        session.vote("accept")
    clock.now += 100.0  # a long pause is not thinking time
    session.resume()
    clock.now += 0.25
    assert session.vote("accept").face_id == order[1]
    clock.now += 0.5
    session.vote("reject")
    assert [(v.face_id, v.vote, v.decision_ms) for v in database.votes()] == [
        (order[0], "accept", 1750),
        (order[1], "reject", 500),
    ]
    assert session.undo().face_id == order[1]
    assert session.current.face_id == order[1] and session.done == 1
    clock.now += 0.1
    session.vote("unsure")
    database.close()

    # "Crash" and reopen: the same rater continues with the third face of their order.
    reopened = RatingSession(RatingsDatabase.open(path), "ann", MODEL, clock=clock)
    assert reopened.done == 2 and reopened.current.face_id == order[2]
    for _ in range(4):
        reopened.vote("accept")
    assert reopened.finished and reopened.done == 6
    with pytest.raises(FaceExplorerError, match="every face"):
        reopened.vote("accept")
    other = RatingSession(reopened.database, "bob", MODEL)
    assert other.done == 0 and other.current.face_id == rater_order(list(range(1, 7)), 4, "bob")[0]


def test_session_refuses_another_model(tmp_path):
    database = make_study(tmp_path / "study.db")
    with pytest.raises(FaceExplorerError) as excinfo:
        RatingSession(database, "ann", ModelProvenance("/data/BFM.mat", "cd" * 32))
    assert str(excinfo.value) == (
        f"the study {database.path} was made on test model [abababababab], but /data/BFM.mat [cdcdcdcdcdcd] is loaded"
    )


def test_csv_export(tmp_path):
    database = make_study(tmp_path / "study.db")
    database.record_vote("ann", 3, "accept", "t0", "t1", 10, MODEL.digest)
    database.record_vote("ann", 4, "reject", "t2", "t3", 20, MODEL.digest)
    database.undo_last_vote("ann")
    assert database.export_csv(tmp_path / "all.csv") == 2
    assert database.export_csv(tmp_path / "standing.csv", include_undone=False) == 1
    with open(tmp_path / "all.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [(r["face_id"], r["condition"], r["vote"], r["decision_ms"], r["undone_at"] != "") for r in rows] == [
        ("3", "uniform-raw", "accept", "10", False),
        ("4", "normal", "reject", "20", True),
    ]


def test_create_never_overwrites(tmp_path):
    path = tmp_path / "study.db"
    path.write_bytes(b"precious")
    with pytest.raises(FaceExplorerError, match="already exists"):
        make_study(path)
    assert path.read_bytes() == b"precious"


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "it is empty"),
        (b"hello, this is a text file\n" * 20, "not an SQLite file"),
    ],
)
def test_non_databases_are_refused_untouched(tmp_path, content, message):
    path = tmp_path / "study.db"
    path.write_bytes(content)
    with pytest.raises(FaceExplorerError, match=message):
        RatingsDatabase.open(path)
    assert path.read_bytes() == content


def test_missing_file_is_not_created(tmp_path):
    with pytest.raises(FaceExplorerError, match="no such study database"):
        RatingsDatabase.open(tmp_path / "nothing.db")
    assert not (tmp_path / "nothing.db").exists()


def test_foreign_sqlite_file_is_refused_untouched(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE notes (text TEXT)")
        other.execute("INSERT INTO notes VALUES ('mine')")
    other.close()
    before = path.read_bytes()
    with pytest.raises(FaceExplorerError, match="not a Face Manifold Explorer study database"):
        RatingsDatabase.open(path)
    assert path.read_bytes() == before


def test_damaged_study_database_is_refused_untouched(tmp_path):
    path = tmp_path / "study.db"
    make_study(path, faces_per_condition=40).close()
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 4 * page
    data[2 * page : len(data) - page] = b"\xa5" * (len(data) - 3 * page)  # keep the header page, trash the rest
    path.write_bytes(bytes(data))
    with pytest.raises(FaceExplorerError, match="damaged"):
        RatingsDatabase.open(path)
    assert path.read_bytes() == bytes(data)


def tamper(path: Path, sql: str, *parameters: object) -> None:
    """Change a study file behind the database's back, as a bug, a crash or a hand edit could."""
    raw = sqlite3.connect(path)
    try:
        raw.execute(sql, parameters)
        raw.commit()
    finally:
        raw.close()


@pytest.mark.parametrize(
    ("sql", "parameters", "message"),
    [
        (
            "UPDATE faces SET alpha_id = ? WHERE face_id = 3",
            ("[1.0, 2.0",),
            "face 3 has corrupt alpha_id (not a JSON list of numbers)",
        ),
        (
            "UPDATE faces SET alpha_exp = ? WHERE face_id = 2",
            ('["a", "b"]',),
            "face 2 has corrupt alpha_exp (not a JSON list of numbers)",
        ),
        (
            "UPDATE faces SET alpha_exp = ? WHERE face_id = 2",
            ('{"x": 1}',),
            "face 2 has corrupt alpha_exp (not a JSON list of numbers)",
        ),
        (
            "UPDATE faces SET alpha_exp = ? WHERE face_id = 6",
            ("5",),
            "face 6 has corrupt alpha_exp (not a flat list of numbers)",
        ),
        (
            "UPDATE faces SET alpha_id = ? WHERE face_id = 4",
            ("[1.0, NaN]",),
            "face 4 has NaN or infinite values in alpha_id",
        ),
        (
            "UPDATE faces SET alpha_id = ? WHERE face_id = 5",
            (str([0.0] * 198),),
            "face 5 has 198 alpha_id values, the study's other faces have 199",
        ),
        (
            "UPDATE faces SET condition = 'dataset' WHERE face_id = 1",
            (),
            "face 1 has condition 'dataset', which the study does not compare",
        ),
    ],
)
def test_corrupt_face_rows_are_one_error_naming_the_row(tmp_path, capsys, sql, parameters, message):
    path = tmp_path / "study.db"
    make_study(path).close()
    tamper(path, sql, *parameters)
    with RatingsDatabase.open(path) as database, pytest.raises(FaceExplorerError) as excinfo:
        database.faces()
    assert str(excinfo.value) == f"{path}: {message}"
    assert main.main(["rate-report", str(path)]) == 2  # the report says the same, no traceback
    assert capsys.readouterr().err == f"error: {path}: {message}\n"


def test_votes_for_unknown_faces_or_another_condition_are_one_error_naming_the_vote(tmp_path, capsys):
    path = tmp_path / "study.db"
    with make_study(path) as database:
        database.record_vote("ann", 1, "accept", "t0", "t1", 5, MODEL.digest)
        database.record_vote("ann", 2, "reject", "t2", "t3", 5, MODEL.digest)
    tamper(path, "UPDATE votes SET face_id = 99 WHERE vote_id = 2")
    assert main.main(["rate-report", str(path)]) == 2
    assert capsys.readouterr().err == f"error: {path}: vote 2 is for face 99, which the study does not have\n"
    tamper(path, "UPDATE votes SET face_id = 2 WHERE vote_id = 2")
    tamper(path, "UPDATE votes SET condition = 'normal' WHERE vote_id = 1")
    with RatingsDatabase.open(path) as database, pytest.raises(FaceExplorerError) as excinfo:
        database.votes()
    assert str(excinfo.value) == f"{path}: vote 1 files face 1 under 'normal', but the face belongs to 'uniform-raw'"


def test_a_study_from_before_model_digests_still_reports_but_is_never_rated_on_a_guess(tmp_path):
    path = tmp_path / "study.db"
    make_study(path).close()
    tamper(path, "DELETE FROM study WHERE key IN ('model_name', 'model_digest')")
    tamper(path, "INSERT INTO study VALUES ('model_identity', 'embedded:v1')")
    with RatingsDatabase.open(path) as database:
        assert database.model == ModelProvenance("embedded:v1", None)
        assert study_statistics(database).model_identity == "embedded:v1 [no digest]"
        with pytest.raises(FaceExplorerError) as excinfo:
            RatingSession(database, "ann", MODEL)
    assert str(excinfo.value) == (
        f"the study {path} records only the model name 'embedded:v1' (it was made before face models were "
        "identified by their content), so it cannot be checked against test model [abababababab]"
    )


# ---- a full disk ---------------------------------------------------------------------------------------
def test_creating_a_study_on_a_full_disk_says_so_and_leaves_nothing(tmp_path, monkeypatch):
    real_connect = sqlite3.connect

    def connect_with_no_room(*args, **kwargs):
        connection = real_connect(*args, **kwargs)
        connection.execute("PRAGMA max_page_count = 3")  # SQLite's own SQLITE_FULL, as on a full disk
        return connection

    monkeypatch.setattr(sqlite3, "connect", connect_with_no_room)
    path = tmp_path / "study.db"
    with pytest.raises(FaceExplorerError) as excinfo:
        make_study(path, faces_per_condition=20)
    assert str(excinfo.value) == f"{path}: the study could not be written (the disk is full); nothing was created"
    assert list(tmp_path.iterdir()) == []


class NoRoomForSharedMemory:
    """A connection on a full disk: SQLite cannot create the WAL's shared-memory file and says only
    "disk I/O error" (what a real full tmpfs gives, see the next test)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, *parameters: object) -> sqlite3.Cursor:
        if sql.startswith("PRAGMA journal_mode"):
            raise sqlite3.OperationalError("disk I/O error")
        return self._connection.execute(sql, *parameters)

    def close(self) -> None:
        self._connection.close()


def test_an_intact_study_on_a_full_disk_is_not_called_damaged(tmp_path, monkeypatch):
    path = tmp_path / "study.db"
    make_study(path).close()
    before = path.read_bytes()
    real_connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: NoRoomForSharedMemory(real_connect(*a, **k)))
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: SimpleNamespace(free=0))
    with pytest.raises(FaceExplorerError) as excinfo:
        RatingsDatabase.open(path)
    assert str(excinfo.value) == (
        f"{path}: cannot open the study database (the disk is full (disk I/O error)); the file was not changed"
    )
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: SimpleNamespace(free=5 << 30))
    with pytest.raises(FaceExplorerError, match=r"a disk read or write failed \(disk I/O error\)"):
        RatingsDatabase.open(path)
    assert path.read_bytes() == before


def fill(folder: Path) -> None:
    handle = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(handle, b"\0" * 4096)
    except OSError:
        pass  # ENOSPC: the disk is full
    finally:
        os.close(handle)


def test_on_a_really_full_disk_studies_say_disk_full(tmp_path, small_disk, capsys):
    make_study(tmp_path / "study.db").close()
    shutil.copy(tmp_path / "study.db", small_disk / "study.db")
    fill(small_disk)
    assert shutil.disk_usage(small_disk).free == 0
    assert main.main(["rate-report", str(small_disk / "study.db")]) == 2
    error = capsys.readouterr().err
    assert "the disk is full" in error and "damaged" not in error, error
    with pytest.raises(FaceExplorerError, match=r"the study could not be written \(the disk is full\)"):
        make_study(small_disk / "new.db")
    assert not (small_disk / "new.db").exists()


# ---- real processes --------------------------------------------------------------------------------------
VOTER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {repo!r})
    from app.study.database import RatingsDatabase
    from app.model.provenance import ModelProvenance
    from app.study.session import RatingSession

    path, rater, votes, pause_at = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    session = RatingSession(RatingsDatabase.open(path), rater, ModelProvenance("test model", "ab" * 32))
    print("ready", flush=True)
    sys.stdin.readline()  # wait for "go", so that concurrent voters really start together
    for index in range(votes):
        if index == pause_at:  # a barrier: the other voter's votes land between ours, however busy the machine
            print("paused", flush=True)
            sys.stdin.readline()
        session.vote(("accept", "reject", "unsure")[index % 3])
        print("voted", session.done, flush=True)
    print("done", flush=True)
    sys.stdin.readline()  # stay alive, connection open, until killed or told to finish
""")


@contextmanager
def running_voters(
    tmp_path: Path, study: Path, raters: tuple[str, ...], votes: int, pause_at: int = -1
) -> Iterator[list[subprocess.Popen]]:
    """Voter processes, each ready to vote (and to pause before vote ``pause_at``, if given);
    their pipes are closed and they are reaped on exit."""
    script = tmp_path / "voter.py"
    script.write_text(VOTER.format(repo=str(REPO)))
    with ExitStack() as stack:
        processes = [
            stack.enter_context(
                subprocess.Popen(
                    [sys.executable, str(script), str(study), rater, str(votes), str(pause_at)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
            for rater in raters
        ]
        for process in processes:
            stack.callback(lambda p=process: p.poll() is None and p.kill())
            assert process.stdout.readline().strip() == "ready"
        yield processes


def test_session_killed_with_sigkill_keeps_exactly_its_votes(tmp_path):
    study = tmp_path / "study.db"
    make_study(study, faces_per_condition=5).close()
    k = 7
    with running_voters(tmp_path, study, ("ann",), k) as (voter,):
        voter.stdin.write("go\n")
        voter.stdin.flush()
        lines = [voter.stdout.readline().strip() for _ in range(k + 1)]
        assert lines[-1] == "done" and lines[-2] == f"voted {k}"
        assert Path(f"{study}-wal").exists(), "the votes are still in the write-ahead log when the process dies"
        voter.send_signal(signal.SIGKILL)
        assert voter.wait(timeout=30) == -signal.SIGKILL
    with RatingsDatabase.open(study) as database:
        votes = database.votes(include_undone=True)
        assert len(votes) == k
        order = rater_order(list(range(1, 11)), 4, "ann")
        assert [v.face_id for v in votes] == order[:k]
        assert [v.vote for v in votes] == [("accept", "reject", "unsure")[i % 3] for i in range(k)]
        assert RatingSession(database, "ann", MODEL).current.face_id == order[k]


def test_two_processes_voting_at_once_lose_nothing(tmp_path):
    study = tmp_path / "study.db"
    faces = 200
    make_study(study, faces_per_condition=faces // 2).close()
    half = faces // 2
    with running_voters(tmp_path, study, ("ann", "bob"), faces, pause_at=half) as voters:
        for _ in ("first half", "second half"):
            for voter in voters:
                voter.stdin.write("go\n")
                voter.stdin.flush()
            for voter in voters:  # both reach the barrier (or the end) before either goes on
                lines = [voter.stdout.readline().strip() for _ in range(half + 1)]
                assert lines[-1] in ("paused", "done"), lines
        for voter in voters:
            voter.stdin.write("\n")
            voter.stdin.flush()
            assert voter.wait(timeout=60) == 0
    with RatingsDatabase.open(study) as database:
        votes = database.votes(include_undone=True)
        assert len(votes) == 2 * faces
        for rater in ("ann", "bob"):
            own = [v.face_id for v in votes if v.rater == rater]
            assert own == rater_order(list(range(1, faces + 1)), 4, rater)
        # the two writers really interleaved (each vote is its own transaction)
        raters = [v.rater for v in votes]
        assert sum(a != b for a, b in pairwise(raters)) > 1
    os.remove(study)
