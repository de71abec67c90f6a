"""Reading a campaign's files within their size limits, and turning validation errors into
:class:`~contentfab.core.errors.Problem` lines (file, row, field, why)."""

from __future__ import annotations

import codecs
import typing
from collections.abc import Callable
from pathlib import Path

from pydantic import (
    BaseModel,
    ValidationError,
)

from contentfab.core.errors import CampaignFileError, Problem

if typing.TYPE_CHECKING:
    pass

from contentfab.campaign.spec import MAX_PROBLEMS


def _cap_note(problems: list[Problem], file: str) -> list[Problem]:
    if len(problems) < MAX_PROBLEMS:
        return []
    return [Problem(file, "(file)", f"stopped after {MAX_PROBLEMS} problems; fix these first")]


def _read(path: Path, limit: int) -> bytes:
    file = str(path)
    try:
        if not path.is_file():
            reason = "is not a file" if path.exists() else "no such file"
            raise CampaignFileError([Problem(file, "(file)", reason)])
        size = path.stat().st_size
        if size > limit:
            raise CampaignFileError([Problem(file, "(size)", _too_big(size, limit))])
        with path.open("rb") as handle:
            data = handle.read(limit + 1)  # the file may have grown since stat
    except OSError as exc:
        raise CampaignFileError(
            [Problem(file, "(file)", f"cannot read: {exc.strerror or exc}")]
        ) from None
    if len(data) > limit:
        raise CampaignFileError([Problem(file, "(size)", _too_big(len(data), limit))])
    return data


def _too_big(size: int, limit: int) -> str:
    return (
        f"the file has {size:,} bytes; the limit is {limit:,} bytes "
        "(split a large catalog into several campaigns)"
    )


def _decode(data: bytes, file: str) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CampaignFileError(
            [Problem(file, "(encoding)", "the file is UTF-16; save it as UTF-8", 1)]
        )
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        line = data.count(b"\n", 0, offset) + 1
        reason = (
            f"not UTF-8: byte 0x{data[offset]:02x} at byte offset {offset} (line {line}) "
            "cannot be decoded; save the file as UTF-8"
        )
        raise CampaignFileError([Problem(file, "(encoding)", reason, line)]) from None


LineOf = Callable[[tuple[int | str, ...]], int | None]


def _problems(
    error: ValidationError,
    file: str,
    model: type[BaseModel],
    line_of: LineOf = lambda loc: None,
    row: int | None = None,
) -> list[Problem]:
    problems = []
    for detail in error.errors(include_url=False):
        loc = detail["loc"]
        reason = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            known = _known_keys(model, loc[:-1])
            reason = "unknown key" + (f"; expected one of: {', '.join(known)}" if known else "")
        elif detail["type"] == "missing":
            reason = "required"
        field = ".".join(str(part) for part in loc) or "(campaign)"
        problems.append(Problem(file, field, reason, row if row is not None else line_of(loc)))
    return problems


def _known_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys allowed at ``loc`` inside ``model``, for 'unknown key' messages."""
    current: type[BaseModel] = model
    for part in loc:
        fields = {info.alias or name: info for name, info in current.model_fields.items()}
        if part not in fields:
            return []
        annotation = fields[str(part)].annotation
        nested = [
            arg
            for arg in (annotation, *typing.get_args(annotation))
            if isinstance(arg, type) and issubclass(arg, BaseModel)
        ]
        if not nested:
            return []
        current = nested[0]
    return [info.alias or name for name, info in current.model_fields.items()]
