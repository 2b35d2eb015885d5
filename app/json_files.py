"""Parsing JSON that comes from a file, so that no content of the file reaches a traceback.

Python's parser accepts what no file of ours holds and what later breaks deep inside a reader:
``NaN`` and ``Infinity`` (a preset's seed of Infinity), integers of thousands of digits, numbers
that overflow to infinity, and nesting deep enough (100,000 ``[``) to exhaust the stack.
``parse_json`` refuses all of them with one error naming the file. Every JSON reader of the
product (studies, presets, coefficient files, manifests, model indices) goes through it.
"""

from __future__ import annotations

import json
import math
from typing import Any

from app.errors import FaceExplorerError

MAX_INTEGER_DIGITS = 20  # every integer of ours fits in 64 bits (19 digits)


def parse_json(text: str | bytes, source: str, error: type[FaceExplorerError] = FaceExplorerError) -> Any:
    """The value ``text`` holds, or one ``error`` naming ``source`` and what is wrong with it."""
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_int=_bounded_integer, parse_float=_finite_float)
    except RecursionError:
        raise error(f"{source}: not valid JSON (nested too deeply)") from None
    except ValueError as failure:  # JSONDecodeError and the refusals below; UnicodeDecodeError for bytes
        raise error(f"{source}: not valid JSON ({failure})") from None


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _bounded_integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-'))} digits")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is too large")
    return value
