"""The campaign file and its product catalog: read both, check every field of every row, and
hand them over as plain records, or refuse with every problem found at once.

A campaign file is YAML (``.yaml``/``.yml``) or JSON (``.json``) shaped like
:class:`CampaignSpec`; its ``catalog`` names a CSV (``.csv``, with a header) or JSON-lines
(``.jsonl``/``.ndjson``) file of products relative to the campaign file. :func:`load_campaign`
either returns a complete :class:`LoadedCampaign` or raises: :class:`CampaignFileError` listing
every problem (up to :data:`MAX_PROBLEMS`), or :class:`NotImplementedKindError` when the file
asks for a content kind this build does not make. It never returns part of a campaign.

Row numbers in problems are line numbers as an editor shows them:

* CSV catalog: the header is line 1, so the first product is row 2; a record whose quoted cell
  spans several lines is numbered by the line it starts on.
* JSON-lines catalog: the line of the record; the first line is row 1.
* YAML campaign file: the line of the offending key (a missing key: the line of its section).
  A JSON campaign file gives no row.

Problems that are not about one field use a pseudo-field in parentheses: ``(encoding)``,
``(size)``, ``(file)``, ``(syntax)``, ``(header)``, ``(campaign)``.
"""

from __future__ import annotations

import hashlib
import json
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    ValidationError,
)

from contentfab.campaign import yaml_loader
from contentfab.campaign.creatives import check_files as check_image_files
from contentfab.campaign.files import confine
from contentfab.campaign.interactions import check_subjects, load_interactions
from contentfab.core.errors import CampaignFileError, NotImplementedKindError, Problem

if typing.TYPE_CHECKING:
    from contentfab.campaign.interactions import InteractionLog

from contentfab.campaign.catalog import ProductRecord, _load_catalog, _refuse_constant
from contentfab.campaign.problems import LineOf, _cap_note, _decode, _problems, _read
from contentfab.campaign.spec import (
    _NOT_PRODUCED_YET,
    CAMPAIGN_SUFFIXES,
    MAX_CAMPAIGN_BYTES,
    MAX_CATALOG_BYTES,
    MAX_COPY_VARIANTS,
    MAX_PROBLEMS,
    CampaignSpec,
    _catalog_reference,
)

# --- loading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedCampaign:
    """A campaign whose file and catalog are fully checked.

    ``content_sha256`` covers the campaign file bytes and the catalog bytes (not image files),
    so submitting the same campaign twice can be recognised.
    """

    spec: CampaignSpec
    products: list[ProductRecord]
    source_path: Path
    content_sha256: str
    interactions: InteractionLog | None = None

    @property
    def catalog_path(self) -> Path:
        return self.source_path.parent / self.spec.catalog


