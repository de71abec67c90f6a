"""A reviewer's own text for a copy asset: measured against its channel, run through every
gate generated copy had to pass, then stored with who, when and which gates were overridden.

This is a use-case over two lower layers, the database (:mod:`db.review`, :mod:`db.models`)
and the copy gates (:mod:`workers.copy.writer`), which therefore never import each other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contentfab.campaign.spec import resolve_channel, stored_brand
from contentfab.core.channels import (
    Channel,
    fits,
    limit,
    measure,
    sms_encoding,
    word_count,
)
from contentfab.core.characters import forbidden_character
from contentfab.core.errors import DoesNotFitError, GatesFailedError, InputError
from contentfab.db.models import Asset, AssetReview, AssetStatus, Campaign, ContentKind, utcnow
from contentfab.db.review import get_asset
from contentfab.workers.copy.dedupe import near_duplicate
from contentfab.workers.copy.gates import brand_failures, check
from contentfab.workers.copy.records import brand_rules, product_facts
from contentfab.workers.copy.slots import GATES

#: Gates a forced edit cannot override: the channel itself would refuse the text.
HARD_GATES = frozenset({"empty", "length"})


@dataclass(frozen=True)
class EditCheck:
    """What the gates say about a reviewer's text for an asset, before anything is stored."""

    checked: tuple[str, ...]  # gate names run, in ``workers.copy.slots.GATES`` order
    failures: tuple[str, ...]  # one reason per failing gate, each starting with its name

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(reason.split(":")[0] for reason in self.failures))

    @property
    def passed(self) -> list[str]:
        return [gate for gate in self.checked if gate not in self.failed]


def check_edit(session: Session, asset_id: int, text: str) -> EditCheck:
    """Run every gate generated copy had to pass on ``text`` as the new text of a copy asset:
    the channel's limits (the campaign's custom channel, else the preset), the product record
    (invented numbers and claims, the product's name where the channel needs it, relevance),
    the campaign's brand kit, repetition, and near-duplicates of the product's other variants
    for the channel. ``DoesNotFitError`` if the text breaks the channel's limits, which no
    override can publish; otherwise the failing gates, for the caller to refuse or override.
    (``truncated`` is about how a model stopped, so a person's text never meets it.)"""
    asset = _copy_asset(session, asset_id)
    text = text.strip()
    if not text:
        raise InputError("the new text is empty")
    campaign = session.get_one(Campaign, asset.campaign_id)
    spec = campaign.spec or {}
    target = resolve_channel(spec, asset.channel)
    # Control and invisible characters would reach exports and terminals as they are; like a
    # channel's limits, no override publishes them.
    problem = forbidden_character(text, newlines=target is None or target.multiline)
    if problem is not None:
        raise DoesNotFitError(f"the new text {problem}")
    skipped = {"truncated"}
    if target is not None:
        fit = _fit(target, text)
        if fit.problem is not None:
            raise DoesNotFitError(fit.problem)
    kit = stored_brand(spec)
    brand = brand_rules(kit)
    if asset.product is None:  # no product record to check facts against
        skipped |= {"length", "repetition", "relevance", "product_name", "fact", "claim"}
        failures = brand_failures(text, target or _UNLIMITED, brand)
    else:
        if target is None:  # a channel nobody defines any more: no limits to count
            skipped |= {"length"}
        failures = check(text, target or _UNLIMITED, product_facts(asset.product, kit), brand)
    siblings = session.scalars(
        select(Asset.text).where(
            Asset.campaign_id == asset.campaign_id,
            Asset.kind == ContentKind.COPY,
            Asset.product_id == asset.product_id,
            Asset.channel == asset.channel,
            Asset.id != asset.id,
            Asset.text.is_not(None),
        )
    )
    twin = near_duplicate(text, [str(t) for t in siblings])
    if twin is not None:
        failures.append(f"duplicate: nearly repeats another variant: {twin!r}")
    checked = tuple(gate for gate in GATES if gate not in skipped)
    return EditCheck(checked, tuple(failures))


