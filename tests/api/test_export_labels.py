"""Every export row of generated content says so: ``ai_generated`` with the model's name and
version, in the CSV, the JSON lines and both manifests of the zip (SQLite and PostgreSQL); the
Google Ads sheet keeps Google's columns. `contentfab assets` carries the label too."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from typer.testing import CliRunner

from contentfab.cli import app as cli
from contentfab.db.models import Asset, ContentKind
from contentfab.services.delivery import RSA_COLUMNS, generation
from tests.api.seed import COPY_MODEL, IMAGE_MODEL, REC_MODEL

MODELS = {"copy": COPY_MODEL, "image": IMAGE_MODEL, "recommendation": REC_MODEL}


def _approve_all(client, campaign_id):
    response = client.post(
        "/api/assets/approve",
        json={"reviewer": "ann", "campaign_id": campaign_id},
        headers={"X-API-Key": "test-key-123"},
    )
    assert response.status_code == 200, response.text


def _check(rows, *, text_values: bool):
    assert len(rows) == 29
    for row in rows:
        model = MODELS[row["kind"]]
        assert row["ai_generated"] == ("True" if text_values else True), row
        assert (row["model"], row["model_version"]) == (model["name"], model["version"]), row


def test_every_export_row_carries_its_label(client, seeded):
    _approve_all(client, seeded.campaign_id)
    url = f"/api/campaigns/{seeded.campaign_id}/export"
    _check(list(csv.DictReader(io.StringIO(client.get(url).text))), text_values=True)
    jsonl = client.get(url, params={"format": "jsonl"}).text.splitlines()
    _check([json.loads(line) for line in jsonl], text_values=False)
    archive = zipfile.ZipFile(io.BytesIO(client.get(url, params={"format": "zip"}).content))
    manifest = archive.read("manifest.csv").decode()
    _check(list(csv.DictReader(io.StringIO(manifest))), text_values=True)
    lines = archive.read("manifest.jsonl").decode().splitlines()
    _check([json.loads(line) for line in lines], text_values=False)
    rsa = client.get(url, params={"format": "google-ads-rsa"}).text
    assert next(csv.reader(io.StringIO(rsa))) == RSA_COLUMNS  # Google's schema, unchanged


def test_assets_command_carries_the_label(tmp_path, database_url, seeded):
    env = {"CONTENTFAB_DATA_DIR": str(tmp_path / "cli"), "CONTENTFAB_DATABASE_URL": database_url}
    listed = CliRunner().invoke(cli, ["assets", "--format", "json"], env=env)
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(rows) == 29 and all(row["ai_generated"] is True for row in rows)
    images = [row for row in rows if row["kind"] == "image"]
    assert {row["model"] for row in images} == {"cppn-backgrounds@1"}
    table = CliRunner().invoke(cli, ["assets", "--format", "csv"], env=env)
    assert {row["ai_generated"] for row in csv.DictReader(io.StringIO(table.stdout))} == {"True"}


def test_an_image_no_model_touched_is_not_labelled():
    def image(**meta):
        return Asset(kind=ContentKind.IMAGE, meta=meta)

    assert generation(image(background={"mode": "flat"}, generator=None)) == (False, {})
    assert generation(image(matte={"method": "studio-backdrop-v1"}, headline=None))[0] is False
    assert generation(image(matte={"method": "onnx:u2netp.onnx"}))[0] is True
    assert generation(image(headline="Warm all day"))[0] is True
    assert generation(image(generator=IMAGE_MODEL)) == (True, IMAGE_MODEL)
    assert generation(Asset(kind=ContentKind.COPY, meta={"model": COPY_MODEL})) == (
        True,
        COPY_MODEL,
    )
