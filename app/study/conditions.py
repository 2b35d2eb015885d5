"""A study condition as written in a study file: a kind of face, optionally with its own range or part.

A condition is a label such as ``denoised``, ``denoised:r_exp=5`` or ``denoised:varies=shape,r_shape=20``:
one of the kinds below, then options that override the study's own ``r_shape``, ``r_exp`` and
``varies`` for this condition only. That is how one study compares the networks at several
sampling ranges (a range sweep) or the shape and the expression network side by side (the
paper's protocol), while every face still carries a plain label the report can show.

Two groups of control faces can be mixed in besides (``catch`` and ``repeat``, see
``app.study.definition``); they are never part of a condition's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import FaceExplorerError
from app.model.sampling_settings import check_range

KINDS: tuple[str, ...] = ("denoised", "uniform-raw", "normal", "dataset")
VARIED_PARTS: tuple[str, ...] = ("shape", "expression", "both")
CATCH = "catch"  # raw uniform draws at a very wide range, which an attentive rater rejects
REPEAT = "repeat"  # second showings of study faces: does a rater judge a face the same way twice?
_RANGE_OPTIONS = ("r_shape", "r_exp")
_UNIFORM_KINDS = ("denoised", "uniform-raw")


@dataclass(frozen=True)
class Condition:
    """One parsed condition label: what kind of face, which part varies and at which ranges."""

    label: str
    kind: str
    varies: str
    r_shape: float
    r_exp: float

    @property
    def varies_shape(self) -> bool:
        return self.varies in ("shape", "both")

    @property
    def varies_expression(self) -> bool:
        return self.varies in ("expression", "both")

    @property
    def is_uniform(self) -> bool:
        return self.kind in _UNIFORM_KINDS


def parse_condition(label: str, varies: str, r_shape: float, r_exp: float) -> Condition:
    """Read ``kind[:option=value,...]``; ``varies``, ``r_shape`` and ``r_exp`` are the study's defaults."""
    if not isinstance(label, str):
        raise FaceExplorerError(f"a study condition must be a text such as 'denoised:r_exp=5' (got {label!r})")
    kind, _, option_text = label.partition(":")
    if kind not in KINDS:
        raise FaceExplorerError(
            f"unknown study condition '{label}' (use {', '.join(KINDS)}, "
            "optionally with ':r_shape=R', ':r_exp=R' or ':varies=PART')"
        )
    values: dict[str, object] = {"varies": varies, "r_shape": r_shape, "r_exp": r_exp}
    if option_text:
        for item in option_text.split(","):
            key, equals, text = item.partition("=")
            if not equals or key not in values:
                raise FaceExplorerError(
                    f"study condition '{label}': '{item}' is not one of "
                    "r_shape=R, r_exp=R, varies=shape|expression|both"
                )
            if key in _RANGE_OPTIONS:
                if kind not in _UNIFORM_KINDS:
                    raise FaceExplorerError(
                        f"study condition '{label}': only uniform conditions ({', '.join(_UNIFORM_KINDS)}) have a range"
                    )
                try:
                    values[key] = float(text)
                except ValueError:
                    raise FaceExplorerError(
                        f"study condition '{label}': {key} must be a number (got '{text}')"
                    ) from None
            else:
                values[key] = text
    check_varies(values["varies"], f"study condition '{label}': 'varies'")
    try:
        r_shape, r_exp = (check_range(values[key], key) for key in _RANGE_OPTIONS)
    except FaceExplorerError as problem:
        raise FaceExplorerError(f"study condition '{label}': {problem}") from problem
    return Condition(label, kind, str(values["varies"]), r_shape, r_exp)


def check_varies(value: object, what: str) -> None:
    if value not in VARIED_PARTS:
        raise FaceExplorerError(f"{what} must be one of {', '.join(VARIED_PARTS)} (got '{value}')")
