"""Campaign files and catalogs: what loads, and that every problem names file, row and field."""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import contentfab
from contentfab import campaign as campaign_module
from contentfab.campaign import CampaignSpec, CopyRequest, LoadedCampaign, load_campaign
from contentfab.campaign import catalog as campaign_catalog
from contentfab.campaign import load as campaign_load
from contentfab.core.channels import CHANNELS
from contentfab.core.errors import CampaignFileError, Problem

DATA = Path(__file__).parents[1] / "data"
EXAMPLES = Path(contentfab.__file__).parent / "examples"

CAMPAIGN = """\
name: Spring launch 2026
catalog: {catalog}
brand:
  name: Northwind Outfitters
  voice: warm, confident, no hype
copy:
  channels: [email_subject, product_description]
  tones: [energetic, premium]
  variants: 2
"""

CATALOG = """\
id,title,description,category,price,currency,attributes
T-1,Trailhead Tent,Two doors.,Camping,249.00,USD,capacity=2;season=3-season
T-2,Alpine Bag,,Camping,,,
"""


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def campaign_with(folder: Path, catalog_name: str, catalog: str | bytes) -> Path:
    write(folder, catalog_name, catalog)
    return write(folder, "campaign.yaml", CAMPAIGN.format(catalog=catalog_name))


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(CampaignFileError) as caught:
        load_campaign(path)
    return caught.value.problems


def where(problems: list[Problem]) -> set[tuple[str, int | None, str]]:
    return {(Path(p.file).name, p.row, p.field) for p in problems}


# --- what loads --------------------------------------------------------------------------------


def test_bundled_example_loads() -> None:
    loaded = load_campaign(EXAMPLES / "campaign.yaml")
    assert isinstance(loaded, LoadedCampaign)
    assert len(loaded.products) == 8
    assert loaded.catalog_path == EXAMPLES / "catalog.csv"
    request = loaded.spec.copy_request
    assert request is not None
    assert request.channels == ["email_subject", "product_description"]
    assert (request.tones, request.variants, request.candidates) == (["energetic"], 1, 4)
    assert any(p.price is None for p in loaded.products)
    assert len({p.currency for p in loaded.products if p.currency}) >= 2
    assert any(not p.title.isascii() for p in loaded.products)
    assert len(loaded.content_sha256) == 64


def test_catalog_of_200_varied_products_loads(tmp_path: Path) -> None:
    text = (DATA / "catalog_200.csv").read_text(encoding="utf-8")
    loaded = load_campaign(campaign_with(tmp_path, "catalog.csv", text))
    products = loaded.products
    assert len(products) == 200
    assert len({p.sku for p in products}) == 200
    assert len({p.currency for p in products if p.currency}) >= 5
    assert any(p.price is None for p in products)
    assert any(len(p.title) > 200 for p in products)
    assert any(not p.title.isascii() for p in products)
    assert any("\n" in p.description for p in products)
    # Row numbers are file lines; a multi-line description shifts the rows after it.
    lines = text.split("\n")
    for product in products:
        assert lines[product.row - 1].startswith(product.sku + ",")


def test_csv_values_are_parsed_and_stripped(tmp_path: Path) -> None:
    catalog = (
        "id , Title ,price,currency,attributes\n"
        '  T-1  ,"  Tent  ", 19.99 , eur ,"{""w"": 1.5, ""ok"": true, ""n"": 3}"\n'
        "T-2,=SUM(A1),0,JPY,a=1; b = two ;\n"
    )
    first, second = load_campaign(campaign_with(tmp_path, "catalog.csv", catalog)).products
    assert (first.row, first.sku, first.title) == (2, "T-1", "Tent")
    assert (first.price, first.currency) == (Decimal("19.99"), "EUR")
    assert first.attributes == {"w": 1.5, "ok": True, "n": 3}
    assert first.description == "" and first.category is None and first.image is None
    assert second.title == "=SUM(A1)"  # formula-like text is kept as text here
    assert second.attributes == {"a": 1, "b": "two"}  # key=value means what JSON would


