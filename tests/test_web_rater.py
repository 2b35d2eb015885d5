"""The web rater (rate-package --web) in Debian's Chromium, opened from disk: keyboard, undo,
reload, pause, download; the votes file through rate-merge and rate-report against the same votes
cast through the desktop rater's session; refused files; no hint of a face's condition in the
folder; the pictures are the rater window's views; the layout on a laptop and a tablet screen."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from core_fixtures import REPO
from PIL import Image

from app.errors import FaceExplorerError
from app.model.embedded_model import embedded_model
from app.study.database import RatingsDatabase
from app.study.definition import rater_order
from app.study.session import RatingSession
from app.study.web_ids import opaque_face_ids
from app.study.web_package import ASSETS
from app.study.web_votes import merge_web_votes, read_web_votes
from main import main
from tools.web_rater_browser import LAPTOP, TABLET, WebRater, chromium

KEYS = {"accept": ("a", "ArrowRight"), "reject": ("r", "ArrowLeft"), "unsure": ("u", "ArrowDown")}


def scripted_vote(face_id: int) -> str:
    return ("accept", "reject", "unsure")[face_id % 3]


@pytest.fixture(scope="module")
def web_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small study (2 conditions × 3 faces, 2 catch trials, 2 repeated faces, 2 slots) and its web folder."""
    folder = tmp_path_factory.mktemp("web-study")
    study = folder / "study.db"
    common = ["--device", "cpu"]
    assert (
        main(
            [
                "rate-study",
                str(study),
                "--faces",
                "3",
                "--conditions",
                "normal",
                "uniform-raw",
                "--raters",
                "2",
                "--catch-trials",
                "2",
                "--repeated-faces",
                "2",
                "--min-catch-rejected",
                "0.5",
                "--seed",
                "5",
                *common,
            ]
        )
        == 0
    )
    web = folder / "web"
    link = ["--completion-url", "https://example.org/done?cc={code}&who={slot}"]
    options = ["--image-size", "128", "--turntable", "3", *link, *common]
    assert main(["rate-package", str(study), "--web", str(web), *options]) == 0
    return study, web


@pytest.fixture(scope="module")
def browser():
    with chromium() as opened:
        yield opened


def faces_by_name(study: Path) -> dict[str, int]:
    with RatingsDatabase.open(study) as database:
        return {name: face_id for face_id, name in opaque_face_ids(database).items()}


def rate_all(rater: WebRater, face_of: dict[str, int]) -> None:
    """Judge every remaining face with the script's vote, letters and arrows in turn."""
    turn = 0
    while not rater.finished:
        rater.press(KEYS[scripted_vote(face_of[rater.face()])][turn % 2])
        turn += 1


def test_the_folder_hides_every_condition_and_gives_each_slot_its_desktop_order(web_study):
    study, web = web_study
    with RatingsDatabase.open(study) as database:
        faces, names, definition, repeats = (
            database.faces(),
            opaque_face_ids(database),
            database.definition,
            database.repeats(),
        )
    assert sorted(path.name for path in web.iterdir()) == sorted([*ASSETS, "study.js", "faces"])
    for asset in ASSETS:  # the page's code is the same for every study: it carries no study data
        assert (web / asset).read_bytes() == (REPO / "app/study/web" / asset).read_bytes()
    per_study = ((web / "study.js").read_text() + " ".join(path.name for path in web.rglob("*"))).lower()
    secrets = {"catch", "repeat", "normal", "uniform", "denoised", "dataset", *definition.conditions}
    secrets |= {face.source.lower() for face in faces.values()}
    assert not [word for word in secrets if word in per_study]
    data = json.loads((web / "study.js").read_text().removeprefix("window.FACE_STUDY = ").rstrip(";\n"))
    assert data["slots"] == ["rater-01", "rater-02"] and data["face_count"] == len(faces) == 10
    for slot, order in zip(data["slots"], data["orders"], strict=True):
        expected = rater_order(list(faces), definition.seed, slot, repeats)
        assert [data["faces"][index] for index in order] == [names[face_id] for face_id in expected]
    assert sorted(path.name for path in (web / "faces").iterdir()) == sorted(
        f"{name}-{angle}.webp" for name in names.values() for angle in range(3)
    )
    for repeat, original in repeats.items():  # a second showing is not a byte copy of the first
        assert (web / "faces" / f"{names[repeat]}-1.webp").read_bytes() != (
            web / "faces" / f"{names[original]}-1.webp"
        ).read_bytes()


