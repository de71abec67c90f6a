"""Finding and reviewing assets: filters, keyset pages, approve / reject / edit, the gallery's view.

The HTTP API and the web gallery are thin layers over these functions; nothing here knows
about HTTP. Every review action writes an :class:`~db.models.AssetReview` row, so who did what
and when survives later changes, and an edit keeps the generated text in ``original_text``.
Editing a text runs the copy gates, so it lives a layer up, in
:mod:`contentfab.services.edits`; this module only reads and writes rows.

Text search (``AssetFilter.text``, ``sort="relevance"``) depends on the database:

* PostgreSQL: ``websearch_to_tsquery('english', q)`` against ``to_tsvector('english', text)``,
  the expression the GIN index ``ix_asset_text_search`` (migration 0004) is built on. English
  stemming ("running" finds "run"), stop words ignored, ``"quoted phrases"``, ``-excluded``
  words and ``or``; relevance is ``ts_rank``.
* SQLite: a fallback without an index. Every whitespace-separated word must occur in the text,
  case-insensitively (ASCII case only), as a substring: no stemming ("running" does not find
  "run", though "run" finds "running"), no phrase or ``-``/``or`` syntax; relevance is how many
  times the words occur. FTS5 was not used because its index is kept in step by triggers on
  ``asset``, and SQLite drops a table's triggers whenever Alembic's batch mode rebuilds that
  table, so any later migration touching ``asset`` would silently stop indexing new copy.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Double,
    Select,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from contentfab.core.errors import InputError, NotFoundError
from contentfab.db.models import (
    Asset,
    AssetReview,
    AssetStatus,
    Campaign,
    ContentKind,
    Job,
    JobStatus,
    Product,
    utcnow,
)

SORTS: dict[str, InstrumentedAttribute[Any]] = {
    "id": Asset.id,
    "created_at": Asset.created_at,
    "channel": Asset.channel,
    "status": Asset.status,
    "kind": Asset.kind,
}
"""Sort keys for :func:`find_assets`; a leading ``-`` sorts descending. Ties break on id."""


@dataclass(frozen=True)
class AssetFilter:
    """What to look for. Every field that is set must match; text matches word by word."""

    campaign_id: int | None = None
    kind: ContentKind | None = None
    channel: str | None = None
    product_sku: str | None = None
    status: AssetStatus | None = None
    model: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    text: str | None = None

    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.campaign_id is not None:
            where.append(Asset.campaign_id == self.campaign_id)
        if self.kind is not None:
            where.append(Asset.kind == self.kind)
        if self.channel is not None:
            where.append(Asset.channel == self.channel)
        if self.status is not None:
            where.append(Asset.status == self.status)
        if self.product_sku is not None:
            where.append(
                exists().where(Product.id == Asset.product_id, Product.sku == self.product_sku)
            )
        if self.model is not None:
            # Copy and recommendations record meta.model; generated image backgrounds record
            # meta.generator. Both are {name, version, sha256}.
            where.append(
                or_(
                    Asset.meta[("model", "name")].as_string() == self.model,
                    Asset.meta[("generator", "name")].as_string() == self.model,
                )
            )
        if self.created_from is not None:
            where.append(Asset.created_at >= _utc(self.created_from))
        if self.created_to is not None:
            where.append(Asset.created_at < _utc(self.created_to))
        if self.text is not None and self.text.split():
            where.append(TextMatch(self.text))
        return where


# --------------------------------------------------------------------------- text search
# Two SQL constructs compiled per database (see the module docstring). Each carries every
# value either database needs as bound parameters, so SQLAlchemy's statement cache stays right.


class _TextSearch(FunctionElement[Any]):
    inherit_cache = True

    def __init__(self, query: str) -> None:
        words = query.split()
        super().__init__(
            Asset.text,
            literal(query),
            *(literal(word.lower()) for word in words),
            *(literal(f"%{_escape_like(word)}%") for word in words),
        )

    def parts(self, compiler: SQLCompiler, **kw: Any) -> tuple[str, str, list[str], list[str]]:
        text, query, *rest = (compiler.process(c, **kw) for c in self.clauses)
        half = len(rest) // 2
        return text, query, rest[:half], rest[half:]


class TextMatch(_TextSearch):
    """Whether an asset's text matches a search query."""

    type = Boolean()
    name = "text_match"
    inherit_cache = True


