"""A campaign's interactions as one columnar blob: written once, read in one query.

The blob is an ``.npz`` archive (no pickles) of parallel columns, one entry per event in the
order of the file: ``user`` (int32 code into ``user_ids``), ``product_id`` (the ``product``
row's ID), ``event`` (int8 code into ``event_names``), ``timestamp`` (float64 seconds since the
epoch) and ``weight`` (float64), plus the two vocabularies as newline-joined UTF-8 text (user
IDs are one printable line each, so a newline never occurs inside one). Users are listed in
order of first appearance, so the codes number them in that order. 1.65 M events take ~35 MB.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from contentfab.db.models import CampaignInteractions

FORMAT = "npz-v1"


@dataclass(frozen=True)
class InteractionColumns:
    """Events as parallel arrays; ``user_ids[user[i]]`` and ``event_names[event[i]]``."""

    user_ids: list[str]  # in order of first appearance
    user: npt.NDArray[np.int32]
    product_id: npt.NDArray[np.int64]
    event_names: list[str]
    event: npt.NDArray[np.int8]
    timestamp: npt.NDArray[np.float64]
    weight: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.user)


def encode(
    users: Sequence[str],
    product_ids: Iterable[int],
    events: Sequence[str],
    timestamps: Sequence[float],
    weights: Sequence[float],
    user_ids: Sequence[str] | None = None,
) -> tuple[bytes, int]:
    """The blob of these columns (one entry per event), and the number of distinct users.

    ``user_ids``: the distinct users in order of first appearance, when the caller has them.
    """
    # Codes through dict lookups mapped in C: a generator with setdefault per event took
    # ~0.5 s of 1.65 M events.
    order = dict.fromkeys(users) if user_ids is None else user_ids
    codes = {name: code for code, name in enumerate(order)}
    user = np.fromiter(map(codes.__getitem__, users), dtype=np.int32, count=len(users))
    names = {name: code for code, name in enumerate(dict.fromkeys(events))}
    event = np.fromiter(map(names.__getitem__, events), dtype=np.int8, count=len(events))
    columns = InteractionColumns(
        user_ids=list(codes),
        user=user,
        product_id=np.fromiter(product_ids, dtype=np.int64, count=len(users)),
        event_names=list(names),
        event=event,
        timestamp=np.asarray(timestamps, dtype=np.float64),
        weight=np.asarray(weights, dtype=np.float64),
    )
    return _write(columns), len(codes)


def _write(columns: InteractionColumns) -> bytes:
    for name in (*columns.user_ids, *columns.event_names):
        if "\n" in name:
            raise ValueError(f"{name[:40]!r}: a newline cannot be stored in a vocabulary")
    buffer = io.BytesIO()
    np.savez(
        buffer,
        user_ids=np.frombuffer("\n".join(columns.user_ids).encode(), dtype=np.uint8),
        user=columns.user,
        product_id=columns.product_id,
        event_names=np.frombuffer("\n".join(columns.event_names).encode(), dtype=np.uint8),
        event=columns.event,
        timestamp=columns.timestamp,
        weight=columns.weight,
    )
    return buffer.getvalue()


def keep_events(columns: InteractionColumns, keep: npt.NDArray[np.bool_]) -> InteractionColumns:
    """The events where ``keep`` is true; a user left without events leaves the vocabulary
    too (the others keep their order of first appearance)."""
    user = columns.user[keep]
    present, first = np.unique(user, return_index=True)
    order = present[np.argsort(first)]  # old codes, in order of first appearance
    recode = np.zeros(len(columns.user_ids), dtype=np.int32)
    recode[order] = np.arange(len(order), dtype=np.int32)
    return InteractionColumns(
        user_ids=[columns.user_ids[code] for code in order.tolist()],
        user=recode[user],
        product_id=columns.product_id[keep],
        event_names=columns.event_names,
        event=columns.event[keep],
        timestamp=columns.timestamp[keep],
        weight=columns.weight[keep],
    )


def decode(data: bytes) -> InteractionColumns:
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        users_text = archive["user_ids"].tobytes().decode()
        events_text = archive["event_names"].tobytes().decode()
        return InteractionColumns(
            user_ids=users_text.split("\n") if users_text else [],
            user=archive["user"],
            product_id=archive["product_id"],
            event_names=events_text.split("\n") if events_text else [],
            event=archive["event"],
            timestamp=archive["timestamp"],
            weight=archive["weight"],
        )


def store_interactions(
    session: Session,
    campaign_id: int,
    users: Sequence[str],
    product_ids: Iterable[int],
    events: Sequence[str],
    timestamps: Sequence[float],
    weights: Sequence[float],
    user_ids: Sequence[str] | None = None,
) -> None:
    """Add the campaign's interactions (columns of equal length) to the session."""
    data, n_users = encode(users, product_ids, events, timestamps, weights, user_ids)
    session.add(
        CampaignInteractions(
            campaign_id=campaign_id, format=FORMAT, events=len(users), users=n_users, data=data
        )
    )


def replace_interactions(session: Session, campaign_id: int, columns: InteractionColumns) -> None:
    """Overwrite the campaign's blob with ``columns`` (fewer events: an erasure, a purge)."""
    session.execute(
        update(CampaignInteractions)
        .where(CampaignInteractions.campaign_id == campaign_id)
        .values(data=_write(columns), events=len(columns), users=len(columns.user_ids))
    )


def load_interactions(session: Session, campaign_id: int) -> InteractionColumns | None:
    """The campaign's interactions, or None when it has no blob (none, or stored as rows)."""
    row = session.execute(
        select(CampaignInteractions.format, CampaignInteractions.data).where(
            CampaignInteractions.campaign_id == campaign_id
        )
    ).first()
    if row is None:
        return None
    if row.format != FORMAT:
        raise ValueError(f"campaign {campaign_id}: unknown interactions format {row.format!r}")
    return decode(row.data)
