"""The catalog's fast row check agrees with the pydantic model it stands in for.

`_fast_record` accepts a row only where `_CatalogRow` accepts it and makes the same record;
every other row goes to the model, whose problems are what users read (test_load.py holds
their wording). Here both run on the same generated rows; and `_plain_csv`, which checks a
whole CSV catalog a column at a time, against the row-by-row check of the same file.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from contentfab.campaign import CATALOG_COLUMNS, ProductRecord, catalog
from contentfab.campaign.catalog import _CatalogRow, _fast_record

# Text that sits on the edges of the rules: whitespace either side (ASCII and not), control,
# invisible and line-break characters, astral characters, blank cells, lengths at the limits.
EDGES = [
    "",
    " ",
    "\t",
    "\u00a0",
    "\u3000",
    "\x1c",
    "\x85",
    "\n",
    "\r\n",
    "\u200b",
    "\u202e",
    "\u200d",
    "\x00",
    "\x7f",
    "é",
    "😀",
    "a",
]
TEXT = st.one_of(
    st.lists(st.sampled_from(EDGES), max_size=6).map("".join),
    st.builds(
        lambda head, body, tail: head + body + tail,
        st.sampled_from(EDGES),
        st.text(min_size=0, max_size=12),
        st.sampled_from(EDGES),
    ),
    st.sampled_from(["x" * 99, "x" * 100, "x" * 101, "y" * 200, "y" * 201, "z" * 300, "z" * 301]),
    st.sampled_from(["d" * 5000, "d" * 5001, " " + "d" * 5000 + " "]),
)
PRICES = st.one_of(
    st.sampled_from(
        [
            "19.90",
            " 19.90 ",
            "-1",
            "1e3",
            "19,90",
            "$5",
            "0",
            "0.00001",
            "9999999999.9999",
            "10000000000",
            "",
            " ",
            "1.",
            ".5",
            "NaN",
            "١٢",
        ]
    ),
    st.integers(min_value=-5, max_value=10**11),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=None),
    st.booleans(),
    st.none(),
)
CURRENCIES = st.sampled_from(["USD", "usd", " eur ", "XXX", "US", "", " ", "\u00a0USD", None, 5])
ATTRIBUTES = st.one_of(
    st.sampled_from(
        [
            '{"color": "red"}',
            "color=red;size=2",
            "a=1;a=2",
            "{bad",
            "stock=0;ok=true",
            '{"n": 1e999}',
            "zip=01234",
            "",
            " ",
            "=x",
            "k=\u202e",
        ]
    ),
    st.dictionaries(
        st.text(max_size=5),
        st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.none()),
        max_size=3,
    ),
    st.integers(),
    st.none(),
)
IMAGES = st.sampled_from(
    ["photo.png", " photo.png ", "missing.png", "../outside.png", "", " ", "sub", None, 7]
)
IDS = st.one_of(
    TEXT,
    st.integers(min_value=-(10**120), max_value=10**120),
    st.booleans(),
    st.floats(),
    st.none(),
)


# Mostly valid values, so that many rows pass both checks and are compared field by field.
PLAIN = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=20)
USUAL = {
    "id": st.one_of(PLAIN, st.integers(min_value=0)),
    "title": PLAIN,
    "description": st.one_of(PLAIN, st.just("Line one.\nLine two.")),
    "category": PLAIN,
    "price": st.one_of(
        st.decimals(min_value=0, max_value=10**6, places=2).map(str),
        st.decimals(min_value=0, max_value=10**6, places=4),
        st.integers(min_value=0, max_value=10**9),
    ),
    "currency": st.sampled_from(["USD", "eur", " GBP", "JPY"]),
    "attributes": st.sampled_from(
        [
            '{"color": "red", "n": 2.5}',
            "capacity=2;season=3-season",
            "in_stock=true;stock=0",
            {"size": "M"},
        ]
    ),
    "image": st.just("photo.png"),
}
HOSTILE = {
    "id": IDS,
    "title": TEXT,
    "description": st.one_of(TEXT, st.none(), st.integers()),
    "category": st.one_of(TEXT, st.none()),
    "price": PRICES,
    "currency": CURRENCIES,
    "attributes": ATTRIBUTES,
    "image": IMAGES,
}


@st.composite
def rows(draw: st.DrawFn) -> dict[str, object]:
    row: dict[str, object] = {}
    for key in HOSTILE:
        given = draw(st.integers(0, 9))
        if given < 2:
            continue  # left out
        row[key] = draw(HOSTILE[key] if given < 4 else USUAL[key])
    if draw(st.integers(0, 19)) == 0:
        row["colour"] = "red"  # an unknown key
    return row


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("catalog").resolve()
    (folder / "photo.png").write_bytes(b"\x89PNG")
    (folder / "sub").mkdir()
    (folder.parent / "outside.png").write_bytes(b"\x89PNG")
    return folder


def model_record(raw: dict[str, object], catalog_dir: Path) -> ProductRecord | None:
    try:
        return _CatalogRow.model_validate(raw, context={"catalog_dir": catalog_dir}).record(3)
    except ValidationError:
        return None


def same(fast: ProductRecord, model: ProductRecord) -> None:
    assert fast == model
    for field in ("sku", "title", "description", "category", "price", "currency", "image"):
        # Equal is not enough for Decimal (19.90 == 19.9) and str subclasses: the same value.
        a, b = getattr(fast, field), getattr(model, field)
        assert (type(a), str(a)) == (type(b), str(b)), field
    assert [(k, type(v), v) for k, v in fast.attributes.items()] == [
        (k, type(v), v) for k, v in model.attributes.items()
    ]


@settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(raw=rows())
def test_fast_rows_accept_only_what_the_model_accepts_and_make_the_same_record(
    raw: dict[str, object], catalog_dir: Path
) -> None:
    fast = _fast_record(raw, 3, catalog_dir)
    if fast is None:
        return  # the model checks it, and words its problems
    model = model_record(raw, catalog_dir)
    assert model is not None, f"the fast check accepted a row the model refuses: {raw!r}"
    same(fast, model)


@pytest.mark.parametrize(
    "raw",
    [
        {
            "id": "T-1",
            "title": "Trailhead Tent",
            "description": "Two doors.",
            "category": "Camping",
            "price": "249.00",
            "currency": "USD",
            "attributes": "capacity=2;season=3-season",
        },
        {"id": "T-2", "title": "Alpine Bag"},
        {
            "id": 17,
            "title": " Mug ",
            "price": Decimal("3.5"),
            "currency": "eur",
            "attributes": {"color": "red", "stock": 0},
            "image": "photo.png",
        },
        {"id": "D-1", "title": "Desk", "description": "Line one.\nLine two.", "category": " "},
    ],
)
def test_the_rows_of_a_usual_catalog_take_the_fast_path(
    raw: dict[str, object], catalog_dir: Path
) -> None:
    fast = _fast_record(raw, 3, catalog_dir)
    model = model_record(raw, catalog_dir)
    assert fast is not None and model is not None
    same(fast, model)


def test_every_catalog_column_is_checked_by_the_fast_path() -> None:
    assert set(CATALOG_COLUMNS) == set(_CatalogRow.model_fields)


# --- whole CSV catalogs, checked a column at a time -----------------------------------------


def as_cell(value: object) -> str:
    return "" if value is None else str(value)


# USUAL as a CSV cell holds it: one line, attributes as text.
CSV_USUAL = {
    **USUAL,
    "description": PLAIN,
    "attributes": st.sampled_from(
        ['{"color": "red", "n": 2.5}', "capacity=2;season=3-season", "in_stock=true;stock=0", ""]
    ),
}


@st.composite
def csv_catalogs(draw: st.DrawFn) -> str:
    """A CSV catalog of a few rows: mostly plain, with the shapes the column check refuses
    (blank rows, quoted line breaks, short and long rows, ids twice, unknown columns)."""
    optional = draw(st.lists(st.sampled_from(CATALOG_COLUMNS[2:]), unique=True, max_size=6))
    columns = draw(st.permutations(["id", "title", *optional]))
    if draw(st.integers(0, 19)) == 0:
        columns.append("colour")
    records = []
    hostile = draw(st.booleans())  # else every cell is a usual one
    for _ in range(draw(st.integers(0, 5))):
        record = []
        for column in columns:
            strategy = CSV_USUAL.get(column, PLAIN)
            if hostile and draw(st.integers(0, 3)) == 0:
                strategy = HOSTILE.get(column, TEXT)
            record.append(as_cell(draw(strategy)))
        if draw(st.integers(0, 14)) == 0:
            record = record[: draw(st.integers(0, len(record)))] or [""]
        if draw(st.integers(0, 14)) == 0:
            record.append(draw(st.sampled_from(["", " ", "extra"])))
        records.append(record)
    if records and draw(st.integers(0, 9)) == 0:
        records.append(list(records[0]))  # an id twice
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    out = io.StringIO()
    writer = csv.writer(
        out, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))
    )
    writer.writerow([draw(st.sampled_from([c, c.upper(), f" {c} "])) for c in columns])
    writer.writerows(records)
    text = out.getvalue()
    if draw(st.integers(0, 9)) == 0:
        text += "\n"  # a blank line at the end
    return text


def row_by_row(text: str, path: Path) -> tuple[list[ProductRecord], list[object]]:
    problems: list[object] = []
    with patch.object(catalog, "_plain_csv", lambda text, folder: None):
        products = catalog._load_catalog(text.encode(), path, problems)  # type: ignore[arg-type]
    return products, problems


@settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=csv_catalogs())
def test_csv_columns_accept_only_what_the_rows_accept_and_make_the_same_records(
    text: str, catalog_dir: Path
) -> None:
    path = catalog_dir / "catalog.csv"
    columns = catalog._plain_csv(text, catalog_dir)
    event(f"by columns: {columns is not None}")
    if columns is None:
        return  # read row by row, which words the problems
    rows, problems = row_by_row(text, path)
    assert not problems, f"the column check accepted a catalog the rows refuse: {text!r}"
    assert len(columns) == len(rows)
    for fast, model in zip(columns, rows, strict=True):
        same(fast, model)
        assert fast.row == model.row


def test_a_usual_csv_catalog_is_checked_by_columns(catalog_dir: Path) -> None:
    text = (
        "id,title,description,category,price,currency,attributes,image\n"
        'T-1,Trailhead Tent,"Two doors, one vestibule.",Camping,249.00,usd,capacity=2,photo.png\n'
        "T-2, Alpine Bag ,,,,,,\n"
        'T-3,Mug,Tab\there.,Kitchen,3.5,EUR,"{""color"": ""red""}",\n'
    )
    columns = catalog._plain_csv(text, catalog_dir)
    rows, problems = row_by_row(text, catalog_dir / "catalog.csv")
    assert columns is not None and not problems
    assert [p.row for p in columns] == [2, 3, 4]
    for fast, model in zip(columns, rows, strict=True):
        same(fast, model)