def test_semicolon_csv_and_byte_order_mark_are_accepted(tmp_path: Path) -> None:
    catalog = "\ufeffid;title;price;currency\nT-1;Tent;1.50;EUR\n".encode()
    (product,) = load_campaign(campaign_with(tmp_path, "catalog.csv", catalog)).products
    assert (product.sku, product.price) == ("T-1", Decimal("1.50"))


def test_jsonl_catalog(tmp_path: Path) -> None:
    lines = [
        {
            "id": "J-1",
            "title": "Tent",
            "price": 19.99,
            "currency": "EUR",
            "attributes": {"color": "red", "size": 42, "organic": True, "kg": 1.25},
        },
        {"id": 1002, "title": "Mug set", "description": "Four mugs.\nEnamel."},
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\n\n"
    for suffix in (".jsonl", ".ndjson"):
        first, second = load_campaign(campaign_with(tmp_path, f"c{suffix}", text)).products
        assert (first.row, first.price, first.currency) == (1, Decimal("19.99"), "EUR")
        assert first.attributes == {"color": "red", "size": 42, "organic": True, "kg": 1.25}
        assert (second.row, second.sku, second.price) == (2, "1002", None)


def test_yaml_and_json_campaign_files_mean_the_same(tmp_path: Path) -> None:
    write(tmp_path, "catalog.csv", CATALOG)
    as_yaml = write(tmp_path, "c.yaml", CAMPAIGN.format(catalog="catalog.csv"))
    as_json = write(
        tmp_path, "c.json", json.dumps(yaml.safe_load(CAMPAIGN.format(catalog="catalog.csv")))
    )
    from_yaml, from_json = load_campaign(as_yaml), load_campaign(as_json)
    assert from_yaml.spec == from_json.spec
    assert from_yaml.products == from_json.products
    assert from_yaml.content_sha256 != from_json.content_sha256  # different file bytes


def test_copy_section_defaults_and_alias(tmp_path: Path) -> None:
    write(tmp_path, "catalog.csv", CATALOG)
    path = write(tmp_path, "c.yml", "name: x\ncatalog: catalog.csv\ncopy:\n  channels: [sms]\n")
    spec = load_campaign(path).spec
    request = spec.copy_request
    assert request is not None
    assert (request.tones, request.variants, request.model) == (["neutral"], 1, None)
    assert request.variants_per_product == 1
    assert spec.model_dump(by_alias=True)["copy"]["channels"] == ["sms"]
    assert callable(spec.copy)  # the alias leaves BaseModel.copy alone
    assert CampaignSpec.model_validate(spec.model_dump(by_alias=True)) == spec


def test_content_hash_follows_the_catalog_bytes(tmp_path: Path) -> None:
    path = campaign_with(tmp_path, "catalog.csv", CATALOG)
    before = load_campaign(path).content_sha256
    assert load_campaign(path).content_sha256 == before
    write(tmp_path, "catalog.csv", CATALOG.replace("249.00", "239.00"))
    assert load_campaign(path).content_sha256 != before


# --- catalog problems --------------------------------------------------------------------------


def test_every_broken_csv_row_is_reported_with_row_and_field(tmp_path: Path) -> None:
    text = (DATA / "broken_many.csv").read_text(encoding="utf-8")
    problems = problems_of(campaign_with(tmp_path, "broken_many.csv", text))
    assert where(problems) == {
        ("broken_many.csv", 3, "price"),
        ("broken_many.csv", 4, "price"),
        ("broken_many.csv", 5, "currency"),
        ("broken_many.csv", 6, "currency"),
        ("broken_many.csv", 7, "id"),
        ("broken_many.csv", 8, "title"),
        ("broken_many.csv", 9, "id"),
        ("broken_many.csv", 10, "attributes"),
        ("broken_many.csv", 11, "image"),
        ("broken_many.csv", 12, "price"),
        ("broken_many.csv", 13, "price"),
    }
    reasons = {p.row: p.reason for p in problems}
    assert "negative" in reasons[4]
    assert "required when a price is given" in reasons[5]
    assert "ISO 4217" in reasons[6]
    assert "first used on row 2" in reasons[9]
    assert "outside the catalog's folder" in reasons[11]
    message = str(problems_of(campaign_with(tmp_path, "broken_many.csv", text))[0])
    assert "broken_many.csv, row 3, field 'price'" in message


def test_every_broken_jsonl_line_is_reported(tmp_path: Path) -> None:
    text = (DATA / "broken.jsonl").read_text(encoding="utf-8")
    problems = problems_of(campaign_with(tmp_path, "broken.jsonl", text))
    assert where(problems) == {
        ("broken.jsonl", 2, "price"),
        ("broken.jsonl", 3, "(syntax)"),
        ("broken.jsonl", 4, "attributes"),
        ("broken.jsonl", 5, "(syntax)"),
        ("broken.jsonl", 6, "colour"),
    }
    unknown = next(p for p in problems if p.field == "colour")
    assert "unknown key" in unknown.reason and "attributes" in unknown.reason


@pytest.mark.parametrize(
    ("price", "reason"),
    [
        ("1,299.00", "is not a price"),
        ("$5", "is not a price"),
        ("1e3", "is not a price"),
        ("-0.01", "negative"),
        ("nan", "is not a price"),
        ("inf", "is not a price"),
        ("1.23456", "decimal places"),
        ("10000000000", "less than"),
        ("٣", "is not a price"),  # Arabic-Indic digit: Decimal() would take it
    ],
)
def test_bad_prices(tmp_path: Path, price: str, reason: str) -> None:
    catalog = f"id,title,price,currency\nT-1,Tent,{price!r},USD\n".replace("'", '"')
    (problem,) = problems_of(campaign_with(tmp_path, "catalog.csv", catalog))
    assert (problem.row, problem.field) == (2, "price")
    assert reason in problem.reason


@pytest.mark.parametrize(
    ("price", "expected"),
    [("19.99", "19.99"), (" 0 ", "0"), ("9999999999.9999", "9999999999.9999"), ("007.5", "7.5")],
)
def test_good_prices(tmp_path: Path, price: str, expected: str) -> None:
    catalog = f"id,title,price,currency\nT-1,Tent,{price},USD\n"
    (product,) = load_campaign(campaign_with(tmp_path, "catalog.csv", catalog)).products
    assert product.price == Decimal(expected)


@pytest.mark.parametrize(
    "value",
    ['{"n": 1e999}', '{"n": [1, 2]}', '{"": 1}', '{"n": null}', '"not an object"', '"color red"'],
)
def test_bad_jsonl_attributes(tmp_path: Path, value: str) -> None:
    line = '{"id": "J-1", "title": "Tent", "attributes": ' + value + "}"
    (problem,) = problems_of(campaign_with(tmp_path, "c.jsonl", line))
    assert (problem.row, problem.field) == (1, "attributes")


def test_nan_is_not_json(tmp_path: Path) -> None:
    line = '{"id": "J-1", "title": "Tent", "price": NaN, "currency": "EUR"}'
    (problem,) = problems_of(campaign_with(tmp_path, "c.jsonl", line))
    assert (problem.row, problem.field) == (1, "(syntax)") and "NaN" in problem.reason


@pytest.mark.parametrize("image", ["../../etc/passwd", "/etc/passwd", "img/../../outside.png"])
def test_image_paths_outside_the_catalog_folder_are_rejected(tmp_path: Path, image: str) -> None:
    write(tmp_path, "outside.png", b"\x89PNG")
    catalog = f"id,title,image\nT-1,Tent,{image}\n"
    (problem,) = problems_of(campaign_with(tmp_path / "shop", "catalog.csv", catalog))
    assert (problem.row, problem.field) == (2, "image")
    assert "outside the catalog's folder" in problem.reason


def test_image_symlink_leading_out_is_rejected(tmp_path: Path) -> None:
    write(tmp_path, "secret.txt", "secret")
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "link.png").symlink_to(tmp_path / "secret.txt")
    catalog = "id,title,image\nT-1,Tent,link.png\n"
    (problem,) = problems_of(campaign_with(tmp_path / "shop", "catalog.csv", catalog))
    assert problem.field == "image" and "outside" in problem.reason


