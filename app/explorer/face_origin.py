"""Where the face on screen came from: per part (identity, expression), its seed and distribution or its source.

The sampling panel's seed box holds the *next* seed; a researcher who documents a face needs the
seed that made the one on screen. Identity and expression are tracked apart because sampling
one part keeps the other (sample expression after sampling both: the identity is still from the
earlier seed). Any slider or typed change marks its part "edited", since the seed then no
longer reproduces it. Presets record the origin, so a saved face still says how it was made.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from app.errors import FaceExplorerError
from app.model.morphable_model import CoefficientKind
from app.seeds import check_seed

SAMPLED = "sampled"
MEAN = "mean"


@dataclass(frozen=True)
class PartOrigin:
    """How one part's coefficients were made: ``source`` "sampled" (with seed, distribution, r) or a description."""

    source: str
    seed: int | None = None
    distribution: str | None = None
    value_range: float | None = None
    edited: bool = False

    def describe(self) -> str:
        if self.source == SAMPLED:
            text = f"seed {self.seed} · {self.distribution}"
            if self.distribution == "uniform" and self.value_range is not None:
                text += f" r = {self.value_range:g}"
        else:
            text = self.source
        return f"{text}, edited" if self.edited else text

    def marked_edited(self) -> PartOrigin:
        return self if self.edited else replace(self, edited=True)

    @classmethod
    def sampled(cls, seed: int, distribution: str, value_range: float) -> PartOrigin:
        return cls(SAMPLED, seed=int(seed), distribution=distribution, value_range=float(value_range))

    @classmethod
    def from_record(cls, record: Any) -> PartOrigin:
        if not isinstance(record, dict) or not isinstance(record.get("source"), str):
            raise FaceExplorerError("a face origin must be an object with a 'source' text")
        unknown = set(record) - {"source", "seed", "distribution", "value_range", "edited"}
        if unknown:
            raise FaceExplorerError(f"unknown face origin fields: {', '.join(sorted(unknown))}")
        try:
            return cls(
                record["source"],
                seed=None if record.get("seed") is None else check_seed(record["seed"], "a face origin's seed"),
                distribution=None if record.get("distribution") is None else str(record["distribution"]),
                value_range=None if record.get("value_range") is None else float(record["value_range"]),
                edited=bool(record.get("edited", False)),
            )
        except (TypeError, ValueError, OverflowError) as failure:  # float("1e999") is fine, int(inf) overflows
            raise FaceExplorerError(f"a face origin has a field of the wrong type ({failure})") from None


@dataclass(frozen=True)
class FaceOrigin:
    """The origin of the identity (``shape``) and of the expression part of one face."""

    shape: PartOrigin
    expression: PartOrigin

    @classmethod
    def of_both(cls, part: PartOrigin) -> FaceOrigin:
        return cls(part, part)

    def part(self, kind: CoefficientKind) -> PartOrigin:
        return self.shape if kind == "shape" else self.expression

    def with_part(self, kind: CoefficientKind, part: PartOrigin) -> FaceOrigin:
        return replace(self, **{kind: part})

    def describe(self) -> str:
        """One line: "seed 5 · uniform r = 10" when both parts agree, else each part named."""
        shape, expression = self.shape.describe(), self.expression.describe()
        if self.shape.source == SAMPLED and self.expression.source == SAMPLED:
            same_draw = (self.shape.seed, self.shape.distribution) == (
                self.expression.seed,
                self.expression.distribution,
            )
            if same_draw and self.shape.edited == self.expression.edited:
                # one draw made both parts; each has its own r
                r = (
                    f" r = {self.shape.value_range:g} / {self.expression.value_range:g}"
                    if self.shape.distribution == "uniform"
                    else ""
                )
                return f"seed {self.shape.seed} · {self.shape.distribution}{r}" + (
                    ", edited" if self.shape.edited else ""
                )
        if shape == expression:
            return shape
        return f"identity: {shape}; expression: {expression}"

    def to_record(self) -> dict[str, Any]:
        return {"shape": asdict(self.shape), "expression": asdict(self.expression)}

    @classmethod
    def from_record(cls, record: Any) -> FaceOrigin:
        if not isinstance(record, dict) or set(record) != {"shape", "expression"}:
            raise FaceExplorerError("a face origin must be an object with 'shape' and 'expression'")
        return cls(PartOrigin.from_record(record["shape"]), PartOrigin.from_record(record["expression"]))


MEAN_FACE = FaceOrigin.of_both(PartOrigin(MEAN))
