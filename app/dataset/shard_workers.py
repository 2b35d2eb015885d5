"""Worker processes that make shards, watched by the parent: a dead worker is an error, never a wait.

Each worker asks for its next shard through its own pipe; the parent waits on every pipe and
every worker's sentinel at once, so a worker that dies at any moment (starting, mid-shard or
between shards) ends the run with one error, the finished shards kept for ``--resume``. A shard
that fails in a worker comes back as its error: the others finish their shard, then it is
raised. A run that ends early otherwise kills its workers and removes their unfinished files; a
shard counts only once its .npz is written, so no half shard looks complete. Workers fork from a
fork server that has imported torch (spawn where there is none): a plain fork of a process that
already ran torch or VTK can hang.
"""

from __future__ import annotations

import multiprocessing
import pickle
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from pathlib import Path

from app.dataset.layout import own_temporary_files
from app.dataset.settings import GenerationSettings, Provenance
from app.dataset.shards import FaceFileWriters, WrittenShard, write_shard
from app.denoising.denoiser import Denoiser
from app.errors import FaceExplorerError
from app.model.coefficient_scales import CoefficientScales
from app.model.morphable_model import MorphableModel
from app.prior.learned_prior import LearnedPrior


@dataclass(frozen=True)
class ShardJob:
    """What every worker of a run receives once, at its start."""

    folder: Path
    settings: GenerationSettings
    model: MorphableModel | CoefficientScales
    denoiser: Denoiser | None  # None with the learned prior, for settings.method "prior"
    provenance: Provenance
    prior: LearnedPrior | None = None  # the learned prior, for settings.method "prior"


def worker_context() -> ForkServerContext | SpawnContext:
    """Processes forked from a fork server that has imported torch and the shard writers; spawn without one."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["torch", "app.dataset.shards"])
    return context


def start_worker_server() -> None:
    """Start the fork server now, so that its import of torch overlaps the caller's loading of the model."""
    if worker_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def run_shards_in_workers(job: ShardJob, todo: list[int], workers: int) -> Iterator[WrittenShard]:
    """Make the shards of ``todo`` in ``workers`` processes; yield each as it finishes."""
    context = worker_context()
    processes: dict[Connection, BaseProcess] = {}
    finished = False
    try:
        for _ in range(min(workers, len(todo))):
            parent_end, worker_end = context.Pipe()
            process = context.Process(target=_serve_shards, args=(worker_end, job), daemon=True)
            process.start()
            worker_end.close()
            processes[parent_end] = process
        yield from _hand_out(job.folder, processes, list(todo))
        finished = True
    finally:
        _stop(processes, kill=not finished)
        if not finished:
            for path in own_temporary_files(job.folder):  # left by a worker killed mid-write
                path.unlink(missing_ok=True)


def _hand_out(folder: Path, processes: dict[Connection, BaseProcess], todo: list[int]) -> Iterator[WrittenShard]:
    """Give each worker one shard at a time until none is left or one fails; yield the finished ones."""
    busy: set[Connection] = set()
    failure: BaseException | None = None

    def give_next(connection: Connection) -> None:
        if todo and failure is None:
            try:
                connection.send(todo.pop(0))
            except OSError:  # the pipe of a worker that has died
                raise _worker_died(folder) from None
            busy.add(connection)

    for connection in processes:
        give_next(connection)
    # A busy worker is watched through its pipe (its result) and its sentinel (its death).
    worker_of: dict[Connection | int, Connection] = {connection: connection for connection in processes}
    worker_of.update({process.sentinel: connection for connection, process in processes.items()})
    while busy:
        for ready in wait([key for key, connection in worker_of.items() if connection in busy]):
            connection = worker_of[ready]  # type: ignore[index]  # wait() returns the objects it was given
            if connection not in busy:
                continue  # its message and its exit were both ready; the message was read first
            try:
                outcome, payload = connection.recv()
            except (EOFError, OSError):
                raise _worker_died(folder) from None
            busy.discard(connection)
            if outcome == "failed":
                failure = failure or payload
            else:
                yield payload
            give_next(connection)
    if failure is not None:
        raise failure


def _worker_died(folder: Path) -> FaceExplorerError:
    return FaceExplorerError(
        f"a worker process of the run into {folder} ended without finishing its shard (killed, or out of memory?); "
        "the finished shards are kept: run the same command with --resume"
    )


def _stop(processes: dict[Connection, BaseProcess], kill: bool) -> None:
    """Tell every worker to exit, or kill them all when the run ended early; wait until they are gone."""
    for connection, process in processes.items():
        if kill:
            process.kill()
        else:
            connection.send(None)
    for connection, process in processes.items():
        process.join()
        connection.close()


def _serve_shards(connection: Connection, job: ShardJob) -> None:
    """A worker's life: make each shard the parent sends until it sends None."""
    import torch

    torch.set_num_threads(1)  # the parallelism is across shards; threads per worker would oversubscribe
    writers = FaceFileWriters(job.model)
    try:
        while (shard := connection.recv()) is not None:
            try:
                written = write_shard(
                    job.folder, shard, job.settings, job.model, job.denoiser, job.provenance, writers, job.prior
                )
            except Exception as problem:  # every failure goes back to the parent
                connection.send(("failed", _sendable(problem)))
            else:
                connection.send(("done", written))
    except (EOFError, KeyboardInterrupt):
        pass  # the parent is gone or the user pressed Ctrl+C: the parent reports it
    finally:
        writers.close()


def _sendable(problem: Exception) -> BaseException:
    """``problem`` as the parent should raise it: a user-facing error as it is, a bug with the worker's traceback.

    An exception that cannot be pickled becomes a FaceExplorerError with its text.
    """
    if not isinstance(problem, FaceExplorerError):
        problem.add_note("in a worker process:\n" + "".join(traceback.format_exception(problem)))
    try:
        pickle.loads(pickle.dumps(problem))
    except Exception:  # an exception class that cannot be pickled
        return FaceExplorerError(f"{type(problem).__name__}: {problem}")
    return problem
