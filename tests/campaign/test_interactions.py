"""The interactions file: rows checked exactly, problems named by row and field."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from contentfab.campaign.interactions import (
    InteractionLog,
    _append_valid_row,
    _check_row,
    load_interactions,
)
from contentfab.core.errors import Problem

SKUS = {"p1", "p2"}
cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        ["", " ", "p1", " p2 ", "P1", "view", "CART ", "purchase", "buy", "u1", "u\n2",
         "1700000000", " 1.7e9 ", "2024-05-01T10:00:00Z", "2024-05-01", "nan", "inf", "-1",
         "0", "2.5", "1e7", "1_000", "x" * 201]
    ),
)  # fmt: skip


@given(st.fixed_dictionaries({}, optional={
    "user_id": cells, "product_id": cells, "event": cells, "timestamp": cells, "weight": cells
}))  # fmt: skip
def test_the_fast_path_accepts_exactly_what_the_full_check_accepts(raw):
    fast, full = InteractionLog(), InteractionLog()
    problems: list[Problem] = []
    accepted = _append_valid_row(raw, SKUS, fast)
    _check_row(raw, 2, "i.csv", SKUS, full, problems)
    if accepted:  # the fast path may decline a valid row (the full check then takes it)
        assert not problems and fast == full
    else:
        assert len(fast) == 0


def test_a_file_is_read_into_columns_and_bad_rows_are_named(tmp_path: Path):
    good = tmp_path / "good.csv"
    good.write_text(
        "user_id,product_id,event,timestamp,weight\n"
        "u1,p1,view,1700000000,\n"
        "u1,p2,Purchase,2023-11-14T22:13:20Z,2\n"
        "u2,p1,cart,1700000100.5,0.5\n"
    )
    problems: list[Problem] = []
    _, log = load_interactions(good, SKUS, problems)
    assert not problems and log is not None
    assert log.users == ["u1", "u1", "u2"] and log.events == ["view", "purchase", "cart"]
    assert log.timestamps == [1700000000.0, 1700000000.0, 1700000100.5]
    assert log.weights == [1.0, 2.0, 0.5] and log.user_ids() == ["u1", "u2"]
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "user_id,product_id,event,timestamp,weight\nu1,p9,view,1700000000,\nu1,p1,click,soon,-1\n"
    )
    problems = []
    _, log = load_interactions(bad, SKUS, problems)
    assert log is None
    assert {(p.row, p.field) for p in problems} == {
        (2, "product_id"), (3, "event"), (3, "timestamp"), (3, "weight")
    }  # fmt: skip


# Per column: mostly plain valid cells (repeated, so whole files are often valid), and the
# edge cases the row check decides on.
column_cells = {
    "user_id": st.sampled_from(
        ["u1", "u2", "ü", "1_0"] * 4 + [" u3", "", "x" * 201, "u\t4", "a,b", 'say "hi"', "r\r"]
    ),
    "product_id": st.sampled_from(["p1", "p2"] * 6 + [" p2 ", "P1", ""]),
    "event": st.sampled_from(["view", "cart", "purchase"] * 4 + ["CART ", "View", "buy", ""]),
    "timestamp": st.sampled_from(
        ["1700000000", " 1.7e9 ", "0", "1_700_000_000.5"] * 4
        + ["2024-05-01T10:00:00Z", "nan", "inf", "-1", "1e11", ""]
    ),
    "weight": st.sampled_from(
        ["", "1", "2.5", "1e6"] * 4 + ["1000001", "0", "nan", " ", "-inf", "1_000"]
    ),
}


@given(
    st.permutations(["user_id", "product_id", "event", "timestamp", "weight"]).flatmap(
        lambda header: st.tuples(
            st.sampled_from([header, [c for c in header if c != "weight"]]),
            st.lists(st.fixed_dictionaries(column_cells), min_size=1, max_size=4),
            st.sampled_from([0, 0, 0, -1, 1]),  # now and then a short or long row
            st.sampled_from(["\n", "\r\n"]),
        )
    )
)
@settings(deadline=None)  # a temporary file per example; the shared machine is often busy
def test_the_columnar_path_accepts_exactly_what_the_row_check_accepts(file):
    import csv
    import io
    import tempfile

    from contentfab.campaign.interactions import _plain_csv_columns

    header, records, ragged, line_end = file
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=line_end)
    writer.writerow(header)
    for i, record in enumerate(records):
        cells = [record[column] for column in header]
        if i == 0 and ragged:
            cells = cells[:-1] if ragged < 0 else [*cells, "x"]
        writer.writerow(cells)
    text = out.getvalue()
    columnar = _plain_csv_columns(text, SKUS)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "i.csv"
        path.write_bytes(text.encode())
        problems: list[Problem] = []
        _, by_rows = load_interactions(path, SKUS, problems)
    if columnar is not None:  # it may decline a valid file (the row check then takes it)
        assert not problems and by_rows == columnar


def test_the_columnar_path_takes_a_plain_file():
    from contentfab.campaign.interactions import _plain_csv_columns

    text = "event,user_id,timestamp,product_id\nview,u1,1700000000,p1\npurchase,u2,1.7e9,p2\n"
    log = _plain_csv_columns(text, SKUS)
    assert log == InteractionLog(
        ["u1", "u2"], ["p1", "p2"], ["view", "purchase"], [1.7e9, 1.7e9], [1.0, 1.0]
    )
    assert _plain_csv_columns(text.replace("\n", "\r\n"), SKUS) == log  # csv.writer's default
    assert _plain_csv_columns(text.replace("view", "View"), SKUS) is None  # row by row
