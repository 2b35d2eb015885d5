"""What decides a dataset's contents: the generation settings and what produced the faces.

Both are recorded in the manifest as the dataset's plan, so a resume with anything different is
refused instead of mixing two datasets, and an --overwrite knows which files were the old
dataset's own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from app.dataset.mesh_formats import MESH_FORMATS
from app.dataset.view_options import (
    IMAGE_FORMATS,
    MAX_IMAGE_SIZE,
    background_colour,
    background_pictures,
    map_kinds,
)
from app.denoising.denoiser import Denoiser
from app.errors import FaceExplorerError
from app.model.morphable_model import MorphableModel
from app.model.provenance import ModelProvenance
from app.model.sampling import PAPER_RANGE, Distribution
from app.model.sampling_settings import SamplingSettings
from app.prior.diffusion import check_strength
from app.prior.learned_prior import LearnedPrior

METHODS = ("network", "prior")  # what makes the clean faces: the paper's networks, or the learned prior's projection
# generate's strength: uniform draws at the paper's range lie far outside real faces, so a smaller
# strength leaves them implausible (the prior's own default, 0.08, is for faces already plausible).
PRIOR_STRENGTH = 1.0
# Added after datasets were already made: a plan without them was made by the paper's networks, and
# the network method records neither, so such a dataset's plan and shards stay as they were.
METHOD_FIELDS = ("method", "strength")


@dataclass(frozen=True)
class GenerationSettings:
    """Everything that decides which faces and files a dataset holds."""

    count: int
    seed: int = 0
    shard_size: int = 1000
    distribution: Distribution = "uniform"
    r_shape: float = PAPER_RANGE["shape"]
    r_exp: float = PAPER_RANGE["expression"]
    mesh_format: str | None = None  # one of MESH_FORMATS, or None for coefficients only
    images: bool = False
    image_size: int = 256
    random_views: int = 0  # extra images per face at random yaw/pitch
    max_yaw: float = 45.0
    max_pitch: float = 20.0
    # What else varies per view and what each image comes with (the words are app.dataset.view_options'):
    max_roll: float = 0.0  # degrees, random views only
    max_light_angle: float = 0.0  # degrees between a view's key light and the default one
    min_light: float = 1.0  # key light intensity, as a factor of the default, drawn in [min_light, max_light]
    max_light: float = 1.0
    background: str = ""  # "" the explorer's colour, "#rrggbb", or a folder of pictures
    albedo: bool = False  # per-vertex colour drawn per face (the model's texture, else skin tones)
    maps: str = ""  # per-pixel ground truth beside each image: comma-separated mask, depth, normals
    image_format: str = "png"  # or "300w-lp": NAME.jpg + NAME.mat per image
    focal_length: float = 0.0  # pixels; 0 for 3DDFA's weak perspective (orthographic)
    method: str = "network"  # one of METHODS: the paper's networks, or the learned prior's projection
    strength: float = PRIOR_STRENGTH  # the prior's projection strength in [0, 1] (method "prior" only)

    def check(self) -> None:
        if self.count < 1:
            raise FaceExplorerError(f"the number of faces must be at least 1 (got {self.count})")
        if self.shard_size < 1:
            raise FaceExplorerError(f"the shard size must be at least 1 (got {self.shard_size})")
        self.sampling_settings()  # the one sampling rule: a bad range, seed or distribution is refused here
        if self.mesh_format not in (None, *MESH_FORMATS):
            raise FaceExplorerError(f"unknown mesh format '{self.mesh_format}' (use {' or '.join(MESH_FORMATS)})")
        if self.random_views < 0:
            raise FaceExplorerError(f"random views per face cannot be negative (got {self.random_views})")
        if self.random_views and not self.images:
            raise FaceExplorerError("random views are images: ask for images as well")
        if self.images and self.image_size < 16:
            raise FaceExplorerError(f"image size {self.image_size} is too small (at least 16 pixels)")
        self._check_method()
        self._check_views()

    def _check_method(self) -> None:
        if self.method not in METHODS:
            raise FaceExplorerError(f"unknown method '{self.method}' (use {' or '.join(METHODS)})")
        if self.method == "prior":
            check_strength(self.strength)
        elif self.strength != PRIOR_STRENGTH:
            raise FaceExplorerError("--strength is the learned prior's: give it with --method prior")

    def _check_views(self) -> None:
        """Refuse view settings that make no sense, before anything is rendered or written."""
        if self.image_format not in IMAGE_FORMATS:
            raise FaceExplorerError(f"unknown image format '{self.image_format}' (use {' or '.join(IMAGE_FORMATS)})")
        map_kinds(self.maps)
        if self.images and self.image_size > MAX_IMAGE_SIZE:
            raise FaceExplorerError(
                f"image size {self.image_size:,} is beyond what OpenGL renders "
                f"(at most {MAX_IMAGE_SIZE:,} pixels, often less)"
            )
        asked = [
            name
            for name, given in (
                ("--max-roll", self.max_roll != 0.0),
                ("--light-angle", self.max_light_angle != 0.0),
                ("--light-intensity", (self.min_light, self.max_light) != (1.0, 1.0)),
                ("--background", bool(self.background)),
                ("--maps", bool(self.maps)),
                ("--format", self.image_format != "png"),
                ("--focal-length", self.focal_length != 0.0),
            )
            if given
        ]
        if asked and not self.images:
            raise FaceExplorerError(f"{asked[0]} is about images: ask for images as well")
        for name, value, top in (
            ("yaw", self.max_yaw, 180.0),
            ("pitch", self.max_pitch, 90.0),
            ("roll", self.max_roll, 180.0),
            ("light angle", self.max_light_angle, 180.0),
        ):
            if not 0.0 <= value <= top:
                raise FaceExplorerError(f"the largest {name} must lie in 0..{top:g} degrees (got {value:g})")
        if not 0.0 <= self.min_light <= self.max_light or not self.max_light < float("inf"):
            raise FaceExplorerError(
                f"the light intensity range {self.min_light:g}..{self.max_light:g} "
                "must be finite, not negative and in increasing order"
            )
        if self.focal_length and not self.image_size <= self.focal_length < float("inf"):
            raise FaceExplorerError(
                f"a focal length of {self.focal_length:g} pixels is too short for {self.image_size}-pixel "
                "images: at least the image size (a view angle of at most 53°), or 0 for the weak perspective"
            )
        if self.background and background_colour(self.background) is None:
            background_pictures(self.background)

    @property
    def needs_geometry(self) -> bool:
        """Whether shards need the model's mesh (meshes, images, colours), not only its coefficient scales."""
        return bool(self.mesh_format or self.images or self.albedo)

    @property
    def shard_count(self) -> int:
        return -(-self.count // self.shard_size)

    def shard_rows(self, shard: int) -> range:
        """Global face indices of one shard."""
        start = shard * self.shard_size
        return range(start, min(start + self.shard_size, self.count))

    def sampling_settings(self) -> SamplingSettings:
        """The ranges, seed and distribution as checked ``SamplingSettings``: the rule every sampler follows."""
        return SamplingSettings(self.r_shape, self.r_exp, self.seed, self.distribution)

    def sampling(self) -> dict[str, Any]:
        """The settings that decide the coefficients (stored in every shard)."""
        sampling: dict[str, Any] = {"distribution": self.distribution}
        if self.distribution == "uniform":
            sampling.update(r_shape=self.r_shape, r_exp=self.r_exp)
        if self.method == "prior":  # the network method records nothing, so its shards stay as they were
            sampling.update(method=self.method, strength=self.strength)
        return sampling

    def record(self) -> dict[str, Any]:
        """The settings as a plan records them: the method and strength only where the learned prior is used."""
        record = asdict(self)
        if self.method == "network":
            for name in METHOD_FIELDS:
                del record[name]
        return record


@dataclass(frozen=True)
class Provenance:
    """What produced the faces: the model and the two networks' weights (or the learned prior's)."""

    model: ModelProvenance
    # kind → sha256 of the checkpoint bytes the denoiser loaded; with the learned prior,
    # prior-KIND → sha256 of its checkpoints instead (the networks are then not even loaded)
    checkpoints: dict[str, str]

    @classmethod
    def of(cls, model: MorphableModel, denoiser: Denoiser) -> Provenance:
        """The faces of ``generate --method network``: the model and the networks' digests."""
        return cls(model.provenance, dict(denoiser.digests))

    @classmethod
    def of_prior(cls, model: MorphableModel, prior: LearnedPrior) -> Provenance:
        """The faces of ``generate --method prior``: the model and the learned prior's digests."""
        return cls(model.provenance, {f"prior-{kind}": digest for kind, digest in prior.digests.items()})


def make_plan(settings: GenerationSettings, provenance: Provenance) -> dict[str, Any]:
    """The plan a manifest records: the settings, the model's name and digest, the checkpoints' digests."""
    return {**settings.record(), **provenance.model.to_record(), "checkpoints": provenance.checkpoints}


def settings_of_plan(plan: dict[str, Any], source: str) -> GenerationSettings:
    """The settings a recorded plan was made with; a plan that does not give them is damaged."""
    try:
        settings = GenerationSettings(
            **{
                field.name: plan[field.name]
                for field in fields(GenerationSettings)
                if field.name in plan or field.name not in METHOD_FIELDS
            }
        )
        settings.check()
    except (KeyError, TypeError, FaceExplorerError) as failure:
        raise FaceExplorerError(f"{source}: the recorded plan is damaged ({failure})") from failure
    return settings
