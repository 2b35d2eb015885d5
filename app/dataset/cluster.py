"""Making a dataset's shards as tasks on a Dask distributed cluster (``generate --scheduler ADDRESS``).

Workers write the shard files into the dataset folder themselves, so every worker must see it
at the client's path (a shared file system; the local disk for ``--scheduler local``): sending
meshes and images back would push gigabytes per shard through the scheduler. The client scatters
its model (or, for coefficients alone, its scales) and networks once, so every worker makes faces
from exactly the client's arrays. The client alone writes the manifest, and commits a shard only
once it has read the shard back with the digest the worker reported: a worker that sees another
folder is caught at its first shard. A worker that dies mid-shard leaves atomic files and
temporary ones; the retry writes the same bytes, and temporary files are deleted when the run ends.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.dataset.layout import own_temporary_files, shard_file
from app.dataset.manifest import Manifest
from app.dataset.settings import GenerationSettings, Provenance
from app.dataset.shards import FaceFileWriters, WrittenShard, model_for_shards, write_shard
from app.denoising.denoiser import Denoiser
from app.errors import FaceExplorerError
from app.model.coefficient_scales import CoefficientScales
from app.model.morphable_model import MorphableModel
from app.prior.learned_prior import LearnedPrior

if TYPE_CHECKING:
    from dask.distributed import Client

LOCAL = "local"  # --scheduler local: a LocalCluster on this machine
CONNECT_TIMEOUT = 10  # seconds: an unreachable scheduler is one error, not a hang


@contextmanager
def cluster_client(address: str, local_workers: int) -> Iterator[Client]:
    """A client of the scheduler at ``address``, or of a new LocalCluster of ``local_workers`` processes."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as failure:
        raise FaceExplorerError("--scheduler needs Dask: pip install 'face-manifold-explorer[cluster]'") from failure
    if address == LOCAL:
        # One thread per worker process: a worker makes one shard at a time (see make_shard).
        with (
            LocalCluster(
                n_workers=local_workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = Client(address, timeout=f"{CONNECT_TIMEOUT}s")
    except (OSError, TimeoutError, ValueError, TypeError) as failure:
        raise FaceExplorerError(
            f"cannot reach the Dask scheduler at {address!r} within {CONNECT_TIMEOUT} s "
            f"({failure}); start one with 'dask scheduler' or use --scheduler local"
        ) from failure
    with client:
        yield client


@dataclass(frozen=True, eq=False)
class ShardTools:
    """What every worker needs besides a shard's number: the client's model (or its scales) and networks."""

    model: MorphableModel | CoefficientScales
    denoiser: Denoiser | None  # None with the learned prior, for settings.method "prior"
    prior: LearnedPrior | None = None  # the learned prior, for settings.method "prior"


def run_shards_on_cluster(
    client: Client,
    folder: Path,
    todo: list[int],
    settings: GenerationSettings,
    model: MorphableModel,
    denoiser: Denoiser | None,
    provenance: Provenance,
    prior: LearnedPrior | None = None,
) -> Iterator[WrittenShard]:
    """Submit every shard of ``todo``; yield each one, verified from the client's side, as it finishes."""
    from dask.distributed import as_completed

    tools = client.scatter(ShardTools(model_for_shards(model, settings), denoiser, prior), broadcast=True, hash=False)
    run = uuid.uuid4().hex[:8]
    pending = as_completed(
        [
            client.submit(
                make_shard, tools, str(folder), shard, settings, provenance, key=f"shard-{shard:05d}-{run}", pure=False
            )
            for shard in todo
        ]
    )
    try:
        for future in pending:
            written = future.result()  # a worker's FaceExplorerError arrives here as itself
            # Forget the result at once: a result held on a worker that dies later would be lost,
            # and Dask would make the shard again (same bytes, but files rewritten behind our back).
            future.release()
            verify_on_client(folder, settings, written)
            yield written
    finally:
        pending.clear()
        client.cancel(tools)
    for path in own_temporary_files(folder):  # left by workers killed mid-write; no task of ours runs now
        path.unlink(missing_ok=True)


def verify_on_client(folder: Path, settings: GenerationSettings, written: WrittenShard) -> None:
    """Refuse a shard the client cannot find in ``folder`` as the worker reported it."""
    record = written.record
    if not Manifest.shard_is_intact(folder, settings, record):
        raise FaceExplorerError(
            f"{folder / shard_file(record.shard)}: a worker reported shard {record.shard} finished, but this folder "
            "does not hold it with the digest the worker computed (or lacks its meshes or images): every worker must "
            "write to the dataset folder at this same path, on a file system the client shares"
        )


# A worker process's writers (mesh writer, off-screen renderer), made for the tools of the current run.
_writers: list[tuple[ShardTools, FaceFileWriters]] = []
_one_shard_at_a_time = threading.Lock()


def make_shard(
    tools: ShardTools, folder: str, shard: int, settings: GenerationSettings, provenance: Provenance
) -> WrittenShard:
    """A Dask task: write one shard with the client's model and networks."""
    # The renderer and mesh writer of a process are not thread-safe; a worker with several
    # threads still makes one shard at a time.
    if not Path(folder).is_dir():
        raise FaceExplorerError(
            f"{folder}: the dataset folder does not exist on worker {socket.gethostname()}: "
            "every worker must see it at the same path as the client (a shared file system)"
        )
    with _one_shard_at_a_time:
        return write_shard(
            Path(folder), shard, settings, tools.model, tools.denoiser, provenance, _writers_for(tools), tools.prior
        )


def _writers_for(tools: ShardTools) -> FaceFileWriters:
    if not _writers or _writers[0][0] is not tools:
        import torch

        torch.set_num_threads(1)  # the parallelism is across workers; threads per worker would oversubscribe
        if _writers:
            _writers.pop()[1].close()
        _writers.append((tools, FaceFileWriters(tools.model)))
    return _writers[0][1]