class TextRank(_TextSearch):
    """How well an asset's text matches a search query: higher is better."""

    type = Double()
    name = "text_rank"
    inherit_cache = True


def _tsvector(text: str) -> str:
    # Exactly the indexed expression of migration 0004.
    return f"to_tsvector('english', coalesce({text}, ''))"


@compiles(TextMatch, "postgresql")
def _match_postgresql(element: TextMatch, compiler: SQLCompiler, **kw: Any) -> str:
    text, query, _, _ = element.parts(compiler, **kw)
    return f"{_tsvector(text)} @@ websearch_to_tsquery('english', {query})"


@compiles(TextRank, "postgresql")
def _rank_postgresql(element: TextRank, compiler: SQLCompiler, **kw: Any) -> str:
    text, query, _, _ = element.parts(compiler, **kw)
    # As double precision: a real would come back rounded to text and never equal itself in
    # the next page's cursor condition.
    return f"ts_rank({_tsvector(text)}, websearch_to_tsquery('english', {query}))::float8"


@compiles(TextMatch, "sqlite")
def _match_sqlite(element: TextMatch, compiler: SQLCompiler, **kw: Any) -> str:
    text, _, _, patterns = element.parts(compiler, **kw)
    return " AND ".join(f"lower({text}) LIKE lower({p}) ESCAPE '\\'" for p in patterns) or "1 = 1"


@compiles(TextRank, "sqlite")
def _rank_sqlite(element: TextRank, compiler: SQLCompiler, **kw: Any) -> str:
    text, _, words, _ = element.parts(compiler, **kw)
    # Occurrences of each word: how much shorter the text gets without it, in word lengths.
    counts = [
        f"(length(coalesce({text}, '')) - length(replace(lower(coalesce({text}, '')), {w}, '')))"
        f" * 1.0 / length({w})"
        for w in words
    ]
    return " + ".join(counts) or "0.0"


def _utc(moment: datetime) -> datetime:
    # Stored times are UTC; SQLite compares them as text, so a bound must be in UTC too.
    try:
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except OverflowError:
        raise InputError(f"time out of range: {moment.isoformat()}") from None


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --------------------------------------------------------------------------- finding


@dataclass
class AssetPage:
    items: list[Asset]
    next_cursor: str | None


def find_assets(
    session: Session,
    where: AssetFilter,
    *,
    sort: str = "id",
    limit: int = 50,
    cursor: str | None = None,
) -> AssetPage:
    """One page of assets, keyset-paginated: a cursor stays valid while rows are added."""
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    column: ColumnElement[Any] | InstrumentedAttribute[Any]
    if key == "relevance":
        if where.text is None or not where.text.split():
            raise InputError("sort=relevance needs a text query (q)")
        column, descending = TextRank(where.text), not descending
    elif key in SORTS:
        column = SORTS[key]
    else:
        raise InputError(
            f"sort must be one of {', '.join(SORTS)}, relevance (with - for descending)"
        )
    query = _assets_query(where)
    if cursor is not None:
        value, last_id = _decode_cursor(cursor, key)
        if descending:
            query = query.where(or_(column < value, and_(column == value, Asset.id < last_id)))
        else:
            query = query.where(or_(column > value, and_(column == value, Asset.id > last_id)))
    if descending:
        query = query.order_by(column.desc(), Asset.id.desc())
    else:
        query = query.order_by(column.asc(), Asset.id.asc())
    result = session.execute(query.add_columns(column).limit(limit + 1)).unique().all()
    rows = [row[0] for row in result]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _encode_cursor(key, result[limit - 1][1], rows[-1].id)
    return AssetPage(rows, next_cursor)


def iter_assets(session: Session, where: AssetFilter) -> Iterator[Asset]:
    """Every matching asset in id order (exports), fetched in batches."""
    query = _assets_query(where).order_by(Asset.id)
    last_id = 0
    while True:
        batch = list(session.scalars(query.where(Asset.id > last_id).limit(500)).unique())
        yield from batch
        if len(batch) < 500:
            return
        last_id = batch[-1].id


def _assets_query(where: AssetFilter) -> Select[Asset]:
    return select(Asset).options(joinedload(Asset.product)).where(*where.conditions())


