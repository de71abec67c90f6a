"""Catalog files: CSV or JSON-lines products read row by row into :class:`ProductRecord`
(checked in :mod:`contentfab.campaign.catalog_rows`); every problem found at once, numbered by
the line an editor shows."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from contentfab.campaign.catalog_rows import (
    _ASCII_SPACE,
    _ROW_KEYS,
    ProductRecord,
    _CatalogRow,
    _fast_record,
    _parse_attributes,
    _refuse_constant,
    _resolve_image,
)
from contentfab.campaign.problems import _decode, _problems, _read
from contentfab.campaign.spec import (
    CATALOG_COLUMNS,
    MAX_PRICE,
    MAX_PRICE_DECIMALS,
    MAX_PROBLEMS,
    MAX_PRODUCTS,
    AttributeValue,
)
from contentfab.core.characters import forbidden_character
from contentfab.core.errors import CampaignFileError, Problem
from contentfab.core.money import ISO_4217

__all__ = [
    "ProductRecord",
    "_CatalogRow",
    "_fast_record",
    "_load_catalog",
    "_refuse_constant",
    "read_catalog",
]


def read_catalog(path: Path, limit: int) -> tuple[bytes, list[ProductRecord]]:
    """A catalog file on its own (not through a campaign): its bytes and its products;
    CampaignFileError with every problem when it is unreadable, over ``limit`` bytes or has a
    bad row."""
    data = _read(path, limit)
    problems: list[Problem] = []
    products = _load_catalog(data, path, problems)
    if problems:
        raise CampaignFileError(problems)
    return data, products


def _load_catalog(data: bytes, path: Path, problems: list[Problem]) -> list[ProductRecord]:
    """Check every row of a catalog, appending problems; the products are only whole if none."""
    file = str(path)
    try:
        text = _decode(data, file)
    except CampaignFileError as exc:
        problems += exc.problems
        return []
    catalog_dir = path.parent.resolve()
    if path.suffix.lower() == ".csv":
        if (plain := _plain_csv(text, catalog_dir)) is not None:
            return plain
        rows = _csv_rows(text, file, problems)
    else:
        rows = _jsonl_rows(text, file, problems)

    products: list[ProductRecord] = []
    first_row_of: dict[str, int] = {}
    context = {"catalog_dir": catalog_dir}
    count = 0
    for row, raw in rows:
        count += 1
        if count > MAX_PRODUCTS:
            reason = f"more than {MAX_PRODUCTS:,} products; split the catalog"
            problems.append(Problem(file, "(size)", reason, row))
            break
        product = _fast_record(raw, row, catalog_dir)
        try:
            if product is None:
                product = _CatalogRow.model_validate(raw, context=context).record(row)
        except ValidationError as exc:
            problems += _problems(exc, file, _CatalogRow, row=row)
        else:
            if product.sku in first_row_of:
                first = first_row_of[product.sku]
                reason = f"duplicate id {product.sku!r}; first used on row {first}"
                problems.append(Problem(file, "id", reason, row))
            else:
                first_row_of[product.sku] = row
                products.append(product)
        if len(problems) >= MAX_PROBLEMS:
            break
    if count == 0 and not problems:
        problems.append(Problem(file, "(file)", "the catalog has no products"))
    return products


def _jsonl_rows(
    text: str, file: str, problems: list[Problem]
) -> Iterator[tuple[int, Mapping[str, object]]]:
    # Split on newlines only: str.splitlines() would also split inside JSON strings at U+2028.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        twice = _KeysGivenTwice()
        try:
            record = json.loads(
                line, parse_float=Decimal, parse_constant=_refuse_constant, object_pairs_hook=twice
            )
        except json.JSONDecodeError as exc:
            problems.append(Problem(file, "(syntax)", f"not valid JSON: {exc.msg}", number))
            continue
        except (ValueError, RecursionError) as exc:
            problems.append(Problem(file, "(syntax)", f"not valid JSON: {exc}", number))
            continue
        if not isinstance(record, dict):
            problems.append(Problem(file, "(syntax)", "each line must be a JSON object", number))
            continue
        if twice.found:
            problems += [Problem(file, field, reason, number) for field, reason in twice.found]
            continue
        yield number, record


class _KeysGivenTwice:
    """A ``json.loads`` object hook that notes keys given twice in a record or in an object
    inside it (the record is the last object the decoder closes)."""

    def __init__(self) -> None:
        self.objects = 0
        self.nested: list[str] = []
        self.found: list[tuple[str, str]] = []

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        self.objects += 1
        mapping: dict[str, Any] = {}
        twice = []
        for key, value in pairs:
            if key in mapping:
                twice.append(key)
            mapping[key] = value
        # Until a later object closes, this one may be the record itself.
        self.found = [(key, "given twice") for key in twice]
        self.found += [("attributes", f"{key!r} is given twice") for key in self.nested]
        self.nested += twice
        return mapping


def _csv_rows(
    text: str, file: str, problems: list[Problem]
) -> Iterator[tuple[int, Mapping[str, object]]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)  # spreadsheets in some locales use ';'
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return
        columns = [cell.strip().lower() for cell in header]
        if not _header_ok(columns, file, problems):
            return
        last_line = reader.line_num
        for cells in reader:
            row, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(columns) and any(cell.strip() for cell in cells[len(columns) :]):
                reason = f"the row has {len(cells)} cells but the header has {len(columns)}"
                problems.append(Problem(file, "(row)", reason, row))
                continue
            yield (
                row,
                {
                    column: cell
                    for column, cell in zip(columns, cells, strict=False)
                    if cell.strip()
                },
            )
    except csv.Error as exc:
        problems.append(Problem(file, "(syntax)", f"not valid CSV: {exc}", reader.line_num))


# A price as _parse_price accepts one from a CSV cell (digits, at most MAX_PRICE_DECIMALS
# decimals), any number of them each on its own line.
_PRICE = rf"[0-9]+(?:\.[0-9]{{1,{MAX_PRICE_DECIMALS}}})?"
_PRICE_LINES = re.compile(rf"{_PRICE}(?:\n{_PRICE})*")


def _plain_csv(text: str, catalog_dir: Path) -> list[ProductRecord] | None:
    """The products of a CSV catalog checked a column at a time, or None where the file or any
    cell is one this cannot accept; the row-by-row check then reads it and words the problems.

    The rules are :func:`_fast_record`'s, applied to whole columns (a column's text is checked
    for forbidden characters in one search, its prices with one regex): 100,000 rows took
    ~1 s row by row. Only the plainest shape is taken: a header of known columns with id and
    title, every record on one line (so a record's row is its line), as many cells as the
    header, no blank row, no id twice. tests/campaign/test_catalog_rows.py holds the
    records to those of the row-by-row check.
    """
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)  # as _csv_rows chooses it
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        records = list(reader)
    except csv.Error:
        return None
    count = len(records)
    if header is None or not 0 < count <= MAX_PRODUCTS or reader.line_num != count + 1:
        return None  # a quoted line break or a blank line: rows are no longer line numbers
    names = [cell.strip().lower() for cell in header]
    if len(set(names)) != len(names) or not _ROW_KEYS.issuperset(names):
        return None
    if {"id", "title"} - set(names) or set(map(len, records)) != {len(names)}:
        return None
    cells = dict(zip(names, zip(*records, strict=True), strict=True))
    skus = _text_column(cells["id"], 1, 100, newlines=False)
    titles = _text_column(cells["title"], 1, 300, newlines=False)
    if skus is None or titles is None or len(set(skus)) != count:
        return None
    descriptions: list[str] | None = [""] * count
    if "description" in cells:
        descriptions = _text_column(cells["description"], 0, 5000, newlines=True)
    categories: list[str | None] | None = [None] * count
    if "category" in cells:
        texts = _text_column(cells["category"], 0, 200, newlines=False)
        categories = None if texts is None else [text or None for text in texts]
    if descriptions is None or categories is None:
        return None
    prices: list[Decimal | None] = [None] * count
    if "price" in cells:
        texts = [cell.strip() for cell in cells["price"]]
        given = [text for text in texts if text]
        # No cell holds a line break (every record is on one line), so one line is one price.
        if given and not _PRICE_LINES.fullmatch("\n".join(given)):
            return None
        prices = [Decimal(text) if text else None for text in texts]
        if given and max(price for price in prices if price is not None) >= MAX_PRICE:
            return None
    currencies: list[str | None] = [None] * count
    if "currency" in cells:
        currencies = [cell.strip().upper() or None for cell in cells["currency"]]
        if not ISO_4217.issuperset(set(currencies) - {None}):
            return None
    if any(
        price is not None and code is None for price, code in zip(prices, currencies, strict=True)
    ):
        return None
    attributes: list[dict[str, AttributeValue]] = [{} for _ in range(count)]
    images: list[Path | None] = [None] * count
    try:
        if "attributes" in cells:
            attributes = [_parse_attributes(c) if c.strip() else {} for c in cells["attributes"]]
        if "image" in cells:
            images = [_resolve_image(c, catalog_dir) if c.strip() else None for c in cells["image"]]
    except ValueError:
        return None
    return list(
        map(
            ProductRecord,
            range(2, count + 2),
            skus,
            titles,
            descriptions,
            categories,
            prices,
            currencies,
            attributes,
            images,
        )
    )


def _text_column(
    cells: Sequence[str], shortest: int, longest: int, *, newlines: bool
) -> list[str] | None:
    """:func:`_fast_text` over a column of cells (a blank cell is ""), or None if it refuses
    any of them."""
    texts = [cell.strip(_ASCII_SPACE) for cell in cells]
    if texts != [text.strip() for text in texts]:  # other whitespace at an end
        return None
    lengths = list(map(len, texts))
    if min(lengths) < shortest or max(lengths) > longest:
        return None
    # A space joins the cells: it is allowed in every field and ends no forbidden sequence.
    if forbidden_character(" ".join(texts), newlines=newlines) is not None:
        return None
    return texts


def _header_ok(columns: list[str], file: str, problems: list[Problem]) -> bool:
    before = len(problems)
    for position, column in enumerate(columns, start=1):
        if not column:
            reason = f"column {position} has no name"
        elif column not in CATALOG_COLUMNS:
            reason = f"unknown column {column[:40]!r}; expected: {', '.join(CATALOG_COLUMNS)}"
        elif columns.index(column) != position - 1:
            reason = f"column {column!r} appears twice"
        else:
            continue
        problems.append(Problem(file, "(header)", reason, 1))
    for required in ("id", "title"):
        if required not in columns:
            problems.append(Problem(file, "(header)", f"missing the {required!r} column", 1))
    return len(problems) == before
