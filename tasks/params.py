"""The params of a job, one type per kind: what planning stores in ``Job.params`` and a chunk
task reads back.

Planning builds each job's params through its kind's type, and a chunk task validates them
when it claims the chunk (:func:`params_of`), so the task reads attributes, not keys. The
stored JSON keeps the shape it always had: databases written before these types existed load
the same (unknown keys are ignored, keys added later take the default they always had).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError


class JobParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    def stored(self) -> dict[str, Any]:
        """The JSON object ``Job.params`` holds."""
        return self.model_dump()


class CopyParams(JobParams):
    """A copy job: the slot's tone and model, and how to sample (the seed is per product)."""

    tone: str
    model: str | None = None  # None: the worker's copy model (rows before the field existed)
    seed: int
    temperature: float
    top_p: float
    repetition_penalty: float
    max_new_tokens: int
    candidates: int
    #: For a field of a bundle: {"name", "ad", "field", "index"} (CopySlotSpec.bundle).
    bundle: dict[str, Any] | None = None

    def stored(self) -> dict[str, Any]:
        # A plain channel's params have no "bundle" key at all.
        return self.model_dump(exclude={"bundle"} if self.bundle is None else set())


class ImageParams(JobParams):
    """An image job: the campaign's image section with its paths resolved, and the seed."""

    background: str  # the background mode: generated, flat, gradient, image, text_to_image
    prompt: str | None = None
    pipeline: str | None = None
    steps: int = 1
    style: str
    palette: list[str]
    background_image: str | None
    matte_model: str | None
    logo: str | None
    headline_from_channel: str | None
    price: bool
    output: str
    generator: str
    seed: int


class RecommendationParams(JobParams):
    """A recommendation job: a segment's description, or the segment a listed user is in."""

    description: str | None = None
    segment: str | None = None

    def stored(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class _HasParams(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def params(self) -> Mapping[str, Any]: ...


P = TypeVar("P", bound=JobParams)


def params_of(kind: type[P], jobs: Iterable[_HasParams]) -> dict[int, P]:
    """Each claimed job's params as ``kind``, by job id; ValueError naming the job when its
    stored params are not ``kind``'s."""
    found = {}
    for job in jobs:
        try:
            found[job.id] = kind.model_validate(job.params)
        except ValidationError as error:
            raise ValueError(f"job {job.id}: its params are not {kind.__name__}: {error}") from None
    return found
