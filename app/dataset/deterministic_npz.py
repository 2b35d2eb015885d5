"""An .npz writer whose bytes depend only on the arrays: same arrays, same file.

``np.savez`` stamps every zip entry with the current time, so two runs of the same seeded
generation would differ byte for byte. Writing the zip ourselves with a fixed date and a fixed
entry order makes dataset shards reproducible to the byte (checkable with sha256sum), and
``np.load`` reads the result like any other .npz. The bytes are built in memory, so the writer
can check and digest exactly what it writes.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

import numpy as np

_FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold


def deterministic_npz(arrays: Mapping[str, np.ndarray | np.generic]) -> bytes:
    """``arrays`` (in the dict's order; numpy scalars become 0-d arrays) as the bytes of an uncompressed .npz."""
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_DATE)
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, buffer.getvalue())
    return content.getvalue()
