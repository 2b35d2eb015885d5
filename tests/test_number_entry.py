"""Typed numbers: plain decimals with a point in every locale; anything ambiguous is refused."""

from __future__ import annotations

import pytest

from app.errors import FaceExplorerError
from app.explorer.number_entry import parse_number


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
