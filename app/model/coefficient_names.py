"""One name per coefficient, said the same way in the explorer's rows, its history, errors and the command line.

Coefficients are numbered by their place in the coefficient vector, from 0, as in every file the
product reads or writes. A coefficient is "identity 12 (jaw width)": its kind, that number and the
model's name for the mode; a name that already starts with the kind ("identity PC 12", numbered
the same way) stands alone, and a mode the model does not name is "identity mode 12".
"""

from __future__ import annotations

from app.model.morphable_model import CoefficientKind, MorphableModel

KIND_WORDS = {"shape": "identity", "expression": "expression"}


def coefficient_label(model: MorphableModel, kind: CoefficientKind, index: int) -> str:
    """ "identity 3 (jaw width)", "identity PC 3" or "identity mode 3": the kind and the number always said."""
    word = KIND_WORDS[kind]
    name = model.names(kind)[index]
    if not name:
        return f"{word} mode {index}"
    return name if name.startswith(word) else f"{word} {index} ({name})"
