"""Approved assets in the shapes people hand to ad platforms: CSV, JSON lines, a zip, RSA sheets.

Every CSV cell a spreadsheet could run as a formula is defused (OWASP "CSV injection"), and
image files are read only from inside the asset directory, whatever a row's URI says.

Every row of CSV, JSON lines and the zip's manifests says whether a model made the asset
(``ai_generated``) and which model (``model``, ``model_version``), for the transparency rules
on AI-generated content; the Google Ads sheet keeps Google's own columns.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, urlparse
from urllib.request import url2pathname

from contentfab.core.errors import NotFoundError
from contentfab.db.models import Asset, ContentKind

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")

COLUMNS = [
    "id",
    "campaign_id",
    "product_sku",
    "product_title",
    "subject",
    "kind",
    "channel",
    "variant",
    "status",
    "text",
    "original_text",
    "file",
    "sha256",
    "ai_generated",
    "model",
    "model_version",
    "model_sha256",
    "device",
    "reviewed_by",
    "reviewed_at",
    "edited_by",
    "edited_at",
    "created_at",
]

# Google Ads Editor's responsive search ad columns: up to 15 headlines (30 wide characters)
# and 4 descriptions (90); at least 3 and 2 for an ad to be valid.
RSA_HEADLINES, RSA_DESCRIPTIONS = 15, 4
RSA_MIN_HEADLINES, RSA_MIN_DESCRIPTIONS = 3, 2
RSA_COLUMNS = [
    "Campaign",
    "Ad group",
    "Ad type",
    *(f"Headline {i}" for i in range(1, RSA_HEADLINES + 1)),
    *(f"Description {i}" for i in range(1, RSA_DESCRIPTIONS + 1)),
    "Final URL",
    "Path 1",
    "Path 2",
]


def csv_safe(value: Any) -> Any:
    """A cell a spreadsheet shows as text, never evaluates."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def asset_file(uri: str | None, asset_dir: Path) -> Path:
    """The file of an image asset, refusing any URI that points outside ``asset_dir``."""
    if not uri:
        raise NotFoundError("this asset has no file")
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        raise NotFoundError("this asset's file is not stored locally")
    path = Path(url2pathname(parsed.path)).resolve()
    if not path.is_relative_to(asset_dir.resolve()) or not path.is_file():
        raise NotFoundError("this asset's file is not in the asset directory")
    return path


def generation(asset: Asset) -> tuple[bool, dict[str, Any]]:
    """Whether a model made this asset or part of it, and that model's provenance.

    Copy is written by a language model and a recommendation list ranked by an embedding or
    two-tower model, both always. An image is composed by plain code around a product photo;
    it counts as generated when a model drew its background (``generator``), cut the product
    out (an ``onnx:`` matte), or wrote its headline (generated copy). A reviewer's edit keeps
    the label: ``edited_by`` says a person changed it after.
    """
    meta = asset.meta or {}
    model = meta.get("model") or meta.get("generator") or {}
    if asset.kind != ContentKind.IMAGE:
        return True, model
    matte = meta.get("matte") or {}
    by_model = bool(
        meta.get("generator")
        or str(matte.get("method", "")).startswith("onnx:")
        or meta.get("headline")
    )
    return by_model, model


def row(asset: Asset) -> dict[str, Any]:
    meta = asset.meta or {}
    ai_generated, model = generation(asset)
    return {
        "id": asset.id,
        "campaign_id": asset.campaign_id,
        "product_sku": asset.product.sku if asset.product is not None else None,
        "product_title": asset.product.title if asset.product is not None else None,
        "subject": asset.subject,
        "kind": asset.kind.value,
        "channel": asset.channel,
        "variant": asset.variant,
        "status": asset.status.value,
        "text": asset.text,
        "original_text": asset.original_text,
        "file": file_name(asset) if asset.uri else None,
        "sha256": asset.sha256,
        "ai_generated": ai_generated,
        "model": model.get("name"),
        "model_version": model.get("version"),
        "model_sha256": model.get("sha256"),
        "device": meta.get("device"),
        "reviewed_by": asset.reviewed_by,
        "reviewed_at": _iso(asset.reviewed_at),
        "edited_by": asset.edited_by,
        "edited_at": _iso(asset.edited_at),
        "created_at": _iso(asset.created_at),
    }


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def file_name(asset: Asset) -> str:
    """A readable, unique name for an image inside an export: sku-format-vN-id.ext."""
    extension = Path(urlparse(asset.uri or "").path).suffix or ".bin"
    who = asset.product.sku if asset.product is not None else (asset.subject or "asset")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{who}-{asset.channel}")
    return f"images/{safe}-v{asset.variant}-{asset.id}{extension}"


