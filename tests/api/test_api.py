"""The review API on SQLite and PostgreSQL: finding, provenance, files, review actions, exports."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from contentfab.db.models import Asset, AssetReview, AssetStatus, ContentKind, Job, JobStatus
from contentfab.db.session import transaction
from tests.api.conftest import WRITE


def ids(response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_campaign_summaries_count_jobs_and_review_states(client, seeded):
    [campaign] = client.get("/api/campaigns").json()
    assert campaign["id"] == seeded.campaign_id
    assert campaign["total_jobs"] == campaign["finished_jobs"] == 29
    assert campaign["assets"] == {
        "copy": {"generated": 21},
        "image": {"generated": 6},
        "recommendation": {"generated": 2},
    }
    assert campaign["created_at"].endswith("Z")  # times are UTC on both databases
    assert client.get("/api/campaigns/999").status_code == 404


def test_filters_combine(client, seeded):
    base = {"campaign_id": seeded.campaign_id, "limit": 500}
    assert len(ids(client.get("/api/assets", params=base))) == 29
    assert len(ids(client.get("/api/assets", params={**base, "kind": "image"}))) == 6
    copy = client.get(
        "/api/assets", params={**base, "channel": "search_headline", "product": "WK-01"}
    ).json()["items"]
    assert [(a["product"]["sku"], a["channel"]) for a in copy] == [("WK-01", "search_headline")] * 3
    assert len(ids(client.get("/api/assets", params={**base, "model": "cppn-backgrounds"}))) == 6
    assert len(ids(client.get("/api/assets", params={**base, "model": "minilm-l6-v2"}))) == 2
    # Full text: every word, any case, no LIKE wildcards leaking through.
    found = client.get("/api/assets", params={**base, "q": "WEEKENDER every"}).json()["items"]
    assert [a["text"] for a in found] == ["Weekender for Every Trip"]
    assert ids(client.get("/api/assets", params={**base, "q": "100%"})) == []
    assert ids(client.get("/api/assets", params={**base, "q": "_"})) == []
    # Created range, in any time zone.
    soon = (datetime.now(UTC) + timedelta(hours=1)).astimezone().isoformat()
    assert len(ids(client.get("/api/assets", params={**base, "created_to": soon}))) == 29
    assert ids(client.get("/api/assets", params={**base, "created_from": soon})) == []


def test_cursor_pages_cover_everything_once_in_every_sort(client, seeded):
    for sort in ("id", "-id", "created_at", "-created_at", "channel", "-kind", "status"):
        seen: list[int] = []
        cursor = None
        while True:
            params = {"campaign_id": seeded.campaign_id, "limit": 4, "sort": sort}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/api/assets", params=params).json()
            seen += [a["id"] for a in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(set(seen)) and len(seen) == 29, sort
    assert client.get("/api/assets", params={"cursor": "nonsense"}).status_code == 400
    # A cursor from one sort is refused by another, not silently misread.
    first = client.get("/api/assets", params={"limit": 1, "sort": "channel"}).json()
    response = client.get("/api/assets", params={"cursor": first["next_cursor"], "sort": "id"})
    assert response.status_code == 400


def test_one_asset_with_provenance_and_its_file(client, seeded, settings):
    detail = client.get(f"/api/assets/{seeded.copy_ids[0]}").json()
    assert detail["model"]["name"] == "smollm2-135m-instruct"
    assert detail["meta"]["sampling"]["seed"] == 7
    assert detail["job"]["worker"] == "worker@test" and detail["job"]["params"]["tone"]
    image = client.get(f"/api/assets/{seeded.image_ids[0]}").json()
    response = client.get(image["file_url"])
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    assert client.get(f"/api/assets/{seeded.copy_ids[0]}/file").status_code == 404
    assert client.get("/api/assets/123456789/file").status_code == 404


def test_a_file_outside_the_asset_dir_is_never_served(client, seeded, sessions, tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG not yours")
    with sessions.begin() as session:
        session.get(Asset, seeded.image_ids[0]).uri = secret.as_uri()
        session.get(Asset, seeded.image_ids[1]).uri = "file:///etc/passwd"
    assert client.get(f"/api/assets/{seeded.image_ids[0]}/file").status_code == 404
    assert client.get(f"/api/assets/{seeded.image_ids[1]}/file").status_code == 404


def test_review_actions_record_who_when_and_why(client, seeded, sessions):
    asset_id = seeded.copy_ids[1]
    approved = client.post(
        f"/api/assets/{asset_id}/approve", json={"reviewer": "ann"}, headers=WRITE
    ).json()
    assert approved["status"] == "approved" and approved["reviewed_by"] == "ann"
    rejected = client.post(
        f"/api/assets/{asset_id}/reject",
        json={"reviewer": "bob", "reason": "off brand"},
        headers=WRITE,
    ).json()
    assert rejected["status"] == "rejected" and rejected["reject_reason"] == "off brand"
    assert (
        client.post(
            f"/api/assets/{asset_id}/reject",
            json={"reviewer": "bob", "reason": "  "},
            headers=WRITE,
        ).status_code
        == 400
    )
    with sessions() as session:
        asset = session.get(Asset, asset_id)
        assert (asset.status, asset.reviewed_by, asset.reject_reason) == (
            AssetStatus.REJECTED,
            "bob",
            "off brand",
        )
        history = session.scalars(select(AssetReview).where(AssetReview.asset_id == asset_id))
        assert [(r.action, r.actor) for r in history] == [("approve", "ann"), ("reject", "bob")]
    detail = client.get(f"/api/assets/{asset_id}").json()
    assert [r["action"] for r in detail["reviews"]] == ["approve", "reject"]


def test_editing_copy_keeps_the_original_and_sends_it_back_to_review(client, seeded, sessions):
    asset_id = seeded.copy_ids[0]  # a search headline: 30 wide characters at most
    original = client.get(f"/api/assets/{asset_id}").json()["text"]
    client.post(f"/api/assets/{asset_id}/approve", json={"reviewer": "ann"}, headers=WRITE)
    for text in ("Trail Thermos for Every Day", "Trail Thermos, Every Day"):
        edited = client.put(
            f"/api/assets/{asset_id}/text", json={"reviewer": "cy", "text": text}, headers=WRITE
        )
        assert edited.status_code == 200, edited.text
    body = edited.json()
    assert body["text"] == "Trail Thermos, Every Day"
    assert body["original_text"] == original  # the generated text, not the first edit
    assert body["edited_by"] == "cy" and body["status"] == "generated"
    too_long = client.put(
        f"/api/assets/{asset_id}/text",
        json={"reviewer": "cy", "text": "x" * 31},
        headers=WRITE,
    )
    assert too_long.status_code == 422 and "Search ad headline" in too_long.json()["detail"]
    image = client.put(
        f"/api/assets/{seeded.image_ids[0]}/text",
        json={"reviewer": "cy", "text": "x"},
        headers=WRITE,
    )
    assert image.status_code == 400
    with sessions() as session:
        history = session.scalars(select(AssetReview).where(AssetReview.asset_id == asset_id)).all()
        assert [r.action for r in history] == ["approve", "edit", "edit"]
        assert history[1].text_before == original


def test_bulk_approve_leaves_rejected_assets_alone(client, seeded):
    client.post(
        f"/api/assets/{seeded.image_ids[0]}/reject",
        json={"reviewer": "ann", "reason": "cropped"},
        headers=WRITE,
    )
    result = client.post(
        "/api/assets/approve",
        json={"reviewer": "ann", "campaign_id": seeded.campaign_id, "kind": "image"},
        headers=WRITE,
    )
    assert result.json() == {"approved": 5}
    counts = client.get(f"/api/campaigns/{seeded.campaign_id}").json()["assets"]
    assert counts["image"] == {"approved": 5, "rejected": 1}
    assert counts["copy"] == {"generated": 21}
    missing = client.post(
        "/api/assets/approve", json={"reviewer": "ann", "campaign_id": 999}, headers=WRITE
    )
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"X-API-Key": "wrong"}, 401), (WRITE, 200)],
)
def test_writes_need_the_api_key(client, seeded, headers, status):
    response = client.post(
        f"/api/assets/{seeded.copy_ids[0]}/approve", json={"reviewer": "x"}, headers=headers
    )
    assert response.status_code == status


def test_read_only_and_keyless_servers_refuse_writes_but_serve_reads(settings, sessions, seeded):
    from fastapi.testclient import TestClient

    from contentfab.api import create_api

    for changed in ({"read_only": True}, {"api_key": None}):
        app = create_api(settings.model_copy(update=changed), sessions)
        with TestClient(app, base_url="http://localhost") as client:
            response = client.post(
                f"/api/assets/{seeded.copy_ids[0]}/approve", json={"reviewer": "x"}, headers=WRITE
            )
            assert response.status_code == 403, changed
            assert client.get("/api/assets").status_code == 200


def _approve_all(client, campaign_id):
    client.post(
        "/api/assets/approve", json={"reviewer": "ann", "campaign_id": campaign_id}, headers=WRITE
    )


def test_csv_export_is_formula_safe_and_only_approved(client, seeded):
    client.post(f"/api/assets/{seeded.copy_ids[0]}/approve", json={"reviewer": "a"}, headers=WRITE)
    client.post(f"/api/assets/{seeded.copy_ids[2]}/approve", json={"reviewer": "a"}, headers=WRITE)
    response = client.get(f"/api/campaigns/{seeded.campaign_id}/export", params={"format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [int(r["id"]) for r in rows] == [seeded.copy_ids[0], seeded.copy_ids[2]]
    assert rows[1]["text"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["model"] == "smollm2-135m-instruct" and rows[0]["reviewed_by"] == "a"


def test_jsonl_and_zip_exports(client, seeded):
    _approve_all(client, seeded.campaign_id)
    url = f"/api/campaigns/{seeded.campaign_id}/export"
    lines = client.get(url, params={"format": "jsonl"}).text.splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 29 and rows[0]["meta"]["model"]["name"] == "smollm2-135m-instruct"
    # The JSON keeps the raw text: formula-defusing is for spreadsheets only.
    assert '=HYPERLINK("http://evil")' in {r["text"] for r in rows}
    archive = zipfile.ZipFile(io.BytesIO(client.get(url, params={"format": "zip"}).content))
    names = archive.namelist()
    images = [n for n in names if n.startswith("images/")]
    assert len(images) == 6 and all(n.endswith(".png") for n in images)
    assert archive.read(images[0]).startswith(b"\x89PNG")
    manifest = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    assert {r["file"] for r in manifest if r["kind"] == "image"} == set(images)
    assert len(archive.read("manifest.jsonl").decode().splitlines()) == 29


def test_google_ads_rsa_export(client, seeded):
    _approve_all(client, seeded.campaign_id)
    response = client.get(
        f"/api/campaigns/{seeded.campaign_id}/export",
        params={"format": "google-ads-rsa", "final_url": "https://shop.example/p/{sku}"},
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["Ad group"] for r in rows] == [
        "Trail Thermos 750 ml",
        "Canvas Weekender Bag",
        "Enamel Camp Mug",
    ]
    first = rows[0]
    assert first["Ad type"] == "Responsive search ad"
    assert first["Headline 3"] == '\'=HYPERLINK("http://evil")'
    assert first["Description 2"] and not first["Description 3"]
    assert first["Final URL"] == "https://shop.example/p/TH-750"
    assert "Headline 15" in first and "Description 4" in first


def test_rsa_export_leaves_out_products_without_enough_headlines(client, seeded):
    client.post(
        "/api/assets/approve",
        json={"reviewer": "ann", "campaign_id": seeded.campaign_id, "product": "WK-01"},
        headers=WRITE,
    )
    client.post(f"/api/assets/{seeded.copy_ids[0]}/approve", json={"reviewer": "a"}, headers=WRITE)
    response = client.get(
        f"/api/campaigns/{seeded.campaign_id}/export", params={"format": "google-ads-rsa"}
    )
    assert [r["Ad group"] for r in csv.DictReader(io.StringIO(response.text))] == [
        "Canvas Weekender Bag"
    ]
    assert response.headers["x-skipped-products"] == "TH-750"


def test_bad_input_is_a_4xx_not_a_server_error(client, seeded):
    assert client.get("/api/assets", params={"q": "a\x00b"}).status_code == 422
    assert client.get("/api/assets/99999999999999999999").status_code == 422
    assert client.get("/api/assets", params={"sort": "sha256"}).status_code == 422
    assert client.get(
        "/api/assets", params={"created_from": "0001-01-01T00:00:00+14:00"}
    ).status_code in (400, 200)
    assert (
        client.post(
            f"/api/assets/{seeded.copy_ids[0]}/approve", json={"reviewer": ""}, headers=WRITE
        ).status_code
        == 422
    )


def test_gallery_pages_render(client, seeded):
    home = client.get("/")
    assert home.status_code == 200 and "Spring launch 2026" in home.text
    page = client.get(f"/campaigns/{seeded.campaign_id}")
    assert page.status_code == 200
    assert page.text.count('class="asset ') == 29
    assert "Trail Thermos 750 ml" in page.text and "outdoor lovers" in page.text
    assert "=HYPERLINK" in page.text and "<script>" not in page.text.split("</main>")[0]
    images = client.get(f"/campaigns/{seeded.campaign_id}", params={"kind": "image"})
    assert images.text.count('class="asset ') == 6
    assert client.get("/campaigns/999").status_code == 404
    assert client.get("/static/gallery.js").status_code == 200


def test_the_gallery_says_why_a_slot_is_empty(client, seeded, sessions):
    with transaction(sessions) as session:
        product = session.get(Asset, seeded.copy_ids[0]).product
        session.add(
            Job(
                campaign_id=seeded.campaign_id,
                product=product,
                kind=ContentKind.COPY,
                channel="sms",
                variant=0,
                params={},
                status=JobStatus.FAILED,
                last_error="no candidate passed the gates: too_long ×4",
            )
        )
    page = client.get(f"/campaigns/{seeded.campaign_id}").text
    assert "sms v0: no candidate passed the gates: too_long ×4" in page
    assert page.count('class="failed-job"') == 1
    # Filtered to what exists (approved, images, a search), failures are not listed.
    for params in ({"status": "approved"}, {"kind": "image"}, {"q": "thermos"}):
        filtered = client.get(f"/campaigns/{seeded.campaign_id}", params=params).text
        assert 'class="failed-job"' not in filtered, params
