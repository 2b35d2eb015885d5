"""Seeds out of range are one clear error wherever they enter, never an OverflowError."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import main
from app.errors import FaceExplorerError
from app.seeds import MAX_SEED, check_seed
from app.study.definition import StudyDefinition


def test_the_valid_range_is_what_int64_holds() -> None:
    assert check_seed(0) == 0 and check_seed(np.int64(MAX_SEED)) == MAX_SEED
    assert np.int64(MAX_SEED) == MAX_SEED
    for bad in (-1, MAX_SEED + 1, 2**64, 1.5, "3", True, None):
        with pytest.raises(FaceExplorerError, match="must be a non-negative integer below 2\\^63"):
            check_seed(bad)


@pytest.mark.parametrize(
    "command",
    [
        ["generate", "{out}", "--count", "1"],
        ["train", "expression", "--faces", "30", "--output", "{out}/x.pt"],
        ["evaluate", "test-mse", "--output", "{out}"],
        ["rate-study", "{out}/S.db", "--faces", "1", "--conditions", "uniform-raw"],
    ],
)
@pytest.mark.parametrize("seed", [str(2**64), "-1"])
def test_every_seeded_command_refuses_a_seed_out_of_range(
    tmp_path: Path, capsys: pytest.CaptureFixture, command: list[str], seed: str
) -> None:
    status = main.main([part.format(out=tmp_path) for part in command] + ["--seed", seed])
    err = capsys.readouterr().err
    assert status == 2 and err == f"error: --seed must be a non-negative integer below 2^63 (got {seed})\n"
    assert list(tmp_path.iterdir()) == []


def test_a_study_file_with_a_huge_seed_is_refused() -> None:
    with pytest.raises(FaceExplorerError, match="study seed must be a non-negative integer below 2\\^63"):
        StudyDefinition.from_json('{"seed": 18446744073709551616}', "study.json")
