"""Error families. Each carries every problem at once; the CLI prints them and exits 2."""
from __future__ import annotations


class XnnError(Exception):
    """Base of all user-facing xnn errors (bad spec, bad data, bad file).

    ``messages`` holds one line per problem, already prefixed with its path or file.
    """

    exit_code = 2

    def __init__(self, messages: str | list[str], source: str | None = None):
        if isinstance(messages, str):
            messages = [messages]
        self.messages = list(messages)
        self.source = source
        super().__init__(self.__str__())

    def __str__(self) -> str:
        prefix = f"{self.source}: " if self.source else ""
        return "\n".join(prefix + m for m in self.messages)


class SpecError(XnnError):
    """A spec is malformed: unknown keys, bad values, shape mismatches between nodes."""


class DataError(XnnError):
    """A data file or array has the wrong shape, dtype, NaN, or cannot be read."""


class FormatError(XnnError):
    """A weights, checkpoint, ONNX or .mat file is corrupt, hostile or does not match its spec."""


class OutputError(XnnError):
    """An output cannot be written: it exists (and no flag allows replacing it), it is one of the
    inputs, its folder is read-only, or the disk is full. Nothing was changed."""


class TrainingError(XnnError):
    """Training cannot go on (NaN loss, dead worker); the last good checkpoint is kept."""

    exit_code = 1


class ParityError(XnnError):
    """Two paths disagree beyond their fixed tolerance."""

    exit_code = 1
