"""The one exception type a user ever sees.

Every problem caused by input (a wrong file, a shape mismatch, NaN values, an unwritable
path, a checkpoint for the other network) is raised as a ``FaceExplorerError`` with a single
sentence that names the thing and the problem. The CLI prints it and exits non-zero; the GUI
shows it in a dialog and keeps running. Anything else is a bug and keeps its traceback.
"""


class FaceExplorerError(Exception):
    """A problem with user input, explained in one message."""


class ModelFileError(FaceExplorerError):
    """A morphable-model file cannot be used."""


class DatasetError(FaceExplorerError):
    """Fitted-parameter data cannot be used."""


class CheckpointError(FaceExplorerError):
    """A network checkpoint cannot be used."""


class ExportError(FaceExplorerError):
    """A mesh or coefficient file cannot be written."""
