"""How a face looks in every 3D view: its colours, and a camera for y-up, z-toward-viewer models."""

from __future__ import annotations

import numpy as np

SKIN = (0.87, 0.72, 0.62)
BACKGROUND = (0.16, 0.17, 0.19)


def look_at_bounds(renderer, bounds: np.ndarray, direction: np.ndarray) -> None:  # noqa: ANN001 - a VTK renderer
    """Look at the centre of ``bounds`` (3, 2) from ``direction`` (y up), framing the whole box."""
    bounds = np.asarray(bounds, dtype=float)
    center = bounds.mean(axis=1)
    renderer.camera_position = [tuple(center + np.asarray(direction, dtype=float)), tuple(center), (0.0, 1.0, 0.0)]
    renderer.ResetCamera(*bounds.ravel())
