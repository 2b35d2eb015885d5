"""Which face model something was made on: a digest of the model's numbers, its name beside it.

A name ("embedded face model v3", a file path) says nothing about the numbers behind it: the
embedded model changed twice while its name stayed the same, so an old study opened and showed
different faces without a word. The digest (sha256 over the mean, the bases, the standard
deviations and the triangles) changes whenever a face would. Checkpoints, dataset shards,
studies and presets record both, and ``require_same_model`` is the one place that decides
whether something recorded fits the model that is loaded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.errors import FaceExplorerError

SHORT_DIGEST = 12  # hex characters shown to people; the full digest is what is compared
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ModelProvenance:
    """A model as recorded: its human name and the sha256 of its content.

    ``digest`` is None for files written before models were identified by content: they record
    only a name (the old ``model_identity`` string), which cannot tell two models apart.
    """

    name: str
    digest: str | None

    def describe(self) -> str:
        return f"{self.name} [{self.digest[:SHORT_DIGEST]}]" if self.digest else f"{self.name} [no digest]"

    def to_record(self) -> dict[str, str]:
        """The fields a file stores (JSON, npz or SQLite key/value); ``from_record`` reads them back.

        A model known only by an old name is written back the old way, so a file derived from an
        old one (a study's face as a preset) says no more than its source did.
        """
        if self.digest is None:
            return {"model_identity": self.name}
        return {"model_name": self.name, "model_digest": self.digest}

    @classmethod
    def from_record(cls, record: Mapping[str, Any], source: str) -> ModelProvenance:
        """Read what ``to_record`` wrote; older files with only ``model_identity`` get no digest."""
        if "model_digest" not in record:
            return cls(str(record.get("model_identity", "")), None)
        name, digest = record.get("model_name"), record["model_digest"]
        if not isinstance(name, str) or not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise FaceExplorerError(
                f"{source}: the recorded face model is damaged (model_digest is not a sha256 digest)"
            )
        return cls(name, digest)


def model_mismatch(recorded: ModelProvenance, loaded: ModelProvenance, what: str) -> str | None:
    """Why ``what`` (made on ``recorded``) does not fit the ``loaded`` model, or None when it does."""
    if recorded.digest is None:
        if not recorded.name:
            return (
                f"{what} does not record which face model it was made on, so it cannot be shown on {loaded.describe()}"
            )
        return (
            f"{what} records only the model name '{recorded.name}' (it was made before face models were "
            f"identified by their content), so it cannot be checked against {loaded.describe()}"
        )
    if recorded.digest == loaded.digest:
        return None
    if recorded.name == loaded.name:
        return (
            f"{what} was made on {recorded.describe()}, but the loaded model of the same name has other "
            f"content ({loaded.describe()}): the model changed since"
        )
    return f"{what} was made on {recorded.describe()}, but {loaded.describe()} is loaded"


def require_same_model(recorded: ModelProvenance, loaded: ModelProvenance, what: str) -> None:
    """Refuse, with one clear line, to use ``what`` on a model it was not made on."""
    problem = model_mismatch(recorded, loaded, what)
    if problem is not None:
        raise FaceExplorerError(problem)