def edit_text(
    session: Session,
    asset_id: int,
    *,
    actor: str,
    text: str,
    force: bool = False,
    reason: str | None = None,
) -> Asset:
    """Replace a copy asset's text. The generated text is kept in ``original_text`` (once);
    the asset goes back to review, because what was approved or rejected is no longer there.

    The text must pass the gates generated copy passed (:func:`check_edit`); if it does not,
    ``GatesFailedError`` names each failing gate and nothing changes. ``force`` with a
    ``reason`` publishes it anyway, except over the channel's limits: the review row records
    the overridden gates, who and why, and ``meta.gates_passed`` lists only the gates the new
    text did pass (``meta.gates_overridden`` the rest).
    """
    reason = (reason or "").strip() or None
    if force and reason is None:
        raise InputError("a forced edit needs a reason (why publish it over the gates?)")
    asset = _copy_asset(session, asset_id)
    text = text.strip()
    if text and text == asset.text:
        return asset  # nothing to change, so nothing to check or record
    result = check_edit(session, asset_id, text)
    if result.failures and not force:
        raise GatesFailedError(list(result.failures))
    now = utcnow()
    overridden = list(result.failures) or None
    session.add(
        AssetReview(
            asset_id=asset.id,
            action="edit",
            actor=actor,
            at=now,
            reason=reason if overridden else None,
            text_before=asset.text,
            text_after=text,
            overridden_gates=overridden,
        )
    )
    # A new dict, so the JSON column sees the change; the generated text's gate results no
    # longer describe what is published.
    meta = {k: v for k, v in (asset.meta or {}).items() if k != "gates_overridden"}
    meta["gates_passed"] = result.passed
    if overridden:
        meta["gates_overridden"] = {"failures": overridden, "by": actor, "reason": reason}
    asset.meta = meta
    if asset.original_text is None:
        asset.original_text = asset.text
    asset.text = text
    asset.sha256 = hashlib.sha256(text.encode()).hexdigest()
    asset.edited_by = actor
    asset.edited_at = now
    asset.status = AssetStatus.GENERATED
    asset.reviewed_by = asset.reviewed_at = asset.reject_reason = None
    session.flush()
    return asset


def _copy_asset(session: Session, asset_id: int) -> Asset:
    asset = get_asset(session, asset_id)
    if asset.kind != ContentKind.COPY:
        raise InputError(f"asset {asset_id} is {asset.kind.value}; only copy can be edited")
    return asset


@dataclass(frozen=True)
class Fit:
    """How a text measures on a channel, as that channel counts (contentfab.core.channels)."""

    channel: str
    label: str
    length: int
    limit: int
    words: int
    encoding: str | None  # SMS only: gsm7 or ucs2
    problem: str | None  # why it cannot be published there, or None


def check_fit(
    channel_name: str, text: str, campaign_spec: Mapping[str, Any] | None = None
) -> Fit | None:
    """Measure ``text`` for a channel: a preset, or with ``campaign_spec`` also that campaign's
    own channels; None for a channel nobody defines."""
    channel = resolve_channel(campaign_spec or {}, channel_name)
    return None if channel is None else _fit(channel, text)


def _fit(channel: Channel, text: str) -> Fit:
    length, most, words = measure(channel, text), limit(channel, text), word_count(text)
    encoding = sms_encoding(text) if channel.count == "gsm7" else None
    problem = None
    if not fits(channel, text):
        if not text.strip():
            problem = "the text is empty"
        elif not channel.multiline and ("\n" in text or "\r" in text):
            problem = f"{channel.label} must be one line"
        elif length > most:
            problem = (
                f"{channel.label} allows {most} characters as it counts them; this is {length}"
            )
            if encoding == "ucs2":
                problem += " (a character outside the GSM alphabet makes it a 70-character SMS)"
        elif channel.min_words is not None and words < channel.min_words:
            problem = f"{channel.label} needs at least {channel.min_words} words; this has {words}"
        else:
            problem = f"{channel.label} allows at most {channel.max_words} words; this has {words}"
    return Fit(channel.name, channel.label, length, most, words, encoding, problem)


_UNLIMITED = Channel(
    name="unknown", label="Unknown channel", instruction="", max_chars=10**9, multiline=True
)