def write_csv(assets: Iterable[Asset], stream: IO[str]) -> None:
    writer = csv.DictWriter(stream, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for asset in assets:
        writer.writerow({k: csv_safe(v) for k, v in row(asset).items()})


def write_jsonl(assets: Iterable[Asset], stream: IO[str]) -> None:
    for asset in assets:
        stream.write(json.dumps({**row(asset), "meta": asset.meta}, ensure_ascii=False) + "\n")


def write_zip(assets: Sequence[Asset], stream: IO[bytes], asset_dir: Path) -> list[int]:
    """Images under images/ plus manifest.jsonl and manifest.csv; returns IDs of missing files."""
    missing: list[int] = []
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for asset in assets:
            if asset.kind != ContentKind.IMAGE:
                continue
            try:
                path = asset_file(asset.uri, asset_dir)
            except NotFoundError:
                missing.append(asset.id)
                continue
            # Encoded images do not compress; storing them saves CPU.
            archive.write(path, file_name(asset), compress_type=zipfile.ZIP_STORED)
        text = io.StringIO()
        write_jsonl(assets, text)
        archive.writestr("manifest.jsonl", text.getvalue())
        text = io.StringIO()
        write_csv(assets, text)
        archive.writestr("manifest.csv", text.getvalue())
    return missing


def write_google_ads_rsa(
    assets: Iterable[Asset],
    stream: IO[str],
    *,
    campaign_name: str,
    final_url: str | None = None,
) -> list[str]:
    """One row per responsive search ad (ad group = product title), for Google Ads Editor.

    Copy written as a ``google_rsa`` bundle (``meta.bundle``) makes one ad per bundle ad, its
    headlines and descriptions in slot order; other approved ``search_headline`` and
    ``search_description`` copy of a product makes one more ad. ``final_url`` may contain
    ``{sku}``. Returns the SKUs (with ``#ad`` for a bundle ad) left out because they have
    fewer approved headlines or descriptions than an RSA needs.
    """
    ads: dict[tuple[str, int | None], tuple[str, list[tuple[int, str]], list[tuple[int, str]]]]
    ads = {}
    for asset in assets:
        if asset.kind != ContentKind.COPY or asset.product is None or not asset.text:
            continue
        bundle = (asset.meta or {}).get("bundle") or {}
        ad = bundle.get("ad") if bundle.get("name") == "google_rsa" else None
        order = int(bundle.get("index", 0)) if ad is not None else 0  # else as listed
        sku, title = asset.product.sku, asset.product.title
        entry = ads.setdefault((sku, ad), (title, [], []))
        if asset.channel == "search_headline":
            entry[1].append((order, asset.text))
        elif asset.channel == "search_description":
            entry[2].append((order, asset.text))
    writer = csv.DictWriter(stream, fieldnames=RSA_COLUMNS)
    writer.writeheader()
    skipped = []
    for (sku, ad), (title, headline_slots, description_slots) in ads.items():
        headlines = [text for _, text in sorted(headline_slots, key=lambda slot: slot[0])]
        descriptions = [text for _, text in sorted(description_slots, key=lambda slot: slot[0])]
        if len(headlines) < RSA_MIN_HEADLINES or len(descriptions) < RSA_MIN_DESCRIPTIONS:
            skipped.append(sku if ad is None else f"{sku}#{ad}")
            continue
        record: dict[str, Any] = {
            "Campaign": campaign_name,
            "Ad group": title,
            "Ad type": "Responsive search ad",
            "Final URL": final_url.replace("{sku}", quote(sku, safe="")) if final_url else "",
            "Path 1": "",
            "Path 2": "",
        }
        for i, text in enumerate(headlines[:RSA_HEADLINES], start=1):
            record[f"Headline {i}"] = text
        for i, text in enumerate(descriptions[:RSA_DESCRIPTIONS], start=1):
            record[f"Description {i}"] = text
        writer.writerow({k: csv_safe(v) for k, v in record.items()})
    return skipped
