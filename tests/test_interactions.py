"""The interactions file: rows checked exactly, problems named by row and field."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from contentfab.errors import Problem
from contentfab.interactions import (
    InteractionLog,
    _append_valid_row,
    _check_row,
    load_interactions,
)

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
