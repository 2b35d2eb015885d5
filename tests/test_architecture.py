"""The import-linter contracts in pyproject.toml: the core (app/) never imports Qt or the widgets,
and its packages form layers whose imports all point down."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from core_fixtures import REPO
from importlinter.cli import lint_imports


def run_contracts(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    previous = Path.cwd()
    os.chdir(root)  # import-linter finds the packages on sys.path relative to where it runs
    try:
        exit_code = lint_imports(config_filename=str(root / "pyproject.toml"), no_cache=True, no_logo=True)
    finally:
        os.chdir(previous)
    return exit_code, capsys.readouterr().out


def contracts_with_added_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, module: str, code: str
) -> tuple[int, str]:
    """The contracts on a copy of the tree where ``code`` is appended to the file of ``module``."""
    copy = tmp_path / "tree"
    for name in ("app", "widgets"):
        shutil.copytree(REPO / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", copy / "pyproject.toml")
    culprit = copy.joinpath(*module.split(".")).with_suffix(".py")
    culprit.write_text(culprit.read_text() + code)
    monkeypatch.syspath_prepend(str(copy))
    for name in [name for name in sys.modules if name == "app" or name.startswith(("app.", "widgets"))]:
        monkeypatch.delitem(sys.modules, name)  # analyse the copy, not the already imported tree
    return run_contracts(copy, capsys)


def test_the_core_imports_no_qt_and_no_widgets_and_its_layers_hold(capsys):
    exit_code, report = run_contracts(REPO, capsys)
    assert exit_code == 0, report
    assert "2 kept, 0 broken" in report


def test_the_contract_catches_a_qt_import_in_the_core(tmp_path, capsys, monkeypatch):
    """The same contract on a copy of the tree with one lazy Qt import added must break."""
    exit_code, report = contracts_with_added_code(
        tmp_path,
        capsys,
        monkeypatch,
        "app.model.sampling",
        "\n\ndef _show() -> None:\n    from PySide6.QtWidgets import QLabel  # noqa\n",
    )
    assert exit_code == 1, report
    assert "app.model.sampling -> PySide6" in report


@pytest.mark.parametrize("upper", ["app.explorer.face_state", "app.study.definition"])
def test_the_layers_catch_an_upward_import(tmp_path, capsys, monkeypatch, upper):
    """The model importing the explorer or a study (even lazily) breaks the layers, naming the import."""
    exit_code, report = contracts_with_added_code(
        tmp_path,
        capsys,
        monkeypatch,
        "app.model.sampling",
        f"\n\ndef _upward() -> None:\n    import {upper}  # noqa\n",
    )
    assert exit_code == 1, report
    assert "1 kept, 1 broken" in report
    assert f"app.model.sampling -> {upper}" in report
