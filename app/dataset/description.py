"""What a dataset folder holds, for people: ``python main.py generate --describe OUT``.

Everything comes from the manifest, and every recorded shard is checked on disk the way
``--resume`` checks it, so the description says which shards are really there.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from pathlib import Path

from app.dataset.layout import MANIFEST
from app.dataset.manifest import Manifest
from app.dataset.settings import GenerationSettings
from app.errors import FaceExplorerError
from app.model.provenance import ModelProvenance


def describe_dataset(folder: str | Path) -> str:
    """A multi-line description: plan, model, checkpoints, software, and which shards are done and intact."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise FaceExplorerError(f"{folder}: not a dataset folder (no {MANIFEST})")
    manifest = Manifest.read(manifest_path)
    settings = manifest.settings
    intact = manifest.intact_shards(folder)
    faces = sum(record.faces for record in intact.values())
    damaged = sorted(set(manifest.shards) - set(intact))
    state = "complete" if len(intact) == settings.shard_count else "unfinished (finish it with generate --resume)"
    lines = [
        f"dataset {folder}: {state}",
        f"faces:       {faces:,} of {settings.count:,} in {len(intact):,} of {settings.shard_count:,} shard(s) "
        f"of ≤{settings.shard_size:,}",
    ]
    if damaged:
        lines.append(
            f"damaged:     {len(damaged)} recorded shard(s) no longer verify: {', '.join(map(str, damaged[:10]))}"
            + (" …" if len(damaged) > 10 else "")
        )
    lines.append(f"files:       {_contents(settings)}")
    lines.append(
        f"method:      prior (the learned prior's projection at strength {settings.strength:g})"
        if settings.method == "prior"
        else "method:      network (the paper's denoising networks)"
    )
    lines.append(f"model:       {ModelProvenance.from_record(manifest.plan, str(manifest_path)).describe()}")
    lines += [
        f"checkpoint:  {kind} sha256 {digest}" for kind, digest in sorted(manifest.plan.get("checkpoints", {}).items())
    ]
    defaults = asdict(GenerationSettings(count=settings.count))
    chosen = {field.name: getattr(settings, field.name) for field in fields(settings)}
    lines.append(
        "settings:    "
        + ", ".join(f"{name}={value!r}" for name, value in chosen.items() if name == "seed" or value != defaults[name])
    )
    if manifest.last_run:
        run = manifest.last_run
        lines.append(
            f"last run:    {run.get('faces', 0):,} faces in {run.get('seconds', 0):.1f} s, "
            f"workers {run.get('workers')}, scheduler {run.get('scheduler') or 'none'}, "
            f"denoising on {run.get('denoising_device', '?')}"
        )
    if manifest.software:
        lines.append("software:    " + ", ".join(f"{name} {version}" for name, version in manifest.software.items()))
    return "\n".join(lines)


def _contents(settings: GenerationSettings) -> str:
    clean = "projected" if settings.method == "prior" else "denoised"
    parts = [f"coefficients (shard-*.npz: noisy and {clean} identity and expression)"]
    if settings.mesh_format:
        parts.append(f"{settings.mesh_format.upper()} meshes")
    if settings.images:
        files = "JPEG + 300W-LP .mat" if settings.image_format == "300w-lp" else "PNG"
        parts.append(f"{1 + settings.random_views} image(s) per face at {settings.image_size} px ({files})")
        if settings.maps:
            parts.append(f"{settings.maps.replace(',', ', ')} map(s) per image")
    return ", ".join(parts)
