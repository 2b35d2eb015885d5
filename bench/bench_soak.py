"""A long soak of the explorer. Run: xvfb-run -a .venv/bin/python bench/bench_soak.py [--actions 200000]

The same ordinary actions as tests/test_soak.py (slider keys, typed and refused values,
sampling, resets, view buttons, heat map, denoised toggle) through one real window, with Qt
processing events after every ``--process-every`` actions. After the warm-up and then at every
report it prints the actions done, actions per second, frames drawn, the growth of resident
memory and the drift of the None/True/False reference counts since the warm-up. Uses the
shipped checkpoints when present, otherwise tiny ones trained in a temporary folder.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench_gui import open_explorer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from soak_actions import SoakDriver, resident_bytes, singleton_references  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=200_000)
    parser.add_argument("--warm-up", type=int, default=3_000)
    parser.add_argument(
        "--process-every", type=int, default=50, help="actions between two rounds of Qt event processing"
    )
    parser.add_argument("--report-every", type=int, default=25_000)
    parser.add_argument("--size", default="1200x750", help="window size WxH")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as temp:
        window = open_explorer(app, Path(temp), args.size, args.device)
        driver = SoakDriver(window, args.seed)
        start = time.perf_counter()
        driver.run(args.warm_up, args.process_every)
        print(
            f"soak: {window.workspace.describe_model()}, window {args.size}, "
            f"{'software' if window.views.software_gl else 'hardware'} GL, "
            f"Qt events every {args.process_every} actions; "
            f"warm-up of {args.warm_up:,} actions took {time.perf_counter() - start:.1f} s"
        )
        gc.collect()
        rss, references, frames = resident_bytes(), singleton_references(), window.views.frames
        start, done = time.perf_counter(), 0
        while done < args.actions:
            batch = min(args.report_every, args.actions - done)
            driver.run(batch, args.process_every)
            done += batch
            gc.collect()
            elapsed = time.perf_counter() - start
            drift = {name: count - references[name] for name, count in singleton_references().items()}
            print(
                f"{done:>9,} actions  {done / elapsed:7.0f} actions/s  frames {window.views.frames - frames:>6,}  "
                f"RSS {(resident_bytes() - rss) / 2**20:+7.1f} MB  reference drift "
                + "  ".join(f"{name} {change:+d}" for name, change in drift.items()),
                flush=True,
            )
        print(
            "actions performed: " + ", ".join(f"{name} {count:,}" for name, count in sorted(driver.performed.items()))
        )
        if window.error_box is not None:
            print(f"an error dialog opened: {window.last_error}")
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
