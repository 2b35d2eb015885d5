"""read_npz: every .npz the product reads; a file that is not one gets one true, safe message."""

from __future__ import annotations

import numpy as np
import pytest

from app.errors import DatasetError, FaceExplorerError
from app.npz_files import read_npz


def test_reads_every_array_and_closes_the_file(tmp_path):
    path = tmp_path / "tables.npz"
    np.savez(path, a=np.arange(3.0), b=np.eye(2))
    content = read_npz(path)
    assert sorted(content) == ["a", "b"]
    np.testing.assert_array_equal(content["b"], np.eye(2))
    path.unlink()  # nothing keeps it open
    np.testing.assert_array_equal(content["a"], [0.0, 1.0, 2.0])


def _write_bad(kind: str, path):
    if kind == "text":
        path.write_text("alpha_id = 1, 2, 3\n")
    elif kind == "objects":
        np.savez(path, alpha_id=np.array([{"x": 1}], dtype=object))
    elif kind == "npy":
        with open(path, "wb") as handle:
            np.save(handle, np.zeros(3))
    elif kind == "truncated":
        np.savez(path, a=np.zeros(1000))
        path.write_bytes(path.read_bytes()[:300])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "folder":
        path.mkdir()


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("text", "is not a valid .npz file"),
        ("objects", "holds Python objects, which are never loaded"),
        ("npy", "is a single .npy array, not an .npz archive"),
        ("truncated", "damaged or truncated"),
        ("empty", "damaged or truncated"),
        ("folder", "is a folder"),
        ("missing", "no such file"),
    ],
)
def test_a_file_that_is_not_an_npz_is_named_as_such(tmp_path, kind, says):
    path = tmp_path / "input.npz"
    _write_bad(kind, path)
    with pytest.raises(DatasetError) as raised:
        read_npz(path, DatasetError)
    message = str(raised.value)
    assert says in message and str(path) in message
    assert "allow_pickle" not in message and "\n" not in message


def test_default_error_is_the_users_error_type(tmp_path):
    path = tmp_path / "x.npz"
    path.write_text("not an archive")
    with pytest.raises(FaceExplorerError):
        read_npz(path)
