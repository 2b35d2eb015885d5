"""Loads off the GUI thread: results come back on the GUI thread, and only the latest load counts."""

from __future__ import annotations

import threading

import pytest

from app.errors import FaceExplorerError
from widgets.background_loader import BackgroundLoader


@pytest.fixture
def loader(qtbot):
    loader = BackgroundLoader()
    yield loader
    loader.shut_down()


def gated(name: str, gate: threading.Event, threads: dict[str, int]):
    def work() -> str:
        threads[name] = threading.get_ident()
        gate.wait(30)  # bounded: a failing test must not hang the worker forever
        return name

    return work


def test_work_runs_on_a_worker_and_its_result_arrives_on_the_gui_thread(qtbot, loader):
    gate, threads, results, busy = threading.Event(), {}, [], []
    loader.busy_changed.connect(busy.append)
    loader.start(
        gated("a", gate, threads), lambda value: results.append((value, threading.get_ident())), results.append
    )
    assert loader.busy and busy == [True]
    qtbot.waitUntil(lambda: "a" in threads)
    assert threads["a"] != threading.get_ident()
    gate.set()
    qtbot.waitUntil(lambda: not loader.busy)
    assert results == [("a", threading.get_ident())] and busy == [True, False]


def test_a_later_load_makes_the_earlier_result_void(qtbot, loader):
    first, second, threads, results = threading.Event(), threading.Event(), {}, []
    loader.start(gated("first", first, threads), results.append, results.append)
    qtbot.waitUntil(lambda: "first" in threads)
    loader.start(gated("second", second, threads), results.append, results.append)
    qtbot.waitUntil(lambda: "second" in threads)  # both run at once: the latest never queues behind
    first.set()
    qtbot.wait(100)  # the first result arrives now, and is dropped
    assert loader.busy and results == []
    second.set()
    qtbot.waitUntil(lambda: not loader.busy)
    assert results == ["second"]


def test_a_user_error_goes_to_on_error_and_a_bug_is_raised(qtbot, loader):
    problems = []

    def refused() -> None:
        raise FaceExplorerError("broken.mat: not a MATLAB file")

    loader.start(refused, problems.append, problems.append)
    qtbot.waitUntil(lambda: not loader.busy)
    assert [str(problem) for problem in problems] == ["broken.mat: not a MATLAB file"]

    def buggy() -> None:
        raise KeyError("a bug")

    with qtbot.captureExceptions() as raised:
        loader.start(buggy, problems.append, problems.append)
        qtbot.waitUntil(lambda: not loader.busy)
    assert len(problems) == 1 and [kind for kind, *_ in raised] == [KeyError]


def test_shutting_down_waits_for_running_work_and_drops_its_result(qtbot, loader):
    gate, threads, results = threading.Event(), {}, []
    loader.start(gated("a", gate, threads), results.append, results.append)
    qtbot.waitUntil(lambda: "a" in threads)
    threading.Timer(0.1, gate.set).start()
    loader.shut_down()
    qtbot.wait(50)
    assert not loader.busy and results == []