def test_images_inside_the_catalog_folder_resolve(tmp_path: Path) -> None:
    image = write(tmp_path, "img/tent.png", b"\x89PNG")
    catalog = "id,title,image\nT-1,Tent,img/tent.png\nT-2,Missing,img/none.png\n"
    (problem,) = problems_of(campaign_with(tmp_path, "catalog.csv", catalog))
    assert (problem.row, problem.field) == (3, "image") and "no such file" in problem.reason
    write(tmp_path, "catalog.csv", "id,title,image\nT-1,Tent,img/tent.png\n")
    (product,) = load_campaign(tmp_path / "campaign.yaml").products
    assert product.image == image.resolve()


def test_non_utf8_catalog_names_the_byte_and_line(tmp_path: Path) -> None:
    data = (DATA / "latin1.csv").read_bytes()
    (problem,) = problems_of(campaign_with(tmp_path, "latin1.csv", data))
    assert (Path(problem.file).name, problem.row, problem.field) == ("latin1.csv", 3, "(encoding)")
    offset = data.index(b"\xe9")
    assert f"byte offset {offset}" in problem.reason
    assert "0xe9" in problem.reason


def test_non_utf8_campaign_file(tmp_path: Path) -> None:
    write(tmp_path, "catalog.csv", CATALOG)
    path = write(
        tmp_path, "c.yaml", "name: Caf\xe9 launch\ncatalog: catalog.csv\n".encode("latin-1")
    )
    (problem,) = problems_of(path)
    assert (problem.file, problem.row, problem.field) == (str(path), 1, "(encoding)")


