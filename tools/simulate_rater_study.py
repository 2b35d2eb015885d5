"""Pilot the whole rater study with scripted raters: study → packages → rating → merge → report.

    python tools/simulate_rater_study.py [OUTPUT_FOLDER] [--raters 30] [--careless 6] [--strict 4] [--faces 50] [--web]

Makes an expression study that sweeps the networks' range (denoised at r_exp = 5, 10, 15, 20)
beside raw uniform faces at the paper's r = 15 and normal faces, with catch trials, repeated
faces and an exclusion rule; writes one rater package per scripted rater, lets each rater judge
their own package (as on their own computer), merges the packages back and writes the report.
With --web the raters use the web rater instead: rate-package --web, each rater's slot opened
from disk in Chromium (tools/web_rater_browser.py) and judged with the keyboard, the downloaded
votes files merged. Every step is the command a person would run; only the judging is scripted
(``app.study.simulated_raters``). The output folder must not exist yet.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.model.embedded_corpus import embedded_corpus
from app.model.embedded_model import embedded_model
from app.study.database import RatingsDatabase
from app.study.simulated_raters import ScriptedRater, face_oddness, judge, rate_as, scripted_panel
from main import main

CONDITIONS = [
    "denoised:r_exp=5",
    "denoised:r_exp=10",
    "denoised:r_exp=15",
    "denoised:r_exp=20",
    "uniform-raw",
    "normal",
]


def run(command: list[str]) -> None:
    print("$ python main.py " + " ".join(command), flush=True)
    if main(command) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")


def simulate(args: argparse.Namespace) -> None:
    folder = Path(args.output)
    if folder.exists():
        raise SystemExit(f"{folder} already exists; choose a new folder")
    folder.mkdir(parents=True)
    study = folder / "study.db"
    run(
        [
            "rate-study",
            str(study),
            "--name",
            f"simulated range sweep, {args.raters} scripted raters",
            "--faces",
            str(args.faces),
            "--varies",
            "expression",
            "--seed",
            str(args.seed),
            "--no-unsure",
            "--conditions",
            *CONDITIONS,
            "--raters",
            str(args.raters),
            "--catch-trials",
            "10",
            "--repeated-faces",
            "10",
            "--min-catch-rejected",
            "0.8",
            "--min-repeat-agreement",
            "0.7",
        ]
    )
    model = embedded_model()
    with RatingsDatabase.open(study) as opened:
        oddness = face_oddness(model, embedded_corpus(), opened.faces())
    panel = scripted_panel(args.raters, args.careless, args.strict, args.seed)
    if args.web:
        files = rate_in_browser(study, folder, panel, oddness, args.seed)
        run(["rate-merge", str(study), *map(str, files)])
        run(["rate-report", str(study), "--output", str(folder / "report")])
        return
    run(["rate-package", str(study), str(folder / "packages")])
    packages = sorted((folder / "packages").glob("rater-*.db"))
    for index, (rater, package) in enumerate(zip(panel, packages, strict=True)):
        with RatingsDatabase.open(package) as opened:
            votes = rate_as(rater, opened, model.provenance, oddness, np.random.default_rng([args.seed, index]))
        print(f"{package.name}: {rater.name} cast {votes} votes", flush=True)
    run(["rate-merge", str(study), *map(str, packages)])
    run(["rate-report", str(study), "--output", str(folder / "report")])


def rate_in_browser(
    study: Path, folder: Path, panel: list[ScriptedRater], oddness: dict[int, float], seed: int
) -> list[Path]:
    """Each scripted rater judges their slot of the web rater in Chromium; returns the votes files."""
    from app.study.web_ids import opaque_face_ids
    from tools.web_rater_browser import WebRater, chromium

    run(["rate-package", str(study), "--web", str(folder / "web")])
    with RatingsDatabase.open(study) as opened:
        face_of = {name: face_id for face_id, name in opaque_face_ids(opened).items()}
    (folder / "votes").mkdir()
    files = []
    started = time.perf_counter()
    with chromium() as browser:
        for index, rater in enumerate(panel):
            rng = np.random.default_rng([seed, index])
            page = WebRater(browser, folder / "web")
            page.open(f"?rater={index + 1}")
            page.start()
            cast = 0
            while not page.finished:
                face = page.face()
                assert face is not None  # an unfinished page shows a face
                choice, _ = judge(rater, oddness[face_of[face]], rng)  # decision times are the browser's own
                page.press("r" if choice == "reject" else "a")
                cast += 1
            files.append(page.download_votes(folder / "votes"))
            page.close()
            print(f"rater {index + 1} ({rater.name}) cast {cast} votes in Chromium: {files[-1].name}", flush=True)
    print(f"{len(panel)} raters in the browser: {time.perf_counter() - started:.0f} s", flush=True)
    return files


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", nargs="?", default="/tmp/simulated-rater-study", help="folder to create")
    parser.add_argument("--raters", type=int, default=30)
    parser.add_argument("--careless", type=int, default=6)
    parser.add_argument("--strict", type=int, default=4)
    parser.add_argument("--faces", type=int, default=50, help="faces per condition")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--web", action="store_true", help="rate in the web rater (Chromium) instead of packages")
    simulate(parser.parse_args())