def load_campaign(path: Path, extra_roots: Sequence[Path] = ()) -> LoadedCampaign:
    """Read and check a campaign file and its catalog (row numbers: see the module docstring).

    Every file the campaign names must be inside its folder or one of ``extra_roots``
    (:func:`contentfab.campaign.files.confine`).

    Raises :class:`CampaignFileError` with every problem found, or
    :class:`NotImplementedKindError` for a section this build does not produce.
    """
    path = Path(path)
    file = str(path)
    if path.suffix.lower() not in CAMPAIGN_SUFFIXES:
        raise CampaignFileError(
            [Problem(file, "(file)", f"must be a {', '.join(CAMPAIGN_SUFFIXES)} file")]
        )
    campaign_bytes = _read(path, MAX_CAMPAIGN_BYTES)
    text = _decode(campaign_bytes, file)
    problems: list[Problem] = []
    raw, line_of = _parse_campaign(text, file, path.suffix.lower() == ".json", problems)
    if not isinstance(raw, dict):
        problems.append(
            Problem(file, "(campaign)", "must be a mapping with keys such as name, catalog, copy")
        )
        raise CampaignFileError(problems)
    if asked := [reason for kind, reason in _NOT_PRODUCED_YET.items() if kind in raw]:
        raise NotImplementedKindError(f"{file}: " + "; ".join(asked))

    spec: CampaignSpec | None = None
    try:
        spec = CampaignSpec.model_validate(raw)
    except ValidationError as exc:
        problems += _problems(exc, file, CampaignSpec, line_of)

    catalog_bytes = b""
    products: list[ProductRecord] = []
    try:
        reference = _catalog_reference(raw.get("catalog"))
    except ValueError:
        pass  # reported by the spec above
    else:
        catalog = path.parent / reference
        try:
            confine(reference, path.parent, extra_roots, must_exist=False)
        except ValueError as exc:
            problems.append(Problem(file, "catalog", str(exc), line_of(("catalog",))))
        else:
            try:
                catalog_bytes = _read(catalog, MAX_CATALOG_BYTES)
            except CampaignFileError as exc:
                problems += exc.problems
            else:
                products = _load_catalog(catalog_bytes, catalog, problems)

    copy_request = spec.copy_request if spec is not None else None
    if copy_request is not None and products:
        total = len(products) * copy_request.variants_per_product
        if total > MAX_COPY_VARIANTS:
            problems.append(
                Problem(
                    file,
                    "copy",
                    f"asks for {total:,} copies (products × channels × tones × variants); "
                    f"at most {MAX_COPY_VARIANTS:,} per campaign",
                    line_of(("copy",)),
                )
            )
    brand = spec.brand if spec is not None else None
    if brand is not None and brand.short_names and products:
        skus = {p.sku for p in products}
        problems += [
            Problem(
                file,
                f"brand.short_names.{sku}",
                "no product with this id in the catalog",
                line_of(("brand", "short_names", sku)),
            )
            for sku in brand.short_names
            if sku not in skus
        ]
    interactions = None
    parts = [campaign_bytes, catalog_bytes]
    recs = spec.recommendations if spec is not None else None
    if recs is not None:
        if recs.interactions is not None:
            try:
                confine(recs.interactions, path.parent, extra_roots, must_exist=False)
            except ValueError as exc:
                where = line_of(("recommendations", "interactions"))
                problems.append(Problem(file, "recommendations.interactions", str(exc), where))
            else:
                interactions_bytes, interactions = load_interactions(
                    path.parent / recs.interactions, {p.sku for p in products}, problems
                )
                parts.append(interactions_bytes)
        check_subjects(recs, interactions, file, line_of(("recommendations",)), problems)
    if spec is not None and spec.images is not None:
        problems += check_image_files(
            spec.images, path.parent, file, line_of(("images",)), extra_roots
        )
    if problems or spec is None:
        raise CampaignFileError(problems[:MAX_PROBLEMS] + _cap_note(problems, file))

    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return LoadedCampaign(spec, products, path, digest.hexdigest(), interactions)


def _parse_campaign(
    text: str, file: str, is_json: bool, problems: list[Problem]
) -> tuple[object, LineOf]:
    """Parse YAML or JSON into plain data, and a function from a key path to its line."""
    if is_json:
        return _parse_json_campaign(text, file, problems), lambda loc: None
    loader = None
    try:
        node, loader = yaml_loader.compose(text)
        if node is None:
            return None, lambda loc: None
        problems += _duplicate_keys(node, file, ())
        return yaml_loader.construct(loader, node), lambda loc: _yaml_line(node, loc)
    except yaml_loader.AliasBombError as exc:
        problems.append(Problem(file, "(syntax)", str(exc), exc.line))
    except yaml_loader.YamlValueError as exc:
        problems.append(Problem(file, ".".join(exc.loc) or "(syntax)", str(exc), exc.line))
    except yaml.reader.ReaderError as exc:
        # Raised for characters YAML forbids (most control characters), before any mark.
        character = exc.character
        shown = f"U+{character:04X}" if isinstance(character, int) else repr(character)
        reason = f"character {shown} is not allowed in YAML"
        problems.append(Problem(file, "(syntax)", reason, text.count("\n", 0, exc.position) + 1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        row = mark.line + 1 if mark is not None else None
        problems.append(Problem(file, "(syntax)", f"not valid YAML: {reason}", row))
    except RecursionError:
        problems.append(Problem(file, "(syntax)", "nested too deeply"))
    finally:
        if loader is not None:
            loader.dispose()
    raise CampaignFileError(problems)


def _parse_json_campaign(text: str, file: str, problems: list[Problem]) -> object:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        mapping: dict[str, Any] = {}
        for key, value in pairs:
            if key in mapping:
                problems.append(Problem(file, key, "given twice"))
            mapping[key] = value
        return mapping

    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        problems.append(Problem(file, "(syntax)", f"not valid JSON: {exc.msg}", exc.lineno))
    except (ValueError, RecursionError) as exc:
        problems.append(Problem(file, "(syntax)", f"not valid JSON: {exc}"))
    raise CampaignFileError(problems)


def _duplicate_keys(node: yaml.Node, file: str, loc: tuple[str, ...]) -> list[Problem]:
    found: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if isinstance(key, yaml.ScalarNode) and name in seen:
                dotted = ".".join((*loc, name))
                found.append(Problem(file, dotted, "given twice", key.start_mark.line + 1))
            seen.add(name)
            found += _duplicate_keys(value, file, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found += _duplicate_keys(item, file, (*loc, str(index)))
    return found


def _yaml_line(node: yaml.Node, loc: tuple[int | str, ...]) -> int | None:
    line: int = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if str(k.value) == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