def test_the_pictures_are_the_rater_windows_front_and_side_views(web_study):
    import pyvista

    from app.rendering.face_mesh import FaceMesh
    from app.rendering.look import BACKGROUND, LIGHTING, add_face, framing_bounds, look_at_bounds

    study, web = web_study
    model = embedded_model()
    with RatingsDatabase.open(study) as database:
        face = database.face(1)
        name = opaque_face_ids(database)[1]
    plotter = pyvista.Plotter(off_screen=True, window_size=[128, 128], lighting=LIGHTING)
    try:
        plotter.set_background(BACKGROUND)
        mesh = FaceMesh(model.triangles, model.mean.reshape(-1, 3))
        add_face(plotter, mesh, model.triangle_parts)
        mesh.update(model.synthesize(face.alpha_id, face.alpha_exp))
        window = {}
        for yaw in (0.0, 90.0):  # the rater window's F and S
            look_at_bounds(plotter.renderer, framing_bounds(model.mean.reshape(-1, 3)), yaw)
            plotter.render()
            window[yaw] = plotter.screenshot(return_img=True)[..., :3].astype(float)
    finally:
        plotter.close()
    front, side = (np.asarray(Image.open(web / "faces" / f"{name}-{k}.webp"), dtype=float) for k in (1, 2))
    background = np.array(BACKGROUND) * 255

    def difference(picture: np.ndarray, view: np.ndarray) -> float:  # mean over pixels either face covers
        face = (np.abs(picture - background).max(axis=-1) > 12) | (np.abs(view - background).max(axis=-1) > 12)
        return float(np.abs(picture - view)[face].mean())

    assert difference(front, window[0.0]) < 12 and difference(side, window[90.0]) < 12  # WebP's loss (7 and 6)
    assert min(difference(front, window[90.0]), difference(side, window[0.0])) > 30  # another view: 47


def test_rating_in_chromium_with_undo_and_reload_merges_and_reports_like_the_desktop_rater(
    web_study, browser, tmp_path, capsys
):
    source, web = web_study
    study, desktop = tmp_path / "study.db", tmp_path / "desktop.db"
    shutil.copy(source, study)
    shutil.copy(source, desktop)
    face_of = faces_by_name(study)
    rater = WebRater(browser, web)
    rater.open("?rater=1")
    assert rater.page.is_visible("#start-button") and "10 faces" in rater.page.text_content("#how-to")
    rater.start()
    assert rater.progress == "Face 1 of 10"
    first = rater.face()
    rater.press("a")
    assert rater.progress == "Face 2 of 10"
    rater.press("Control+z")  # undo: the same face again
    assert (rater.face(), rater.progress) == (first, "Face 1 of 10")
    for turn in range(4):
        rater.press(KEYS[scripted_vote(face_of[rater.face()])][turn % 2])
    rater.press("Backspace")  # the other undo key
    assert rater.progress == "Face 4 of 10"
    on_screen = rater.face()
    rater.reload()  # a reload resumes on the face that has no vote yet
    assert (rater.face(), rater.progress) == (on_screen, "Face 4 of 10")
    rater.page.keyboard.press("Control+r")  # the browser's shortcut is not a reject
    assert (rater.face(), rater.progress) == (on_screen, "Face 4 of 10")
    rater.press("ArrowLeft")
    rater.reopen("?rater=1")  # a closed tab too
    assert rater.progress == "Face 5 of 10"
    rate_all(rater, face_of)
    votes_file = rater.download_votes(tmp_path)
    checksum = json.loads(votes_file.read_text())["checksum"]
    code = f"{checksum[:4]}-{checksum[4:8]}".upper()
    assert rater.page.text_content("#completion-code") == code
    assert rater.page.get_attribute("#completion-link", "href") == f"https://example.org/done?cc={code}&who=rater-01"
    assert rater.errors == []
    rater.close()

    assert main(["rate-merge", str(study), str(votes_file)]) == 0
    assert "(slot rater-01): rater-01 +12 vote(s); 0 already merged before" in capsys.readouterr().out
    assert main(["rate-merge", str(study), str(votes_file)]) == 0
    assert "nothing new; 12 already merged before" in capsys.readouterr().out

    # The same votes, decision times and undos through the desktop rater's session.
    content = json.loads(votes_file.read_text())
    clock = Clock()
    with RatingsDatabase.open(desktop) as database:
        session = RatingSession(database, "rater-01", database.model, clock=clock)
        for vote in content["votes"]:
            assert session.current.face_id == face_of[vote["face"]]  # the web page showed the desktop order
            clock.now += vote["decision_ms"] / 1000
            session.vote(vote["vote"])
            if vote["undone_at"] is not None:
                session.undo()
        assert session.finished

    reports = []
    for path in (study, desktop):
        assert main(["rate-report", str(path), "--output", str(tmp_path / f"{path.stem}-report")]) == 0
        reports.append([line for line in capsys.readouterr().out.splitlines() if not line.startswith("wrote")])
    web_report, desktop_report = ([line for line in report if "Standing votes" not in line] for report in reports)
    assert web_report == desktop_report
    assert "Standing votes, attention checks included: 0 from the desktop rater, 10 from the web rater" in "\n".join(
        reports[0]
    )
    assert "10 from the desktop rater, 0 from the web rater" in "\n".join(reports[1])


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def downloaded(web_study, browser, tmp_path_factory) -> Path:
    """A complete votes file of slot 2, cast in Chromium."""
    study, web = web_study
    rater = WebRater(browser, web)
    rater.open("?rater=2")
    rater.start()
    rate_all(rater, faces_by_name(study))
    path = rater.download_votes(tmp_path_factory.mktemp("downloaded"))
    rater.close()
    return path


