"""Pseudonymous user IDs: what a campaign with ``recommendations.pseudonymize: true`` stores
in place of each shopper's ID.

The pseudonym is ``p:`` and the hex HMAC-SHA256 of the ID (its UTF-8 bytes) under the key
``CONTENTFAB_PSEUDONYM_KEY``, so anyone holding the key can recompute it in any language,
and nobody without it can, not even from a list of likely IDs (e-mail addresses, customer
numbers). A keyed hash is one-way: the database alone never gives an ID back. Mapping back
happens at the edge, by hashing IDs the user already holds (``contentfab pseudonym``,
``contentfab assets --users``, ``contentfab forget``). The key is read from the settings and
is never written to the database, the stored spec or a worker's environment.

The campaign is checked with the IDs as given (problems name rows, not IDs) and hashed as a
whole before anything is stored, so the interaction blob, the jobs, the lists and the
stored spec's ``users`` all hold the same pseudonyms, and the lists are the ones the plain
IDs would get: the recommender treats an ID as an opaque key.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import replace

from contentfab.campaign import CampaignSpec, LoadedCampaign
from contentfab.campaign.interactions import InteractionLog
from contentfab.core.errors import InputError
from contentfab.core.settings import Settings

PREFIX = "p:"
KEY_VARIABLE = "CONTENTFAB_PSEUDONYM_KEY"
MIN_KEY_LENGTH = 32


def pseudonym(key: bytes, user_id: str) -> str:
    """The stored form of ``user_id`` under ``key``."""
    return PREFIX + hmac.new(key, user_id.encode(), hashlib.sha256).hexdigest()


def pseudonyms(key: bytes, user_ids: Iterable[str]) -> dict[str, str]:
    """Each distinct ID and its pseudonym, in first-seen order."""
    return {user: pseudonym(key, user) for user in dict.fromkeys(user_ids)}


def key_of(settings: Settings, why: str) -> bytes:
    """The key, or an :class:`InputError` saying that ``why`` needs it."""
    if settings.pseudonym_key is None:
        raise InputError(
            f"{why} needs the pseudonym key: set {KEY_VARIABLE} to the secret the campaign's "
            f"user IDs are hashed with (at least {MIN_KEY_LENGTH} characters, e.g. `openssl rand -hex 32`; "
            "keep it in your secret store: contentfab never stores it)"
        )
    key = settings.pseudonym_key.get_secret_value()
    if len(key) < MIN_KEY_LENGTH:  # never echoed: it is a secret even when too short
        raise InputError(
            f"{KEY_VARIABLE} is shorter than {MIN_KEY_LENGTH} characters: make a strong one, "
            "e.g. `openssl rand -hex 32`"
        )
    return key.encode()


def wants_pseudonyms(spec: CampaignSpec | dict[str, object] | None) -> bool:
    """Whether a campaign (its spec, or the spec as stored) pseudonymises its user IDs."""
    if isinstance(spec, CampaignSpec):
        return spec.recommendations is not None and spec.recommendations.pseudonymize
    recs = (spec or {}).get("recommendations")
    return isinstance(recs, dict) and recs.get("pseudonymize") is True


def campaign_key(loaded: LoadedCampaign, settings: Settings) -> bytes | None:
    """The key a campaign's IDs are hashed with: None when it keeps them as given; an
    :class:`InputError` (before anything is stored) when it pseudonymises and no key is set."""
    if not wants_pseudonyms(loaded.spec):
        return None
    return key_of(settings, f"{loaded.source_path}: recommendations.pseudonymize")


def pseudonymize(loaded: LoadedCampaign, key: bytes) -> LoadedCampaign:
    """``loaded`` with every user ID replaced by its pseudonym: the interactions and the
    ``users`` list (segments are named by the user, not by shoppers, and stay)."""
    recs = loaded.spec.recommendations
    assert recs is not None
    log = loaded.interactions
    if log is not None:
        names = pseudonyms(key, log.user_ids())
        log = InteractionLog(
            list(map(names.__getitem__, log.users)),
            log.skus,
            log.events,
            log.timestamps,
            log.weights,
            _user_ids=list(names.values()),
            _counted=len(log.users),
        )
    users = recs.users
    if isinstance(users, list):
        users = [entry.model_copy(update={"id": pseudonym(key, entry.id)}) for entry in users]
    spec = loaded.spec.model_copy(
        update={"recommendations": recs.model_copy(update={"users": users})}
    )
    return replace(loaded, spec=spec, interactions=log)
