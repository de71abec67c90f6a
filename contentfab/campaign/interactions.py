"""The interactions file of a ``recommendations`` section: read it, check every row, or refuse.

Columns (CSV with a header, or JSON lines with these keys): ``user_id``, ``product_id`` (the
catalog's ``id``), ``event`` (``view``, ``cart`` or ``purchase``), ``timestamp`` (seconds since
the epoch, or ISO 8601; without an offset it is UTC) and an optional positive ``weight``
(default 1). Problems name file, row and field exactly like the catalog's (the header is row 1
of a CSV). Parquet is refused with a message: reading it needs pyarrow, which contentfab does
not depend on.

Rows are checked with plain code rather than a pydantic model per row: a file has millions.
The result is columnar (:class:`InteractionLog`), for the same reason.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import repeat
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

import numpy as np

from contentfab.campaign.problems import _decode, _read
from contentfab.campaign.spec import MAX_PROBLEMS, MAX_RECOMMENDATION_SUBJECTS
from contentfab.core.errors import CampaignFileError, Problem

if TYPE_CHECKING:
    from contentfab.campaign.spec import RecommendationsRequest

INTERACTION_SUFFIXES = (".csv", ".jsonl", ".ndjson")
INTERACTION_COLUMNS = ("user_id", "product_id", "event", "timestamp", "weight")
REQUIRED_COLUMNS = INTERACTION_COLUMNS[:4]
EVENTS = ("view", "cart", "purchase")
MAX_INTERACTIONS_BYTES = 1 << 30
MAX_INTERACTIONS = 20_000_000
MAX_WEIGHT = 1e6


@dataclass
class InteractionLog:
    """Checked interactions as parallel columns; row ``i`` of each list is one event."""

    users: list[str] = field(default_factory=list)
    skus: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    timestamps: list[float] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.users)

    _user_ids: list[str] | None = field(default=None, repr=False, compare=False)
    _counted: int = field(default=0, repr=False, compare=False)

    def user_ids(self) -> list[str]:
        """Every user in the file, in order of first appearance (worked out once: a file has
        millions of rows and validation, job creation and storing all ask)."""
        if self._user_ids is None or len(self.users) != self._counted:
            self._user_ids = list(dict.fromkeys(self.users))
            self._counted = len(self.users)
        return self._user_ids


def interactions_reference(value: object) -> Path:
    if isinstance(value, PurePath):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a file name such as interactions.csv")
    text = value.strip()
    if text.lower().endswith(".parquet"):
        raise ValueError(
            "Parquet files need pyarrow, which contentfab does not install; "
            "export the interactions as CSV or JSON lines"
        )
    if not text.lower().endswith(INTERACTION_SUFFIXES):
        raise ValueError(f"must be a {', '.join(INTERACTION_SUFFIXES)} file, got {text!r}")
    return Path(text)


def load_interactions(
    path: Path, skus: set[str], problems: list[Problem]
) -> tuple[bytes, InteractionLog | None]:
    """The file's bytes and its rows; problems are appended (then the log is None)."""
    file = str(path)
    before = len(problems)
    try:
        data = _read(path, MAX_INTERACTIONS_BYTES)
        text = _decode(data, file)
    except CampaignFileError as exc:
        problems += exc.problems
        return b"", None
    is_csv = path.suffix.lower() == ".csv"
    plain = _plain_csv_columns(text, skus) if is_csv else None
    if plain is not None:
        return data, plain
    rows = _csv_rows(text, file, problems) if is_csv else _jsonl_rows(text, file, problems)
    log = InteractionLog()
    for row, raw in rows:
        if len(log) >= MAX_INTERACTIONS:
            problems.append(
                Problem(file, "(size)", f"more than {MAX_INTERACTIONS:,} interactions", row)
            )
            break
        if not _append_valid_row(raw, skus, log):
            _check_row(raw, row, file, skus, log, problems)
        if len(problems) - before >= MAX_PROBLEMS:
            break
    if not len(log) and len(problems) == before:
        problems.append(Problem(file, "(file)", "the interactions file has no rows"))
    return data, (log if len(problems) == before else None)


