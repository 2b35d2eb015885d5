"""The core (app/) never imports Qt or the widgets: the import-linter contract in pyproject.toml."""

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


def test_the_core_imports_no_qt_and_no_widgets(capsys):
    exit_code, report = run_contracts(REPO, capsys)
    assert exit_code == 0, report
    assert "1 kept, 0 broken" in report


def test_the_contract_catches_a_qt_import_in_the_core(tmp_path, capsys, monkeypatch):
    """The same contract on a copy of the tree with one lazy Qt import added must break."""
    copy = tmp_path / "tree"
    for name in ("app", "widgets"):
        shutil.copytree(REPO / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", copy / "pyproject.toml")
    culprit = copy / "app" / "model" / "sampling.py"
    culprit.write_text(
        culprit.read_text() + "\n\ndef _show() -> None:\n    from PySide6.QtWidgets import QLabel  # noqa\n"
    )
    monkeypatch.syspath_prepend(str(copy))
    for module in [name for name in sys.modules if name == "app" or name.startswith(("app.", "widgets"))]:
        monkeypatch.delitem(sys.modules, module)  # analyse the copy, not the already imported tree
    exit_code, report = run_contracts(copy, capsys)
    assert exit_code == 1, report
    assert "app.model.sampling -> PySide6" in report
