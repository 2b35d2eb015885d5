"""The pose group of the explorer: a few named joint rotations for a model with joints (FLAME).

The pose is not part of the two denoised vectors: it is applied to both drawn faces after
synthesis, and the networks, samples, datasets and exports stay at the rest pose. Each control
turns one or two joints about one axis, in degrees, over a range that stays within what a face
does: FLAME's x axis points to the face's left (a positive jaw rotation opens the mouth), y up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.model.skinning import Skinning


@dataclass(frozen=True)
class PoseControl:
    name: str
    joints: tuple[str, ...]
    axis: int  # 0: x (nod, open), 1: y (turn, sideways)
    low: float  # degrees
    high: float


POSE_CONTROLS = (
    PoseControl("jaw open", ("jaw",), 0, 0.0, 30.0),
    PoseControl("jaw sideways", ("jaw",), 1, -10.0, 10.0),
    PoseControl("neck turn", ("neck",), 1, -45.0, 45.0),
    PoseControl("neck nod", ("neck",), 0, -30.0, 30.0),
    PoseControl("eyes left/right", ("left eye", "right eye"), 1, -30.0, 30.0),
    PoseControl("eyes up/down", ("left eye", "right eye"), 0, -20.0, 20.0),
)


def pose_controls(skinning: Skinning | None) -> tuple[PoseControl, ...]:
    """The controls whose joints the model has (none without skinning)."""
    if skinning is None:
        return ()
    return tuple(c for c in POSE_CONTROLS if all(joint in skinning.joint_names for joint in c.joints))


def pose_rotations(skinning: Skinning, degrees: dict[str, float]) -> np.ndarray | None:
    """(J, 3) axis-angle rotations in radians for the controls' values, or None for the rest pose."""
    rotations = np.zeros((skinning.n_joints, 3))
    for control in pose_controls(skinning):
        value = float(np.clip(degrees.get(control.name, 0.0), control.low, control.high))
        for joint in control.joints:
            rotations[skinning.joint_names.index(joint), control.axis] += np.radians(value)
    return rotations if rotations.any() else None