def check_subjects(
    request: RecommendationsRequest,
    log: InteractionLog | None,
    file: str,
    row: int | None,
    problems: list[Problem],
) -> None:

    if request.users == "all":
        users = len(log.user_ids()) if log is not None else 0
    elif request.users == "none":
        users = 0
    else:
        users = len(request.users)
    total = users + len(request.segments)
    if total > MAX_RECOMMENDATION_SUBJECTS:
        problems.append(
            Problem(
                file,
                "recommendations",
                f"asks for {total:,} lists (users + segments); at most "
                f"{MAX_RECOMMENDATION_SUBJECTS:,} per campaign",
                row,
            )
        )


_EVENT_SET = frozenset(EVENTS)


def _append_valid_row(raw: dict[str, object], skus: set[str], log: InteractionLog) -> bool:
    """The common case in a few operations: append a row that is plainly valid and say so.

    Anything else (an ISO time, a number id, a bad cell) returns False without appending, and
    :func:`_check_row` decides and explains. Accepts exactly what ``_check_row`` accepts.
    """
    user, sku, event = raw.get("user_id"), raw.get("product_id"), raw.get("event")
    if type(user) is not str or type(sku) is not str or type(event) is not str:
        return False
    user, sku, event = user.strip(), sku.strip(), event.strip().lower()
    if not user or len(user) > 200 or not user.isprintable():
        return False
    if sku not in skus or event not in _EVENT_SET:
        return False
    stamp, weight_cell = raw.get("timestamp"), raw.get("weight")
    if type(stamp) not in (str, int, float):
        return False
    try:
        seconds = float(stamp)  # type: ignore[arg-type]
        weight = 1.0 if weight_cell is None or weight_cell == "" else float(weight_cell)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    # NaN fails both comparisons; infinities fail the bounds.
    if type(weight_cell) is bool or not (0 <= seconds < 1e11 and 0 < weight <= MAX_WEIGHT):
        return False
    log.users.append(user)
    log.skus.append(sku)
    log.events.append(event)
    log.timestamps.append(seconds)
    log.weights.append(weight)
    return True


def _plain_csv_columns(text: str, skus: set[str]) -> InteractionLog | None:
    """The whole file as columns when every cell is plainly valid, checked column by column
    (each distinct user, product and event once, the numbers in bulk); None at the first
    doubt, and then the row-by-row check reads the file again, decides and names the problems.

    Accepts only what the row-by-row check accepts, giving the same log (property-tested): a
    file of millions of rows spent most of `run`'s set-up in per-row Python. Only files
    without quotes, and with carriage returns only in CRLF line ends, take this path: there
    the CSV reader splits lines and cells at line ends and delimiters and nothing else, so
    plain string splitting reads the same cells.
    """
    if '"' in text or "\0" in text:
        return None
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if len(lines) < 2:
        return None
    delimiter = max(",;\t", key=lines[0].count)
    header = [cell.strip().lower() for cell in lines[0].split(delimiter)]
    if len(set(header)) != len(header) or not (
        set(REQUIRED_COLUMNS) <= set(header) <= set(INTERACTION_COLUMNS)
    ):
        return None
    body = lines[1:]
    # Every line exactly as wide as the header: blank, short and long rows go row by row.
    if set(map(str.count, body, repeat(delimiter))) != {len(header) - 1}:
        return None
    cells = delimiter.join(body).split(delimiter)
    columns = [cells[i :: len(header)] for i in range(len(header))]
    named = dict(zip(header, columns, strict=True))
    users, products, events = named["user_id"], named["product_id"], named["event"]
    if not users or len(users) > MAX_INTERACTIONS:
        return None
    user_ids = list(dict.fromkeys(users))  # distinct, in order of first appearance
    for user in user_ids:
        if not user or user != user.strip() or len(user) > 200 or not user.isprintable():
            return None
    if not set(events) <= _EVENT_SET:
        return None
    for sku in set(products):
        if sku not in skus or sku != sku.strip():
            return None
    try:
        timestamps = list(map(float, named["timestamp"]))
        weight_cells = named.get("weight")
        weights = (
            [1.0] * len(users)
            if weight_cells is None
            else [1.0 if cell == "" else float(cell) for cell in weight_cells]
        )
    except ValueError:
        return None
    stamps, sizes = np.asarray(timestamps), np.asarray(weights)
    # NaN fails both comparisons; infinities fail the bounds.
    if (
        not ((stamps >= 0) & (stamps < 1e11)).all()
        or not ((sizes > 0) & (sizes <= MAX_WEIGHT)).all()
    ):
        return None
    return InteractionLog(
        users, products, events, timestamps, weights, _user_ids=user_ids, _counted=len(users)
    )