def test_foreign_edited_and_truncated_votes_files_are_refused_with_one_line(web_study, downloaded, tmp_path, capsys):
    source, _ = web_study
    study = tmp_path / "study.db"
    shutil.copy(source, study)
    text = downloaded.read_text()
    edited = text.replace('"vote": "reject"', '"vote": "accept"', 1)
    assert edited != text
    cases = {
        "edited.json": (edited, "its checksum does not match"),
        "truncated.json": (text[: len(text) // 2], "not complete JSON"),
        "no-checksum.json": (json.dumps({k: v for k, v in json.loads(text).items() if k != "checksum"}), "checksum"),
    }
    other = tmp_path / "other.db"
    assert main(["rate-study", str(other), "--faces", "3", "--conditions", "normal", "uniform-raw", "--seed", "6"]) == 0
    capsys.readouterr()
    for name, (content, message) in cases.items():
        (tmp_path / name).write_text(content)
        assert main(["rate-merge", str(study), str(tmp_path / name)]) == 2
        error = capsys.readouterr().err
        assert message in error and error.count("\n") == 1
    assert main(["rate-merge", str(other), str(downloaded)]) == 2
    assert "votes of another study" in capsys.readouterr().err
    with RatingsDatabase.open(study) as database:
        assert database.votes(include_undone=True) == []
        package, votes = read_web_votes(database, downloaded)
        assert package.slot == "rater-02" and len(votes) == 10 and {v.rater for v in votes} == {"rater-02"}
        assert merge_web_votes(database, downloaded).added == {"rater-02": 10}
        assert merge_web_votes(database, downloaded).already_merged == 10
        with pytest.raises(FaceExplorerError, match="not a rater package or a web votes file"):
            (tmp_path / "list.json").write_text("[1, 2]")
            merge_web_votes(database, tmp_path / "list.json")


def test_a_held_key_casts_one_vote_and_a_pause_hides_the_face(web_study, browser):
    _, web = web_study
    rater = WebRater(browser, web)
    page = rater.open("?rater=1")
    rater.start()
    page.keyboard.down("a")
    rater.wait_for_face()
    page.wait_for_function("Number(document.getElementById('stage').dataset.shown) === 2")
    page.keyboard.down("a")  # the key is still held: the browser repeats it
    page.keyboard.up("a")
    assert rater.progress == "Face 2 of 10"
    page.keyboard.press("p")
    assert page.evaluate("document.getElementById('stage').classList.contains('paused')")
    page.keyboard.press("r")  # no vote while paused
    page.keyboard.press("p")
    assert rater.progress == "Face 2 of 10" and not page.is_visible("#paused-note")
    stored = page.evaluate("JSON.stringify(Object.entries(localStorage))")
    assert sum(len(json.loads(value)["votes"]) for _, value in json.loads(stored)) == 1
    rater.close()


def test_without_a_rater_in_the_link_the_start_page_asks_for_the_number(web_study, browser):
    _, web = web_study
    rater = WebRater(browser, web)
    page = rater.open()
    page.fill("#slot-field", "9")
    page.keyboard.press("Enter")
    assert "from 1 to 2" in page.text_content("#start-problem")
    page.fill("#slot-field", "2")
    rater.start()
    assert rater.progress == "Face 1 of 10" and page.url.endswith("?rater=2")
    rater.close()


@pytest.mark.parametrize("viewport", [LAPTOP, TABLET], ids=["laptop-1366x768", "tablet-820x1180"])
def test_the_face_and_every_vote_button_fit_the_screen(web_study, browser, viewport, tmp_path):
    _, web = web_study
    rater = WebRater(browser, web, viewport)
    page = rater.open("?rater=2")
    rater.start()
    page.screenshot(path=tmp_path / "rating.png")
    width, height = viewport
    picture = page.locator("#face").bounding_box()
    assert picture["height"] > 0.5 * min(width, height - 200)
    for button in ("#reject-button", "#unsure-button", "#accept-button", "#undo-button", "#pause-button"):
        box = page.locator(button).bounding_box()
        assert box["y"] >= picture["y"] + picture["height"] - 1 and box["y"] + box["height"] <= height
        assert box["x"] >= 0 and box["x"] + box["width"] <= width and box["height"] >= 30
    assert math.isclose(page.evaluate("document.documentElement.scrollHeight"), height)
    rater.close()


def test_rate_package_refuses_mixed_or_bad_web_options(web_study, tmp_path, capsys):
    study, web = web_study
    cases = [
        ([str(study)], "either a folder for package files or --web FOLDER"),
        ([str(study), str(tmp_path / "p"), "--web", str(tmp_path / "w")], "not both"),
        ([str(study), str(tmp_path / "p"), "--turntable", "3"], "--turntable is an option of --web"),
        ([str(study), "--web", str(tmp_path / "w"), "--turntable", "4"], "an odd number of pictures"),
        ([str(study), "--web", str(tmp_path / "w"), "--completion-url", "javascript:alert(1)"], "https://"),
        ([str(study), "--web", str(web)], "never overwritten"),
    ]
    for arguments, message in cases:
        assert main(["rate-package", *arguments, "--device", "cpu"]) == 2
        error = capsys.readouterr().err
        assert message in error and error.count("\n") == 1
    assert not (tmp_path / "w").exists() and not (tmp_path / "p").exists()


def test_the_votes_file_leaves_attention_checks_to_rate_merge_which_flags_a_rater_who_fails_them(
    web_study, browser, tmp_path, capsys
):
    source, web = web_study
    study = tmp_path / "study.db"
    shutil.copy(source, study)
    files = []
    for slot, key in ((1, "r"), (2, "a")):  # rater 1 rejects every face, rater 2 accepts every face
        rater = WebRater(browser, web)
        rater.open(f"?rater={slot}")
        rater.start()
        while not rater.finished:
            rater.press(key)
        files.append(rater.download_votes(tmp_path))
        rater.close()
    content = json.loads(files[1].read_text())
    assert "not scored in the browser" in content["attention_checks"]
    with RatingsDatabase.open(study) as database:
        faces = database.faces()
    face_names = " ".join(vote["face"] for vote in content["votes"])  # opaque names only: no face id, no condition
    assert not {face.condition for face in faces.values()} & set(face_names.split())

    assert main(["rate-merge", str(study), *map(str, files)]) == 0
    merged = capsys.readouterr().out
    assert (
        "attention checks of rater-01: rejected 2 of 2 catch faces, voted the same on 2 of 2 repeated faces; "
        "not flagged" in merged
    )
    assert (
        "attention checks of rater-02: rejected 0 of 2 catch faces, voted the same on 2 of 2 repeated faces; "
        "flagged by the exclusion rule: rejected 0 of 2 catch faces (rule: at least 50 %)" in merged
    )
    assert main(["rate-report", str(study), "--output", str(tmp_path / "report")]) == 0
    report = capsys.readouterr().out
    assert "| rater-02 | 0/2 (0.0 %) | 2/2 (100.0 %) | rejected 0 of 2 catch faces (rule: at least 50 %) |" in report
    assert "flagged by the study's exclusion rule (" in report and "): rater-02;" in report
