"""FACS action units as sums of ICT-FaceKit's ARKit-style expression shapes.

The table is ICT-FaceKit's own ("closest relation to FACS units", its README): 29 units, each the
sum of one to two of its 53 shapes (left + right, or upper + lower lip), AU30 counted once per
side. It is listed in the order the embedded model uses for its expression modes: by how often
faces show a unit, the way PCA modes come ordered by variance, so the largest sampling scale goes
to opening the mouth and the smallest to pushing the jaw sideways.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ActionUnit:
    code: str  # "AU12"
    name: str  # "lip corner puller"
    shapes: tuple[str, ...]  # ICT-FaceKit expression shapes whose sum is the unit

    @property
    def label(self) -> str:
        """The unit's FACS name, "AU12 lip corner puller": how the embedded data file keys it."""
        return f"{self.code} {self.name}"

    @property
    def mode_name(self) -> str:
        """What a mode built from this unit is called, with ICT's shapes: "AU12 lip corner puller (mouthSmile)"."""
        stems = {shape.removesuffix("_L").removesuffix("_R") for shape in self.shapes}
        shapes = stems.pop() if len(stems) == 1 else " + ".join(self.shapes)
        return f"{self.label} ({shapes})"


ACTION_UNITS: tuple[ActionUnit, ...] = (
    ActionUnit("AU27", "mouth stretch", ("jawOpen",)),
    ActionUnit("AU12", "lip corner puller", ("mouthSmile_L", "mouthSmile_R")),
    ActionUnit("AU45", "blink", ("eyeBlink_L", "eyeBlink_R")),
    ActionUnit("AU1", "inner brow raiser", ("browInnerUp_L", "browInnerUp_R")),
    ActionUnit("AU2", "outer brow raiser", ("browOuterUp_L", "browOuterUp_R")),
    ActionUnit("AU4", "brow lowerer", ("browDown_L", "browDown_R")),
    ActionUnit("AU6", "cheek raiser", ("cheekSquint_L", "cheekSquint_R")),
    ActionUnit("AU16", "lower lip depressor", ("mouthLowerDown_L", "mouthLowerDown_R")),
    ActionUnit("AU10", "upper lip raiser", ("mouthShrugUpper",)),
    ActionUnit("AU15", "lip corner depressor", ("mouthFrown_L", "mouthFrown_R")),
    ActionUnit("AU20", "lip stretcher", ("mouthStretch_L", "mouthStretch_R")),
    ActionUnit("AU5", "upper lid raiser", ("eyeWide_L", "eyeWide_R")),
    ActionUnit("AU7", "lid tightener", ("eyeSquint_L", "eyeSquint_R")),
    ActionUnit("AU17", "chin raiser", ("mouthShrugLower",)),
    ActionUnit("AU18", "lip pucker", ("mouthPucker",)),
    ActionUnit("AU24", "lip pressor", ("mouthPress_L", "mouthPress_R")),
    ActionUnit("AU14", "dimpler", ("mouthDimple_L", "mouthDimple_R")),
    ActionUnit("AU9", "nose wrinkler", ("noseSneer_L", "noseSneer_R")),
    ActionUnit("AU22", "lip funneler", ("mouthFunnel",)),
    ActionUnit("AU11", "nasolabial deepener", ("mouthUpperUp_L", "mouthUpperUp_R")),
    ActionUnit("AU28", "lip suck", ("mouthRollLower", "mouthRollUpper")),
    ActionUnit("AU63", "eyes up", ("eyeLookUp_L", "eyeLookUp_R")),
    ActionUnit("AU64", "eyes down", ("eyeLookDown_L", "eyeLookDown_R")),
    ActionUnit("AU61", "eyes turn left", ("eyeLookOut_L", "eyeLookIn_R")),
    ActionUnit("AU62", "eyes turn right", ("eyeLookOut_R", "eyeLookIn_L")),
    ActionUnit("AU33", "cheek blow", ("cheekPuff_L", "cheekPuff_R")),
    ActionUnit("AU29", "jaw thrust", ("jawForward",)),
    ActionUnit("AU30", "jaw sideways left", ("jawLeft",)),
    ActionUnit("AU30", "jaw sideways right", ("jawRight",)),
)