def _check_row(
    raw: dict[str, object],
    row: int,
    file: str,
    skus: set[str],
    log: InteractionLog,
    problems: list[Problem],
) -> None:
    found: list[Problem] = []

    def bad(name: str, reason: str) -> None:
        found.append(Problem(file, name, reason, row))

    user = _text(raw.get("user_id"))
    if not user:
        bad("user_id", "required")
    elif len(user) > 200 or not user.isprintable():
        bad("user_id", "must be one line of at most 200 characters")
    sku = _text(raw.get("product_id"))
    if not sku:
        bad("product_id", "required")
    elif sku not in skus:
        bad("product_id", f"{sku[:40]!r} is not an id in the catalog")
    event = _text(raw.get("event")).lower()
    if not event:
        bad("event", "required")
    elif event not in EVENTS:
        bad("event", f"{event[:20]!r} is not one of: {', '.join(EVENTS)}")
    timestamp = _timestamp(raw.get("timestamp"), bad)
    weight = _weight(raw.get("weight"), bad)
    if found:
        problems.extend(found)
        return
    log.users.append(user)
    log.skus.append(sku)
    log.events.append(event)
    log.timestamps.append(timestamp)
    log.weights.append(weight)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # JSON ids are often numbers
    return value.strip() if isinstance(value, str) else ""


def _timestamp(value: object, bad: object) -> float:
    assert callable(bad)
    if value is None or (isinstance(value, str) and not value.strip()):
        bad("timestamp", "required")
        return 0.0
    seconds: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            seconds = float(text)
        except ValueError:
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                bad(
                    "timestamp",
                    f"{text[:40]!r} is neither seconds since the epoch nor an ISO 8601 time",
                )
                return 0.0
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            seconds = moment.timestamp()
    if seconds is None or not math.isfinite(seconds) or not 0 <= seconds < 1e11:
        bad("timestamp", "must be a time after 1970 (seconds since the epoch or ISO 8601)")
        return 0.0
    return seconds


def _weight(value: object, bad: object) -> float:
    assert callable(bad)
    if value is None or (isinstance(value, str) and not value.strip()):
        return 1.0
    weight = math.nan
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            weight = float(value)
        except ValueError:
            weight = math.nan
    if not math.isfinite(weight) or not 0 < weight <= MAX_WEIGHT:
        bad("weight", f"must be a number above 0 and at most {MAX_WEIGHT:g}")
        return 1.0
    return weight


def _csv_rows(
    text: str, file: str, problems: list[Problem]
) -> Iterator[tuple[int, dict[str, object]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return
        columns = [cell.strip().lower() for cell in header]
        bad_header = False
        for position, column in enumerate(columns, start=1):
            if column not in INTERACTION_COLUMNS:
                reason = (
                    f"unknown column {column[:40]!r} (column {position}); "
                    f"expected: {', '.join(INTERACTION_COLUMNS)}"
                )
                problems.append(Problem(file, "(header)", reason, 1))
                bad_header = True
            elif columns.index(column) != position - 1:
                problems.append(Problem(file, "(header)", f"column {column!r} appears twice", 1))
                bad_header = True
        for required in REQUIRED_COLUMNS:
            if required not in columns:
                problems.append(Problem(file, "(header)", f"missing the {required!r} column", 1))
                bad_header = True
        if bad_header:
            return
        last_line = reader.line_num
        for cells in reader:
            row, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(columns):
                reason = f"the row has {len(cells)} cells but the header has {len(columns)}"
                problems.append(Problem(file, "(row)", reason, row))
                continue
            yield row, dict(zip(columns, cells, strict=False))
    except csv.Error as exc:
        problems.append(Problem(file, "(syntax)", f"not valid CSV: {exc}", reader.line_num))


def _jsonl_rows(
    text: str, file: str, problems: list[Problem]
) -> Iterator[tuple[int, dict[str, object]]]:
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as exc:
            problems.append(Problem(file, "(syntax)", f"not valid JSON: {exc}", number))
            continue
        if not isinstance(record, dict):
            problems.append(Problem(file, "(syntax)", "each line must be a JSON object", number))
            continue
        unknown = sorted(set(record) - set(INTERACTION_COLUMNS))
        if unknown:
            reason = f"unknown key {unknown[0][:40]!r}; expected: {', '.join(INTERACTION_COLUMNS)}"
            problems.append(Problem(file, "(row)", reason, number))
            continue
        yield number, record
