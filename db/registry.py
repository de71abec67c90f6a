"""The model registry: which exported models (by sha256) workers have used."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contentfab.db.models import ModelRecord


def register_model(
    session: Session, *, name: str, version: str, task: str, sha256: str, manifest: dict[str, Any]
) -> ModelRecord:
    """The registry row for this exact model file, created on first use (idempotent)."""
    query = select(ModelRecord).where(ModelRecord.name == name, ModelRecord.sha256 == sha256)
    existing = session.scalar(query)
    if existing is not None:
        return existing
    record = ModelRecord(name=name, version=version, task=task, sha256=sha256, manifest=manifest)
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:  # another worker registered it at the same moment
        found = session.scalar(query)
        if found is None:
            raise
        return found
    return record
