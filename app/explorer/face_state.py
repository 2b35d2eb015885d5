"""The current face of the explorer: its coefficients and the sampling settings, as one object.

Views never talk to each other; they change this object and redraw when it tells them to. Every
change is announced to the subscribers with a ``FaceChange``: one coefficient moved (what a dragged
slider produces, and what the incremental ``MorphableModel.apply_coefficient_change`` needs), or the
whole face was replaced (sampling, reset, loading a preset). Settings changes go to separate subscribers.

The state also knows where its face came from (``FaceOrigin``) and whether a gesture is under way: the
changes of one slider drag carry the same gesture number, so the history can keep a drag as one step and
the views can draw a lighter face until the gesture ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from app.errors import FaceExplorerError
from app.explorer.face_origin import MEAN, MEAN_FACE, FaceOrigin, PartOrigin
from app.model.coefficient_limits import check_coefficient, check_coefficients
from app.model.morphable_model import CoefficientKind, MorphableModel
from app.model.sampling import sample_coefficients
from app.model.sampling_settings import SamplingSettings

SampleTarget = Literal["shape", "expression", "both"]


@dataclass(frozen=True)
class FaceChange:
    """What changed: one coefficient (``kind`` and ``index`` set) or the whole face (both None).

    ``source`` says what replaced a whole face ("sample both", "the denoised face" …);
    ``gesture`` numbers the slider drag a single change belongs to (None: a change of its own).
    """

    kind: CoefficientKind | None = None
    index: int | None = None
    old: float = 0.0
    new: float = 0.0
    source: str = ""
    gesture: int | None = None

    @property
    def is_single(self) -> bool:
        return self.kind is not None


FaceListener = Callable[[FaceChange], None]
SettingsListener = Callable[[SamplingSettings], None]
GestureListener = Callable[[bool], None]


class FaceState:
    """Identity and expression coefficients of one face plus the sampling settings."""

    def __init__(self, model: MorphableModel, settings: SamplingSettings | None = None) -> None:
        self.model = model
        self._alpha: dict[CoefficientKind, np.ndarray] = {
            "shape": np.zeros(model.n_id),
            "expression": np.zeros(model.n_exp),
        }
        self._settings = settings or SamplingSettings()
        self._origin = MEAN_FACE
        self._gesture: int | None = None
        self._gestures_begun = 0
        self._face_listeners: list[FaceListener] = []
        self._settings_listeners: list[SettingsListener] = []
        self._gesture_listeners: list[GestureListener] = []

    # ---- reading -------------------------------------------------------------------------
    @property
    def alpha_id(self) -> np.ndarray:
        return self.coefficients("shape")

    @property
    def alpha_exp(self) -> np.ndarray:
        return self.coefficients("expression")

    def coefficients(self, kind: CoefficientKind) -> np.ndarray:
        """A copy, so no caller can change the face without the subscribers hearing of it."""
        return self._alpha[kind].copy()

    def coefficient(self, kind: CoefficientKind, index: int) -> float:
        return float(self._alpha[kind][index])

    @property
    def settings(self) -> SamplingSettings:
        return self._settings

    @property
    def origin(self) -> FaceOrigin:
        """Where the current face came from (seed and distribution per part, or what else made it)."""
        return self._origin

    @property
    def in_gesture(self) -> bool:
        return self._gesture is not None

    # ---- subscribing ---------------------------------------------------------------------
    def subscribe(self, listener: FaceListener) -> Callable[[], None]:
        """Call ``listener`` after every face change; returns a function that unsubscribes."""
        self._face_listeners.append(listener)
        return lambda: self._face_listeners.remove(listener)

    def subscribe_settings(self, listener: SettingsListener) -> Callable[[], None]:
        self._settings_listeners.append(listener)
        return lambda: self._settings_listeners.remove(listener)

    def subscribe_gestures(self, listener: GestureListener) -> Callable[[], None]:
        """Call ``listener(True)`` when a gesture begins and ``listener(False)`` when it ends."""
        self._gesture_listeners.append(listener)
        return lambda: self._gesture_listeners.remove(listener)

    # ---- gestures --------------------------------------------------------------------------
    def begin_gesture(self) -> None:
        """The single-coefficient changes until ``end_gesture()`` are one user gesture (a slider drag)."""
        if self._gesture is not None:
            return
        self._gestures_begun += 1
        self._gesture = self._gestures_begun
        for listener in list(self._gesture_listeners):
            listener(True)

    def end_gesture(self) -> None:
        if self._gesture is None:
            return
        self._gesture = None
        for listener in list(self._gesture_listeners):
            listener(False)

    # ---- changing the face ---------------------------------------------------------------
    def set_coefficient(self, kind: CoefficientKind, index: int, value: float) -> None:
        values = self._alpha[kind]
        if not 0 <= index < len(values):
            raise FaceExplorerError(f"{kind} coefficient {index} does not exist (the model has {len(values)})")
        value = check_coefficient(self.model, kind, index, value)
        old = float(values[index])
        if value == old:
            return
        values[index] = value
        self._origin = self._origin.with_part(kind, self._origin.part(kind).marked_edited())
        self._announce(FaceChange(kind, index, old, value, gesture=self._gesture))

    def reset_coefficient(self, kind: CoefficientKind, index: int) -> None:
        self.set_coefficient(kind, index, 0.0)

    def set_face(
        self,
        alpha_id: np.ndarray | None = None,
        alpha_exp: np.ndarray | None = None,
        source: str = "face",
        origin: FaceOrigin | None = None,
    ) -> None:
        """Replace identity and/or expression coefficients (a part left as None is kept).

        ``origin`` says where the new face came from; without one, each replaced part's origin
        is ``source``. Both parts are checked before either is taken, so a refused face leaves
        the state as it was.
        """
        given: dict[CoefficientKind, np.ndarray | None] = {"shape": alpha_id, "expression": alpha_exp}
        checked = {
            kind: check_coefficients(self.model, kind, values, source).copy()
            for kind, values in given.items()
            if values is not None
        }
        self._alpha.update(checked)
        if origin is None:
            origin = self._origin
            for kind in checked:
                origin = origin.with_part(kind, PartOrigin(source))
        self._origin = origin
        self._announce(FaceChange(source=source))

    def reset(self) -> None:
        """Back to the mean face (all coefficients zero)."""
        self.set_face(np.zeros(self.model.n_id), np.zeros(self.model.n_exp), "mean face", MEAN_FACE)

    def reset_part(self, kind: CoefficientKind) -> None:
        """The mean identity (``shape``) or the neutral expression, keeping the other part."""
        zeros = np.zeros(self.model.n_coefficients(kind))
        source = "mean identity" if kind == "shape" else "neutral expression"
        origin = self._origin.with_part(kind, PartOrigin(MEAN))
        self.set_face(zeros if kind == "shape" else None, zeros if kind == "expression" else None, source, origin)

    def sample(self, target: SampleTarget) -> None:
        """Draw shape, expression or both with the current settings, then advance the seed.

        The draw comes from ``numpy.random.default_rng(seed)`` and the seed then goes up by one, so
        pressing "sample" again gives a new face while typing a seed back reproduces a face exactly.
        """
        if target not in ("shape", "expression", "both"):
            raise ValueError(f"unknown sampling target '{target}'")
        settings = self._settings
        rng = np.random.default_rng(settings.seed)
        drawn = {}
        origin = self._origin
        for kind in ("shape", "expression"):
            if target in (kind, "both"):
                drawn[kind] = sample_coefficients(
                    self.model, kind, settings.distribution, 1, rng, settings.value_range(kind)
                )[0]
                origin = origin.with_part(
                    kind, PartOrigin.sampled(settings.seed, settings.distribution, settings.value_range(kind))
                )
        self.set_face(drawn.get("shape"), drawn.get("expression"), f"sample {target} (seed {settings.seed})", origin)
        self.update_settings(seed=settings.seed + 1)

    # ---- changing the settings -----------------------------------------------------------
    def update_settings(self, **changes: Any) -> None:
        """Change some sampling settings (validated); subscribers hear the new settings."""
        settings = replace(self._settings, **changes)
        if settings == self._settings:
            return
        self._settings = settings
        for listener in list(self._settings_listeners):
            listener(settings)

    def _announce(self, change: FaceChange) -> None:
        for listener in list(self._face_listeners):
            listener(change)
