"""The web rater's pictures drawn by worker processes are the pictures drawn in one process."""

from __future__ import annotations

import numpy as np

from app.model.embedded_model import embedded_model
from app.study.web_pictures import TurntableFace, picture_name, write_turntables


def test_worker_processes_write_the_same_pictures_as_one_process(tmp_path):
    model = embedded_model()
    rng = np.random.default_rng(3)
    faces = [
        TurntableFace(f"face{index}", 80 - index % 2, rng.normal(size=model.n_id), rng.normal(size=model.n_exp))
        for index in range(5)
    ]
    written = {}
    for workers in (1, 2):
        folder = tmp_path / f"workers-{workers}"
        folder.mkdir()
        lines: list[str] = []
        result = write_turntables(model, faces, [-90.0, 0.0, 90.0], 64, folder, workers, 2, lines.append)
        assert result.workers == workers and lines[-1].startswith("rendered 5/5 faces (")
        assert lines[-1].endswith(f"{workers} process(es))")
        assert result.bytes == sum(path.stat().st_size for path in folder.iterdir())
        written[workers] = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert sorted(written[1]) == sorted(picture_name(f"face{index}", k) for index in range(5) for k in range(3))
    assert written[1] == written[2]
