"""Typed numbers: plain decimals with a point in every locale; anything ambiguous is refused."""

from __future__ import annotations

import numpy as np
import pytest

from app.errors import FaceExplorerError
from app.explorer.number_entry import parse_number, read_coefficient
from app.model.coefficient_limits import check_coefficients
from app.model.coefficient_names import coefficient_label
from app.model.morphable_model import MorphableModel


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.5", 1.5),
        ("-2e5", -2e5),
        ("+.25", 0.25),
        (" 3 ", 3.0),
        ("7.", 7.0),
        ("1E-3", 1e-3),
        ("\u22124", -4.0),
    ],
)
def test_plain_numbers_are_read(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("1,5", "use a point for decimals"),
        ("1,500.0", "use a point for decimals"),
        ("abc", "is not a number"),
        ("nan", "is not a number"),
        ("inf", "is not a number"),
        ("1_000", "is not a number"),
        ("0x10", "is not a number"),
        ("1e400", "too large"),
        ("", "no number"),
    ],
)
def test_everything_else_is_refused_with_a_reason(text, says):
    with pytest.raises(FaceExplorerError, match=says):
        parse_number(text)


def tiny_model() -> MorphableModel:
    rng = np.random.default_rng(3)
    return MorphableModel(
        mean=rng.normal(size=12),
        basis_id=rng.normal(size=(3, 12)),
        basis_exp=rng.normal(size=(2, 12)),
        ev_id=np.array([5e5, 3e5, 2e5]),
        ev_exp=np.array([4.0, 2.0]),
        triangles=np.array([[0, 1, 2], [0, 2, 3]]),
        name="test:tiny",
        names_id=["identity PC 0", "jaw width"],
    )


def test_a_value_beyond_the_limit_is_refused_in_the_unit_it_was_typed_in():
    model = tiny_model()
    assert read_coefficient(model, "shape", 1, "2", "sigma") == 2 * 3e5
    with pytest.raises(FaceExplorerError) as typed_in_sigma:
        read_coefficient(model, "shape", 1, "1e9", "sigma")
    assert str(typed_in_sigma.value) == "1e+09σ is outside ±1667σ, the most it may take"
    with pytest.raises(FaceExplorerError, match=r"^1e\+09σ is outside"):
        read_coefficient(model, "shape", 1, "1e9σ", "raw")
    with pytest.raises(FaceExplorerError, match=r"^1e\+09 is outside ±5e\+08 model units"):
        read_coefficient(model, "shape", 1, "1e9", "raw")


def test_every_coefficient_has_one_number_and_name():
    model = tiny_model()
    assert [coefficient_label(model, "shape", k) for k in range(3)] == [
        "identity PC 0",
        "identity 1 (jaw width)",
        "identity mode 2",
    ]
    with pytest.raises(FaceExplorerError, match=r"^a.json: identity 1 \(jaw width\) is 1e\+30, outside"):
        check_coefficients(model, "shape", np.array([0.0, 1e30, 0.0]), "a.json")
