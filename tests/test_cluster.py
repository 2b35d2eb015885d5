"""generate on a Dask cluster: the same bytes as one process, a worker killed mid-run, bad addresses, full disks."""

from __future__ import annotations

import functools
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from core_fixtures import dataset_bytes, run_generate
from dask.distributed import Client, LocalCluster

import app.dataset.cluster as cluster
import app.dataset.generation as generation
from app.dataset.manifest import Manifest
from app.dataset.settings import GenerationSettings
from app.errors import ExportError, FaceExplorerError


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """Two worker processes of one thread, as ``--scheduler local --workers 2`` starts them."""
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as local,
        Client(local) as connected,
    ):
        yield connected


def _recorded(folder: Path) -> list[int]:
    return [record["shard"] for record in json.loads((folder / "manifest.json").read_text())["shards"]]


MESHES = GenerationSettings(count=10, seed=5, shard_size=2, mesh_format="ply")


def test_two_workers_give_the_bytes_of_one_process(tmp_path: Path, generation_inputs: tuple, client: Client) -> None:
    run_generate(tmp_path / "single", generation_inputs, MESHES, workers=1)
    summary = run_generate(tmp_path / "cluster", generation_inputs, MESHES, scheduler=client)
    assert summary.shards_written == 5 and summary.faces == 10
    single, on_cluster = dataset_bytes(tmp_path / "single"), dataset_bytes(tmp_path / "cluster")
    assert len(single) == 15 and single == on_cluster  # 5 shards + 10 meshes
    assert _recorded(tmp_path / "cluster") == [0, 1, 2, 3, 4]
    assert json.loads((tmp_path / "cluster" / "manifest.json").read_text())["last_run"]["scheduler"].startswith(
        "tcp://"
    )


def test_a_worker_killed_mid_run_still_gives_the_same_bytes_once(
    tmp_path: Path, generation_inputs: tuple, client: Client
) -> None:
    settings = GenerationSettings(count=24, seed=9, shard_size=2, mesh_format="ply")
    run_generate(tmp_path / "single", generation_inputs, settings, workers=1)
    folder = tmp_path / "cluster"
    worker_pids = list(client.run(os.getpid).values())
    killed: list[int] = []

    def kill_one_worker_once_shards_appear() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not list(folder.glob("meshes/shard-0000[2-9]/*.ply")):
            time.sleep(0.01)
        os.kill(worker_pids[0], signal.SIGKILL)  # mid-run, most likely mid-shard: one mesh of a shard is out
        killed.append(worker_pids[0])

    killer = threading.Thread(target=kill_one_worker_once_shards_appear)
    killer.start()
    try:
        summary = run_generate(folder, generation_inputs, settings, scheduler=client)
    finally:
        killer.join()
    assert killed and summary.shards_written == 12
    assert dataset_bytes(folder) == dataset_bytes(tmp_path / "single")
    assert _recorded(folder) == list(range(12))  # each shard committed exactly once
    assert not list(folder.rglob("*.part.*"))  # the killed worker's temporary files are gone
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it for the next test


def test_resume_on_the_cluster_remakes_only_the_missing_shards(
    tmp_path: Path, generation_inputs: tuple, client: Client
) -> None:
    settings = GenerationSettings(count=12, seed=6, shard_size=3)
    run_generate(tmp_path, generation_inputs, settings, workers=1)
    complete = dataset_bytes(tmp_path)
    (tmp_path / "shard-00001.npz").unlink()
    (tmp_path / "shard-00003.npz").write_bytes(b"truncated")
    summary = run_generate(tmp_path, generation_inputs, settings, scheduler=client, resume=True)
    assert (summary.shards_written, summary.shards_skipped) == (2, 2)
    assert dataset_bytes(tmp_path) == complete and _recorded(tmp_path) == [0, 1, 2, 3]


_make_shard = cluster.make_shard


def _make_shard_in(elsewhere: str, tools: object, _folder: str, *args: object) -> object:
    """A worker whose view of the dataset folder is another folder (no shared file system)."""
    return _make_shard(tools, elsewhere, *args)


def test_a_worker_that_sees_another_folder_is_caught_at_its_first_shard(
    tmp_path: Path, generation_inputs: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a shared file system the client cannot read what workers wrote: one clear error, nothing recorded."""
    folder, elsewhere = tmp_path / "data", tmp_path / "worker-local-disk"
    settings = GenerationSettings(count=4, seed=1, shard_size=2)
    monkeypatch.setattr(cluster, "make_shard", functools.partial(_make_shard_in, str(elsewhere)))
    with LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as local, Client(local) as in_process:
        with pytest.raises(
            FaceExplorerError,
            match=f"^{elsewhere}: the dataset folder does not exist on worker .*: "
            "every worker must see it at the same path as the client",
        ):
            run_generate(folder, generation_inputs, settings, scheduler=in_process)
        elsewhere.mkdir()
        with pytest.raises(FaceExplorerError, match="every worker must write to the dataset folder at this same path"):
            run_generate(folder, generation_inputs, settings, scheduler=in_process, overwrite=True)
    assert _recorded(folder) == []


def test_an_unreachable_scheduler_is_one_quick_error(
    tmp_path: Path, tiny_checkpoints: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import main

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 2)
    started = time.monotonic()
    status = main.main(
        [
            "generate",
            str(tmp_path / "data"),
            "--count",
            "4",
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--checkpoints",
            str(tiny_checkpoints),
            "--device",
            "cpu",
            "--quiet",
        ]
    )
    error = capsys.readouterr().err
    assert status == 2
    assert (
        error.startswith("error: cannot reach the Dask scheduler at 'tcp://127.0.0.1:9' within 2 s")
        and error.count("\n") == 1
    )
    assert time.monotonic() - started < 30  # the timeout is honoured (bounded loosely: the machine is shared)
    assert not (tmp_path / "data").exists()  # refused before the folder was made


def test_a_full_disk_on_a_worker_leaves_no_shard_that_looks_complete(
    small_disk: Path, generation_inputs: tuple, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = GenerationSettings(count=400, seed=3, shard_size=50)  # 8 shards of 183 kB on a 1 MB disk
    folder = small_disk / "data"
    monkeypatch.setattr(
        generation, "refuse_unaffordable", lambda *args, **kwargs: None
    )  # as if the estimate were wrong
    with pytest.raises(ExportError, match=f"^disk full while writing {folder}/"):
        run_generate(folder, generation_inputs, settings, scheduler=client)
    # How many shards were committed before the disk filled depends on timing, maybe none: what
    # holds whatever the timing is that every recorded shard is intact and the run is not complete.
    manifest = Manifest.read(folder / "manifest.json")
    assert set(manifest.intact_shards(folder)) == set(manifest.shards)
    assert not manifest.complete


def test_scheduler_local_from_the_command_line(
    tmp_path: Path, tiny_checkpoints: Path, capsys: pytest.CaptureFixture
) -> None:
    import main

    common = [
        "--count",
        "6",
        "--shard-size",
        "3",
        "--seed",
        "4",
        "--checkpoints",
        str(tiny_checkpoints),
        "--device",
        "cpu",
        "--quiet",
    ]
    assert main.main(["generate", str(tmp_path / "single"), *common]) == 0
    assert main.main(["generate", str(tmp_path / "local"), *common, "--scheduler", "local", "--workers", "1"]) == 0
    assert "Dask scheduler local" in capsys.readouterr().out
    assert dataset_bytes(tmp_path / "local") == dataset_bytes(tmp_path / "single")
    assert json.loads((tmp_path / "local" / "manifest.json").read_text())["last_run"]["scheduler"] == "local"