@pytest.mark.parametrize(
    ("catalog", "field"),
    [
        ("", "(file)"),
        ("id,title\n", "(file)"),
        ("id,title\n\n,,\n", "(file)"),
        ("sku,title\nT-1,Tent\n", "(header)"),
        ("id,title,title\nT-1,Tent,Tent\n", "(header)"),
        ('id,title\nT-1,"unterminated\n', "(syntax)"),
        ("id,title\nT-1,Tent,extra\n", "(row)"),
        ("id,title\nT\x01-1,Tent\n", "id"),
        ("id,title\n" + "x" * 101 + ",Tent\n", "id"),
        ("id,title\nT-1," + "t" * 301 + "\n", "title"),
        ("id,title,description\nT-1,Tent," + "d" * 5001 + "\n", "description"),
    ],
)
def test_catalog_shape_problems(tmp_path: Path, catalog: str, field: str) -> None:
    problems = problems_of(campaign_with(tmp_path, "catalog.csv", catalog))
    assert problems and all(Path(p.file).name == "catalog.csv" for p in problems)
    assert {p.field for p in problems} == {field}


def test_missing_catalog_is_reported_with_other_campaign_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "name: ''\ncatalog: nowhere.csv\ncopy:\n  channels: [fax]\n")
    assert where(problems_of(path)) == {
        ("c.yaml", 1, "name"),
        ("c.yaml", 4, "copy.channels.0"),
        ("nowhere.csv", None, "(file)"),
    }


def test_campaign_and_catalog_problems_come_together(tmp_path: Path) -> None:
    write(tmp_path, "catalog.csv", "id,title,price\nT-1,Tent,-1\n")
    path = write(tmp_path, "c.yaml", "name: x\ncatalog: catalog.csv\ncopy:\n  variants: 0\n")
    assert where(problems_of(path)) == {
        ("c.yaml", 3, "copy.channels"),
        ("c.yaml", 4, "copy.variants"),
        ("catalog.csv", 2, "price"),
    }


def test_caps_on_size_rows_and_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = "".join(f"T-{n},Tent,-1\n" for n in range(1000))
    problems = problems_of(campaign_with(tmp_path, "catalog.csv", "id,title,price\n" + rows))
    assert len(problems) == campaign_module.MAX_PROBLEMS + 1
    assert "stopped after" in problems[-1].reason

    monkeypatch.setattr(campaign_catalog, "MAX_PRODUCTS", 10)
    good = "".join(f"T-{n},Tent\n" for n in range(11))
    (problem,) = problems_of(campaign_with(tmp_path, "catalog.csv", "id,title\n" + good))
    assert (problem.row, problem.field) == (12, "(size)") and "split the catalog" in problem.reason

    monkeypatch.setattr(campaign_load, "MAX_CATALOG_BYTES", 20)
    (problem,) = problems_of(campaign_with(tmp_path, "catalog.csv", CATALOG))
    assert problem.field == "(size)" and "limit is 20 bytes" in problem.reason


# --- campaign-file problems --------------------------------------------------------------------


