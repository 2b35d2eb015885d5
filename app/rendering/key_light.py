"""The key light of a rendered view: the brightest light, fixed to the camera.

Dataset views vary it (``app.dataset.views`` draws each view's direction and intensity about
the default); the renderer places it. The default is the key light of VTK's light kit, which the
explorer and the rater window use, so an image in the default light looks like the GUI's face.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class KeyLight:
    """The brightest light of a view, fixed to the camera: ``direction`` (unit, image space, towards the light)."""

    direction: tuple[float, float, float]
    intensity: float


def _light_kit_key() -> KeyLight:
    """The key light of VTK's light kit, which the explorer uses: 50° up, 10° to the right, intensity 0.75."""
    elevation, azimuth = np.radians(50.0), np.radians(10.0)
    direction = (np.cos(elevation) * np.sin(azimuth), np.sin(elevation), np.cos(elevation) * np.cos(azimuth))
    return KeyLight((float(direction[0]), float(direction[1]), float(direction[2])), 0.75)


DEFAULT_KEY_LIGHT = _light_kit_key()
