"""The paper's study online, end to end: ``rate-study --paper`` (with catch trials), ``rate-package
--web`` at the default picture size and turntable, one full rater slot judged in Chromium with the
keyboard (an undo and a reload on the way), the votes file downloaded, merged and reported.

Rendering the 1010 faces' 9090 pictures is most of the time (``-s`` prints it): 320 s of the
test's 358 s on the shared 2-core machine at a load average of 8–9, the browser's 1010 votes 35 s.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from app.study.database import RatingsDatabase
from app.study.web_ids import opaque_face_ids
from main import main
from tools.web_rater_browser import WebRater, chromium

pytestmark = pytest.mark.timeout(1800)  # about 6 minutes under load (above); the default is 120 s


def scripted_vote(face_id: int) -> str:
    """Reject one face in five: a rater who misses most catch faces, which the exclusion rule flags."""
    return "reject" if face_id % 5 == 0 else "accept"


KEYS = {"accept": ("a", "ArrowRight"), "reject": ("r", "ArrowLeft")}


def test_a_paper_study_is_rated_end_to_end_in_chromium(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study, web = tmp_path / "study.db", tmp_path / "web"
    checks = ["--catch-trials", "10", "--min-catch-rejected", "0.8"]
    assert main(["rate-study", str(study), "--paper", *checks, "--device", "cpu"]) == 0
    capsys.readouterr()
    started = time.perf_counter()
    assert main(["rate-package", str(study), "--web", str(web), "--device", "cpu"]) == 0
    packaged = capsys.readouterr().out
    with capsys.disabled():  # the numbers the README quotes: rendering time and page weight per 100 faces
        print(f"\nrate-package --web of the paper's study: {time.perf_counter() - started:.0f} s")
        print("\n".join(line for line in packaged.splitlines() if line.startswith(("rendering:", "page weight:"))))
    assert "a web rater for 30 rater slot(s), 1010 faces × 9 pictures" in packaged
    assert len(list((web / "faces").iterdir())) == 1010 * 9
    with RatingsDatabase.open(study) as database:
        face_of = {name: face_id for face_id, name in opaque_face_ids(database).items()}

    started = time.perf_counter()
    with chromium() as browser:
        rater = WebRater(browser, web)
        rater.open("?rater=30")
        rater.start()
        votes = 0
        while not rater.finished:
            if votes == 300:  # an undo: the last face comes back and is judged again
                judged = rater.face()
                rater.press(KEYS[scripted_vote(face_of[judged])][0])
                rater.press("Control+z")
                assert (rater.face(), rater.progress) == (judged, "Face 301 of 1010")
            if votes == 700:  # a reload resumes on the first face without a vote
                on_screen = rater.face()
                rater.reload()
                assert (rater.face(), rater.progress) == (on_screen, "Face 701 of 1010")
            rater.press(KEYS[scripted_vote(face_of[rater.face()])][votes % 2])
            votes += 1
        votes_file = rater.download_votes(tmp_path)
        assert rater.errors == []
        rater.close()
    with capsys.disabled():
        print(f"1010 faces judged in Chromium: {time.perf_counter() - started:.0f} s")
    assert votes == 1010

    assert main(["rate-merge", str(study), str(votes_file)]) == 0
    merged = capsys.readouterr().out
    assert "(slot rater-30): rater-30 +1011 vote(s); 0 already merged before" in merged
    assert "attention checks of rater-30: rejected " in merged and "flagged by the exclusion rule" in merged
    content = json.loads(votes_file.read_text())
    with RatingsDatabase.open(study) as database:
        standing = database.votes()
        faces = database.faces()
    assert {vote.face_id: vote.vote for vote in standing} == {face_id: scripted_vote(face_id) for face_id in faces}
    assert len(content["votes"]) == 1011 and sum(vote["undone_at"] is not None for vote in content["votes"]) == 1

    assert main(["rate-report", str(study), "--output", str(tmp_path / "report")]) == 0
    report = capsys.readouterr().out
    assert "Standing votes, attention checks included: 0 from the desktop rater, 1010 from the web rater" in report
    assert "flagged by the study's exclusion rule" in report and "): rater-30;" in report