def test_an_images_section_is_checked_field_by_field(tmp_path: Path) -> None:
    write(tmp_path, "catalog.csv", CATALOG)
    path = write(tmp_path, "c.yaml", CAMPAIGN.format(catalog="catalog.csv") + "images:\n  n: 1\n")
    fields = {p.field for p in problems_of(path)}
    assert {"images.formats", "images.n"} <= fields


def test_unknown_channel_lists_the_known_ones(tmp_path: Path) -> None:
    write(tmp_path, "catalog.csv", CATALOG)
    path = write(
        tmp_path,
        "c.yaml",
        "name: x\ncatalog: catalog.csv\ncopy:\n  channels:\n    - sms\n    - fax\n",
    )
    (problem,) = problems_of(path)
    assert (problem.row, problem.field) == (6, "copy.channels.1")
    assert "unknown channel 'fax'" in problem.reason
    assert all(name in problem.reason for name in CHANNELS)


def test_unknown_keys_are_named(tmp_path: Path) -> None:
    write(tmp_path, "catalog.csv", CATALOG)
    text = CAMPAIGN.format(catalog="catalog.csv") + "  colour: red\nbudget: 10\n"
    problems = problems_of(write(tmp_path, "c.yaml", text))
    assert where(problems) == {("c.yaml", 10, "copy.colour"), ("c.yaml", 11, "budget")}
    by_field = {p.field: p.reason for p in problems}
    assert "unknown key" in by_field["copy.colour"] and "candidates" in by_field["copy.colour"]
    assert "catalog" in by_field["budget"] and "copy" in by_field["budget"]


@pytest.mark.parametrize(
    ("copy", "field"),
    [
        ("{channels: [sms], variants: 11}", "copy.variants"),
        ("{channels: [sms], variants: true}", "copy.variants"),
        ("{channels: [sms], candidates: 17}", "copy.candidates"),
        ("{channels: [sms], max_new_tokens: 4}", "copy.max_new_tokens"),
        ("{channels: [sms], temperature: hot}", "copy.temperature"),
        ("{channels: [sms], top_p: 1.5}", "copy.top_p"),
        ("{channels: [sms], repetition_penalty: 0.5}", "copy.repetition_penalty"),
        ("{channels: [sms], tones: ['" + "t" * 41 + "']}", "copy.tones.0"),
        ("{channels: [sms], tones: []}", "copy.tones"),
        ("{channels: [sms, sms]}", "copy.channels"),
        ("{channels: []}", "copy.channels"),
        ("{channels: [sms], model: ../../etc}", "copy.model"),
    ],
)
def test_copy_section_bounds(tmp_path: Path, copy: str, field: str) -> None:
    write(tmp_path, "catalog.csv", CATALOG)
    path = write(tmp_path, "c.yaml", f"name: x\ncatalog: catalog.csv\ncopy: {copy}\n")
    (problem,) = problems_of(path)
    assert (problem.row, problem.field) == (3, field)


@pytest.mark.parametrize(
    ("text", "field", "row"),
    [
        ("name: x\ncatalog: catalog.csv\n", "(campaign)", 1),
        ("name: [unclosed\n", "(syntax)", 2),
        ("name: x\n\x08\n", "(syntax)", 2),
        ("- just\n- a list\n", "(campaign)", None),
        ("", "(campaign)", None),
        ("name: x\nname: y\ncatalog: catalog.csv\ncopy: {channels: [sms]}\n", "name", 2),
        ("name: x\ncatalog: catalog.txt\ncopy: {channels: [sms]}\n", "catalog", 2),
        ("name: x\ncatalog: 7\ncopy: {channels: [sms]}\n", "catalog", 2),
        ("name: 2026\ncatalog: catalog.csv\ncopy: {channels: [sms]}\n", "name", 1),
        (
            "name: x\ncatalog: catalog.csv\nbrand: {voice: calm}\ncopy: {channels: [sms]}\n",
            "brand.name",
            3,
        ),
    ],
)
def test_campaign_file_problems(tmp_path: Path, text: str, field: str, row: int | None) -> None:
    write(tmp_path, "catalog.csv", CATALOG)
    (problem,) = problems_of(write(tmp_path, "c.yaml", text))
    assert (Path(problem.file).name, problem.field, problem.row) == ("c.yaml", field, row)


