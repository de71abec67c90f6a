"""Bad input through the real CLI: every rejection names file, row and field, exits non-zero,
and leaves 0 campaign rows and 0 broker messages. Hostile-but-valid text is stored verbatim
and neutralised on CSV export."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from contentfab.cli import app
from contentfab.db.models import Campaign, Product
from contentfab.db.session import configure
from tests.pipeline import environment, runner

HEADER = "id,title,description,category,price,currency,attributes,image\n"
GOOD_ROW = "SKU-1,Trail Mug,Enamel mug,Kitchen,12.50,EUR,color=red,\n"

# (column, bad value, words the message must contain)
BAD_VALUES = st.sampled_from(
    [
        ("price", "-5", "price"),
        ("price", "NaN", "price"),
        ("price", "1e400", "price"),
        ("price", "12,50", "price"),
        ("currency", "EURO", "currency"),
        ("currency", "", "currency"),  # a price needs a currency
        ("id", "", "id"),
        ("id", "bad\x07id", "id"),
        ("title", "", "title"),
        ("title", "x" * 1_000_000, "larger than field limit"),  # csv's own cap, named as such
        ("image", "../../etc/passwd", "image"),
        ("image", "/etc/passwd", "image"),
        ("attributes", "{not json", "attributes"),
    ]
)
COLUMNS = ["id", "title", "description", "category", "price", "currency", "attributes", "image"]


def _quote(value: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([value])
    return buffer.getvalue()


def _row(column: str, value: str) -> str:
    cells = dict(zip(COLUMNS, [*GOOD_ROW.strip().split(","), ""], strict=False))
    cells["id"] = "SKU-2"
    cells[column] = value
    return ",".join(_quote(cells[c]) for c in COLUMNS) + "\n"


def _counts(data: Path) -> tuple[int, int]:
    db = data / "contentfab.db"
    campaigns = 0
    if db.exists():
        sessions = configure(f"sqlite:///{db}")
        with sessions() as session:
            campaigns = session.scalar(select(func.count()).select_from(Campaign)) or 0
        sessions.kw["bind"].dispose()
    broker = data / "broker.db"
    messages = 0
    if broker.exists():
        with sqlite3.connect(broker) as connection:
            tables = {r[0] for r in connection.execute("select name from sqlite_master")}
            if "kombu_message" in tables:
                messages = connection.execute("select count(*) from kombu_message").fetchone()[0]
    return campaigns, messages


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(bad=BAD_VALUES, position=st.sampled_from(["first", "last"]), as_bytes=st.booleans())
def test_every_bad_catalog_is_refused_whole(
    tmp_path_factory, tiny_model_store, bad, position, as_bytes
):
    column, value, word = bad
    work = tmp_path_factory.mktemp("bad")
    rows = [GOOD_ROW, _row(column, value)]
    if position == "first":
        rows.reverse()
    text = HEADER + "".join(rows)
    catalog = work / "catalog.csv"
    if as_bytes:  # the same mistake in a file that is not UTF-8 at all
        catalog.write_bytes(text.encode("utf-8") + b"\xff\xfe broken tail\n")
    else:
        catalog.write_text(text, encoding="utf-8")
    (work / "campaign.yaml").write_text(
        "name: Fuzz\ncatalog: catalog.csv\ncopy:\n  channels: [email_subject]\n  model: tiny-llama\n"
    )
    data = work / "data"
    env = environment(
        work,
        tiny_model_store.root,
        f"sqlite:///{data / 'contentfab.db'}",
        f"sqla+sqlite:///{data / 'broker.db'}",
    )
    result = runner.invoke(app, ["enqueue", str(work / "campaign.yaml")], env=env)
    assert result.exit_code == 2, result.output
    assert "catalog.csv" in result.output and "Traceback" not in result.output
    assert word in result.output or (as_bytes and "UTF-8" in result.output)
    assert _counts(data) == (0, 0)


def test_hostile_but_valid_text_is_stored_verbatim_and_exported_safely(tmp_path, tiny_model_store):
    title = "Robert'); DROP TABLE product;-- Mug"
    formula = '=HYPERLINK("http://evil","x")'
    (tmp_path / "catalog.csv").write_text(
        HEADER + f"SKU-1,{_quote(title)},{_quote(formula)},Kitchen,12.50,EUR,,\n",
        encoding="utf-8",
    )
    (tmp_path / "campaign.yaml").write_text(
        "name: Hostile\ncatalog: catalog.csv\ncopy:\n  channels: [email_subject]\n"
        "  model: tiny-llama\n"
    )
    data = tmp_path / "data"
    db_url = f"sqlite:///{data / 'contentfab.db'}"
    env = environment(
        tmp_path, tiny_model_store.root, db_url, f"sqla+sqlite:///{data / 'broker.db'}"
    )
    result = runner.invoke(app, ["enqueue", str(tmp_path / "campaign.yaml")], env=env)
    assert result.exit_code == 0, result.output
    sessions = configure(db_url)
    with sessions() as session:
        product = session.scalars(select(Product)).one()
        assert product.title == title and product.description == formula
    assert _counts(data) == (1, 1)