def _encode_cursor(key: str, value: Any, asset_id: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    elif hasattr(value, "value"):  # an enum
        value = value.value
    raw = json.dumps([key, value, asset_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, key: str) -> tuple[Any, int]:
    """The (value, id) a cursor holds, of the type its sort key's column compares with: a
    cursor is client input, and a value of another type or beyond 64 bits would otherwise
    reach the database and fail there (a 500)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_key, value, asset_id = json.loads(raw)
        if cursor_key != key or not _is_int64(asset_id) or asset_id < 0:
            raise ValueError("cursor does not fit this sort")
        if key == "id":
            if not _is_int64(value):
                raise ValueError("id cursor needs an integer")
        elif key == "relevance":
            if not (_is_int64(value) or (isinstance(value, float) and math.isfinite(value))):
                raise ValueError("relevance cursor needs a number")
        elif not isinstance(value, str) or "\x00" in value:
            raise ValueError("this sort's cursor holds text")
        elif key == "created_at":
            value = _utc(datetime.fromisoformat(value))
        elif key in ("status", "kind"):  # an enum column binds only its own values
            value = (AssetStatus if key == "status" else ContentKind)(value)
        return value, asset_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, InputError):
        raise InputError(
            "invalid cursor: pass next_cursor from the previous page, with the same sort"
        ) from None


def _is_int64(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def assets_after(session: Session, campaign_id: int, after_id: int, limit: int) -> list[Asset]:
    """A campaign's assets with an id above ``after_id``, oldest first (the live feed)."""
    return list(
        session.scalars(
            _assets_query(AssetFilter(campaign_id=campaign_id))
            .where(Asset.id > after_id)
            .order_by(Asset.id)
            .limit(limit)
        ).unique()
    )


def last_asset_id(session: Session, campaign_id: int) -> int:
    return int(
        session.scalar(select(func.max(Asset.id)).where(Asset.campaign_id == campaign_id)) or 0
    )


def get_asset(session: Session, asset_id: int) -> Asset:
    asset = session.get(Asset, asset_id, options=[joinedload(Asset.product), joinedload(Asset.job)])
    if asset is None:
        raise NotFoundError(f"there is no asset {asset_id}")
    return asset


def asset_reviews(session: Session, asset_id: int) -> list[AssetReview]:
    return list(
        session.scalars(
            select(AssetReview).where(AssetReview.asset_id == asset_id).order_by(AssetReview.id)
        )
    )


def review_counts(session: Session, campaign_id: int) -> dict[str, dict[str, int]]:
    """kind -> review status -> number of assets."""
    counts: dict[str, dict[str, int]] = {}
    for kind, status, n in session.execute(
        select(Asset.kind, Asset.status, func.count())
        .where(Asset.campaign_id == campaign_id)
        .group_by(Asset.kind, Asset.status)
    ):
        counts.setdefault(str(kind), {})[str(status)] = int(n)
    return counts


# --------------------------------------------------------------------------- reviewing


def approve(session: Session, asset_id: int, *, actor: str) -> Asset:
    asset = get_asset(session, asset_id)
    _set_review(session, asset, AssetStatus.APPROVED, actor=actor, reason=None)
    return asset


def reject(session: Session, asset_id: int, *, actor: str, reason: str) -> Asset:
    if not reason.strip():
        raise InputError("a rejection needs a reason")
    asset = get_asset(session, asset_id)
    _set_review(session, asset, AssetStatus.REJECTED, actor=actor, reason=reason.strip())
    return asset


def _set_review(
    session: Session, asset: Asset, status: AssetStatus, *, actor: str, reason: str | None
) -> None:
    now = utcnow()
    asset.status = status
    asset.reviewed_by = actor
    asset.reviewed_at = now
    asset.reject_reason = reason
    action = "approve" if status == AssetStatus.APPROVED else "reject"
    session.add(AssetReview(asset_id=asset.id, action=action, actor=actor, at=now, reason=reason))
    session.flush()


def bulk_approve(session: Session, where: AssetFilter, *, actor: str) -> int:
    """Approve every not-yet-reviewed asset matching ``where`` (one campaign at a time).

    Assets someone already rejected stay rejected: a bulk action never overrides a person.
    """
    if where.campaign_id is None:
        raise InputError("bulk approval needs a campaign")
    if where.status not in (None, AssetStatus.GENERATED):
        raise InputError("bulk approval only approves assets not reviewed yet (status generated)")
    conditions = [*where.conditions(), Asset.status == AssetStatus.GENERATED]
    ids = list(session.scalars(select(Asset.id).where(*conditions).order_by(Asset.id)))
    if not ids:
        return 0
    now = utcnow()
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        session.execute(
            update(Asset)
            .where(Asset.id.in_(chunk), Asset.status == AssetStatus.GENERATED)
            .values(
                status=AssetStatus.APPROVED, reviewed_by=actor, reviewed_at=now, reject_reason=None
            )
            .execution_options(synchronize_session=False)
        )
        session.add_all(
            AssetReview(asset_id=i, action="approve", actor=actor, at=now, reason="bulk")
            for i in chunk
        )
    session.flush()
    return len(ids)


# --------------------------------------------------------------------------- the gallery's view


@dataclass
class ProductCard:
    """One product of a campaign with its assets, grouped the way a reviewer reads them."""

    product: Product
    copy: dict[str, list[Asset]] = field(default_factory=dict)  # channel -> variants
    images: dict[str, list[Asset]] = field(default_factory=dict)  # format -> variants
    recommended_in: int = 0  # how many recommendation lists contain the product
    failed: list[Job] = field(default_factory=list)  # its jobs that gave up, with the reason


@dataclass
class GalleryPage:
    campaign: Campaign
    cards: list[ProductCard]
    recommendations: list[Asset]
    titles: dict[str, str]  # sku -> title, to show recommendation lists
    total_products: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total_products // self.per_page))


def gallery_page(
    session: Session, campaign_id: int, where: AssetFilter, *, page: int = 1, per_page: int = 24
) -> GalleryPage:
    """A page of product cards; with a filter set, only products that have a matching asset."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFoundError(f"there is no campaign {campaign_id}")
    where = AssetFilter(**{**_as_dict(where), "campaign_id": campaign_id})
    product_query = select(Product).where(Product.campaign_id == campaign_id)
    if not _only_campaign(where):
        product_query = product_query.where(
            exists().where(Asset.product_id == Product.id, *where.conditions())
        )
    total = session.scalar(select(func.count()).select_from(product_query.subquery())) or 0
    products = list(
        session.scalars(
            product_query.order_by(Product.row, Product.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    cards = {p.id: ProductCard(p) for p in products}
    if cards:
        for asset in session.scalars(
            select(Asset)
            .where(Asset.product_id.in_(cards), *where.conditions())
            .order_by(Asset.kind, Asset.channel, Asset.variant, Asset.id)
        ):
            card = cards[asset.product_id]  # type: ignore[index]
            group = card.images if asset.kind == ContentKind.IMAGE else card.copy
            group.setdefault(asset.channel, []).append(asset)
    if cards and where.status is None and where.text is None:
        # A slot with no asset says why, so a reviewer does not wonder where it went.
        for job in session.scalars(
            select(Job)
            .where(Job.product_id.in_(cards), Job.status == JobStatus.FAILED)
            .where(*([Job.kind == where.kind] if where.kind is not None else []))
            .where(*([Job.channel == where.channel] if where.channel is not None else []))
            .order_by(Job.kind, Job.channel, Job.variant)
        ):
            cards[job.product_id].failed.append(job)  # type: ignore[index]
    recommendations: list[Asset] = []
    if where.kind in (None, ContentKind.RECOMMENDATION):
        recommendations = list(
            session.scalars(
                select(Asset)
                .where(*where.conditions(), Asset.kind == ContentKind.RECOMMENDATION)
                .order_by(Asset.channel, Asset.subject, Asset.id)
                .limit(200)
            )
        )
    titles = {
        sku: title
        for sku, title in session.execute(
            select(Product.sku, Product.title).where(Product.campaign_id == campaign_id)
        )
    }
    sku_of = {card.product.sku: card for card in cards.values()}
    for rec in recommendations:
        for item in (rec.meta or {}).get("items", []):
            listed = sku_of.get(str(item.get("sku")))
            if listed is not None:
                listed.recommended_in += 1
    return GalleryPage(
        campaign=campaign,
        cards=list(cards.values()),
        recommendations=recommendations,
        titles=titles,
        total_products=int(total),
        page=page,
        per_page=per_page,
    )


def _as_dict(where: AssetFilter) -> dict[str, Any]:
    return {f.name: getattr(where, f.name) for f in fields(where)}


def _only_campaign(where: AssetFilter) -> bool:
    return AssetFilter(campaign_id=where.campaign_id) == where


def campaigns(session: Session, limit: int = 100) -> Sequence[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(limit)))
