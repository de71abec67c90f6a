"""The one error tree of contentfab.

    ContentfabError
    ├── InputError                 bad user input; the CLI prints it as a clean message, exit 2
    │   ├── CampaignFileError      a campaign or catalog file is wrong (file, row, field, reason)
    │   ├── NotImplementedKindError  a campaign asks for something this build does not make yet
    │   ├── NotFoundError          a campaign, asset or model the user named does not exist
    │   ├── DoesNotFitError        edited copy breaks its channel's limits (the API says 422)
    │   ├── GatesFailedError       edited copy fails the copy gates (422; a forced edit may pass)
    │   └── MissingExtraError      this install lacks an optional dependency; names the extra
    ├── ModelError                 a model in the store is missing, invalid or fails to load
    │   └── ExportError            exporting or validating a model failed
    ├── GenerationError            a model step failed for one item (the job fails, not the chunk)
    └── TransientError             worth retrying: tasks retry these with backoff
        ├── DatabaseUnavailable    the SQL database could not be reached
        └── BrokerUnavailable      the message broker could not be reached

Infrastructure exceptions (SQLAlchemy's OperationalError, redis' ConnectionError) are wrapped
into the TransientError branch at the boundary where they happen, never deep inside workers.
"""

from __future__ import annotations

from dataclasses import dataclass


class ContentfabError(Exception):
    """Root of every error contentfab raises on purpose."""


class InputError(ContentfabError):
    """The user gave us something we cannot use. Nothing was changed."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file: where, and why."""

    file: str
    field: str
    reason: str
    row: int | None = None

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file}, row {self.row}"
        return f"{where}, field '{self.field}': {self.reason}"


class CampaignFileError(InputError):
    """One or more problems in a campaign file or its catalog, all reported at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = problems[:20]
        lines = [str(p) for p in shown]
        if len(problems) > len(shown):
            lines.append(f"... and {len(problems) - len(shown)} more problems")
        super().__init__(
            f"{len(problems)} problem(s) in the campaign input; nothing was stored:\n  "
            + "\n  ".join(lines)
        )


class NotImplementedKindError(InputError):
    """The campaign asks for a content kind or option this build does not produce yet."""


class NotFoundError(InputError):
    """A campaign, asset or model named by the user does not exist."""


class DoesNotFitError(InputError):
    """A text does not fit its channel: too long as that channel counts, a line break, too few
    or too many words."""


class GatesFailedError(InputError):
    """A reviewer's edit fails gates that generated copy must pass (an invented price, a banned
    term, a claim the product data does not back…). ``failures`` holds one reason per failing
    gate, each starting with the gate's name; an edit forced with a reason publishes anyway."""

    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        super().__init__(
            f"the edit fails {len(failures)} gate(s), nothing was changed: "
            + "; ".join(failures)
            + ". To publish it anyway, force the edit and say why."
        )


class MissingExtraError(InputError):
    """What a command or job needs is in one of contentfab's extras, not installed here: the
    message names the packages and the pip command that installs them (``core/extras.py``)."""

    def __init__(self, extra: str, missing: list[str], needed_by: str = "this command") -> None:
        self.extra = extra
        self.missing = missing
        super().__init__(
            f"{needed_by} needs {', '.join(missing)}, from contentfab's {extra!r} extra: "
            f"pip install 'contentfab[{extra}]'"
        )


class ModelError(ContentfabError):
    """A model in the store is missing, invalid or cannot be loaded."""


class ExportError(ModelError):
    """Exporting a model to ONNX, or validating the export, failed."""


class GenerationError(ContentfabError):
    """A model step failed for one item; its job fails, the rest of the chunk goes on."""


class TransientError(ContentfabError):
    """A failure worth retrying later (tasks retry these with exponential backoff)."""


class DatabaseUnavailable(TransientError):
    """The SQL database could not be reached or dropped the connection."""


class BrokerUnavailable(TransientError):
    """The message broker could not be reached."""
