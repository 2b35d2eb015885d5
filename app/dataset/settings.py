"""What decides a dataset's contents: the generation settings and what produced the faces.

Both are recorded in the manifest as the dataset's plan, so a resume with anything different is
refused instead of mixing two datasets, and an --overwrite knows which files were the old
dataset's own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from app.dataset.mesh_formats import MESH_FORMATS
from app.dataset.view_options import check_view_settings
from app.denoising.denoiser import Denoiser
from app.errors import FaceExplorerError
from app.model.morphable_model import MorphableModel
from app.model.provenance import ModelProvenance
from app.model.sampling import DISTRIBUTIONS, PAPER_RANGE
from app.seeds import check_seed


@dataclass(frozen=True)
class GenerationSettings:
    """Everything that decides which faces and files a dataset holds."""

    count: int
    seed: int = 0
    shard_size: int = 1000
    distribution: str = "uniform"
    r_shape: float = PAPER_RANGE["shape"]
    r_exp: float = PAPER_RANGE["expression"]
    mesh_format: str | None = None  # one of MESH_FORMATS, or None for coefficients only
    images: bool = False
    image_size: int = 256
    random_views: int = 0  # extra images per face at random yaw/pitch
    max_yaw: float = 45.0
    max_pitch: float = 20.0
    # What else varies per view and what each image comes with (checked by app.dataset.views):
    max_roll: float = 0.0  # degrees, random views only
    max_light_angle: float = 0.0  # degrees between a view's key light and the default one
    min_light: float = 1.0  # key light intensity, as a factor of the default, drawn in [min_light, max_light]
    max_light: float = 1.0
    background: str = ""  # "" the explorer's colour, "#rrggbb", or a folder of pictures
    albedo: bool = False  # per-vertex colour drawn per face (the model's texture, else skin tones)
    maps: str = ""  # per-pixel ground truth beside each image: comma-separated mask, depth, normals
    image_format: str = "png"  # or "300w-lp": NAME.jpg + NAME.mat per image
    focal_length: float = 0.0  # pixels; 0 for 3DDFA's weak perspective (orthographic)

    def check(self) -> None:
        if self.count < 1:
            raise FaceExplorerError(f"the number of faces must be at least 1 (got {self.count})")
        if self.shard_size < 1:
            raise FaceExplorerError(f"the shard size must be at least 1 (got {self.shard_size})")
        if self.distribution not in DISTRIBUTIONS:
            raise FaceExplorerError(f"unknown distribution '{self.distribution}' (use {' or '.join(DISTRIBUTIONS)})")
        if not (self.r_shape > 0 and self.r_exp > 0):
            raise FaceExplorerError("the uniform sampling ranges r_shape and r_exp must be positive")
        if self.mesh_format not in (None, *MESH_FORMATS):
            raise FaceExplorerError(f"unknown mesh format '{self.mesh_format}' (use {' or '.join(MESH_FORMATS)})")
        if self.random_views < 0:
            raise FaceExplorerError(f"random views per face cannot be negative (got {self.random_views})")
        if self.random_views and not self.images:
            raise FaceExplorerError("random views are images: ask for images as well")
        if self.images and self.image_size < 16:
            raise FaceExplorerError(f"image size {self.image_size} is too small (at least 16 pixels)")
        check_view_settings(self)
        check_seed(self.seed)

    @property
    def shard_count(self) -> int:
        return -(-self.count // self.shard_size)

    def shard_rows(self, shard: int) -> range:
        """Global face indices of one shard."""
        start = shard * self.shard_size
        return range(start, min(start + self.shard_size, self.count))

    def sampling(self) -> dict[str, Any]:
        """The settings that decide the coefficients (stored in every shard)."""
        sampling: dict[str, Any] = {"distribution": self.distribution}
        if self.distribution == "uniform":
            sampling.update(r_shape=self.r_shape, r_exp=self.r_exp)
        return sampling


@dataclass(frozen=True)
class Provenance:
    """What produced the faces: the model and the two networks' weights."""

    model: ModelProvenance
    checkpoints: dict[str, str]  # kind → sha256 of the checkpoint bytes the denoiser loaded

    @classmethod
    def of(cls, model: MorphableModel, denoiser: Denoiser) -> Provenance:
        return cls(model.provenance, dict(denoiser.digests))


def make_plan(settings: GenerationSettings, provenance: Provenance) -> dict[str, Any]:
    """The plan a manifest records: the settings, the model's name and digest, the checkpoints' digests."""
    return {**asdict(settings), **provenance.model.to_record(), "checkpoints": provenance.checkpoints}


def settings_of_plan(plan: dict[str, Any], source: str) -> GenerationSettings:
    """The settings a recorded plan was made with; a plan that does not give them is damaged."""
    try:
        settings = GenerationSettings(**{field.name: plan[field.name] for field in fields(GenerationSettings)})
        settings.check()
    except (KeyError, TypeError, FaceExplorerError) as failure:
        raise FaceExplorerError(f"{source}: the recorded plan is damaged ({failure})") from failure
    return settings
