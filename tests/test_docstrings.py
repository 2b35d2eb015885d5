"""Module docstrings in app/ and widgets/ say what a module is and what it guarantees, in 12 lines at most.

Background and history belong in function or class docstrings, the README or the commit message.
"""

from __future__ import annotations

import ast

from core_fixtures import REPO

MAX_LINES = 12  # the whole docstring as written, its opening and closing quotes included


def long_module_docstrings() -> list[str]:
    """``path: N lines`` for every module docstring in app/ and widgets/ longer than ``MAX_LINES``."""
    offenders = []
    for folder in ("app", "widgets"):
        for path in sorted((REPO / folder).rglob("*.py")):
            module = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            if ast.get_docstring(module) is None:
                continue
            docstring = module.body[0]
            lines = (docstring.end_lineno or docstring.lineno) - docstring.lineno + 1
            if lines > MAX_LINES:
                offenders.append(f"{path.relative_to(REPO)}: {lines} lines")
    return offenders


def test_module_docstrings_are_at_most_twelve_lines() -> None:
    offenders = long_module_docstrings()
    assert not offenders, f"module docstrings over {MAX_LINES} lines:\n" + "\n".join(offenders)