def test_json_campaign_problems(tmp_path: Path) -> None:
    write(tmp_path, "catalog.csv", CATALOG)
    (problem,) = problems_of(write(tmp_path, "c.json", '{"name": "x",\n "catalog": }'))
    assert (problem.field, problem.row) == ("(syntax)", 2)
    text = '{"name": "x", "catalog": "catalog.csv", "copy": {"channels": ["sms"]}, "x": NaN}'
    assert {p.field for p in problems_of(write(tmp_path, "c.json", text))} == {"(syntax)"}


def test_campaign_file_must_be_yaml_or_json(tmp_path: Path) -> None:
    (problem,) = problems_of(write(tmp_path, "c.toml", "name = 'x'\n"))
    assert problem.field == "(file)"
    (problem,) = problems_of(tmp_path / "missing.yaml")
    assert (problem.field, problem.reason) == ("(file)", "no such file")


def test_copy_request_is_usable_on_its_own() -> None:
    request = CopyRequest(channels=["sms", "social_post"], tones=["calm", "bold"], variants=3)
    assert request.variants_per_product == 12


# --- robustness --------------------------------------------------------------------------------

VALID_CSV = (
    b"id,title,description,category,price,currency,attributes,image\n"
    b'T-1,Tent,"Two doors, one fly.",Camping,249.00,USD,a=1;b=2,img.png\n'
    b'T-2,Bag,,,12,EUR,"{""x"": 1}",\n'
)
JUNK_BYTES = st.sampled_from(
    [
        b",",
        b'"',
        b"\n",
        b"\r",
        b";",
        b"=",
        b"{",
        b"}",
        b"\x00",
        b"\xff",
        b"\xc3",
        b"\xe2\x80\xa8",
        b"-",
        b"../",
        b"/",
        b"NaN",
        b"1e999",
        b"\t",
        "é".encode(),
        "山".encode(),
        b"\\",
    ]
)


def load_or_refuse(catalog_name: str, catalog: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write(root, "img.png", b"\x89PNG")
        path = campaign_with(root, catalog_name, catalog)
        try:
            loaded = load_campaign(path)
        except CampaignFileError as exc:
            assert exc.problems
            assert all(isinstance(p, Problem) and p.file and p.field for p in exc.problems)
        else:
            assert loaded.products


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(VALID_CSV)), st.integers(0, 3), JUNK_BYTES), max_size=6
    ),
    suffix=st.sampled_from(["catalog.csv", "catalog.jsonl"]),
)
def test_mutated_catalogs_load_or_raise_campaign_file_error(
    edits: list[tuple[int, int, bytes]], suffix: str
) -> None:
    data = VALID_CSV
    for position, delete, insert in edits:
        data = data[:position] + insert + data[position + delete :]
    load_or_refuse(suffix, data)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["catalog.csv", "catalog.jsonl"]))
def test_random_bytes_as_catalog_load_or_raise(data: bytes, name: str) -> None:
    load_or_refuse(name, data)


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
row_keys = st.sampled_from(
    ["id", "title", "description", "price", "currency", "attributes", "image", "category", "extra"]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.dictionaries(row_keys, json_values, max_size=8), min_size=0, max_size=4))
def test_random_jsonl_rows_load_or_raise(rows: list[dict[str, object]]) -> None:
    load_or_refuse("catalog.jsonl", "\n".join(json.dumps(r) for r in rows).encode())


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["name", "catalog", "brand", "copy", "x"]), json_values))
def test_random_campaign_files_load_or_raise(raw: dict[str, object]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write(root, "catalog.csv", CATALOG)
        for name, text in (("c.json", json.dumps(raw)), ("c.yaml", yaml.safe_dump(raw))):
            try:
                load_campaign(write(root, name, text))
            except CampaignFileError as exc:
                assert exc.problems


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200), st.sampled_from(["c.yaml", "c.json"]))
def test_random_text_as_campaign_file_loads_or_raises(text: str, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write(root, "catalog.csv", CATALOG)
        try:
            load_campaign(write(root, name, text.encode("utf-8", "surrogatepass")))
        except CampaignFileError as exc:
            assert exc.problems
