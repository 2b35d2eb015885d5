"""Which method makes the explorer's denoised face: the paper's networks or the learned prior.

``DenoisingChoice`` is the one place the method and the prior's strength live: the control that
edits them and the ``LiveFace`` that uses them both subscribe to it, so no widget reads another.
The prior projects a face at strength t with a generator seeded the same way on every refresh,
so a face and a strength always give the same denoised face (a dragged slider does not flicker).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from app.errors import FaceExplorerError
from app.prior.learned_prior import DEFAULT_STRENGTH

Method = Literal["networks", "prior"]
METHODS: dict[Method, str] = {"networks": "paper networks", "prior": "learned prior"}
PRIOR_SEED = 0  # every projection of the explorer starts from this seed's noise


@dataclass(frozen=True)
class DenoisingMethod:
    """The chosen method and the prior's strength t ∈ [0, 1] (kept while the networks are chosen)."""

    method: Method = "networks"
    strength: float = DEFAULT_STRENGTH

    def describe(self) -> str:
        """What the denoised view's title says, e.g. "learned prior, t = 0.08"."""
        return "networks" if self.method == "networks" else f"learned prior, t = {self.strength:.2f}"


ChoiceListener = Callable[[DenoisingMethod], None]


class DenoisingChoice:
    """The current ``DenoisingMethod``; every change is announced to the subscribers."""

    def __init__(self) -> None:
        self._current = DenoisingMethod()
        self._listeners: list[ChoiceListener] = []

    @property
    def current(self) -> DenoisingMethod:
        return self._current

    def subscribe(self, listener: ChoiceListener) -> Callable[[], None]:
        """Call ``listener`` after every change; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def choose(self, method: Method | None = None, strength: float | None = None) -> None:
        """Change the method and/or the strength (None keeps it); a refused value changes nothing."""
        method = self._current.method if method is None else method
        if method not in METHODS:
            raise FaceExplorerError(f"unknown denoising method {method!r} (use networks or prior)")
        strength = self._current.strength if strength is None else float(strength)
        if not 0.0 <= strength <= 1.0:
            raise FaceExplorerError(f"the prior's strength must be between 0 and 1 (got {strength})")
        chosen = DenoisingMethod(method, strength)
        if chosen == self._current:
            return
        self._current = chosen
        for listener in list(self._listeners):
            listener(chosen)
