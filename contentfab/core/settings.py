"""One typed settings object, read from ``CONTENTFAB_*`` environment variables at the edge.

The CLI and the worker boot build a :class:`Settings` once and pass it down; no other module
reads the environment. Defaults give the embedded set-up: a SQLite database, a Valkey server of
contentfab's own on a unix socket in the data dir as the broker (started on demand; see
:mod:`tasks.embedded_broker`), and a model store in the user's cache directory.
Production points ``CONTENTFAB_DATABASE_URL`` at PostgreSQL and ``CONTENTFAB_BROKER_URL`` at
Redis.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse
from urllib.request import url2pathname

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def is_local(location: str) -> bool:
    """A plain path or a file:// URL (anything else is for fsspec)."""
    return urlparse(location).scheme in ("", "file")


def local_path(location: str) -> Path:
    parsed = urlparse(location)
    return Path(url2pathname(parsed.path)) if parsed.scheme == "file" else Path(location)


#: The longest unix socket path every platform takes (sun_path: 108 bytes on Linux, 104 on macOS).
MAX_SOCKET_PATH = 100


def embedded_socket(data_dir: Path) -> Path:
    """Where the embedded broker of ``data_dir`` listens: in the data dir, or where that path is
    too long for a unix socket, in the temp dir under a name derived from the data dir (so every
    process still finds it from the data dir alone)."""
    data_dir = data_dir.resolve()
    socket = data_dir / "broker" / "valkey.sock"
    if len(os.fsencode(socket)) <= MAX_SOCKET_PATH:
        return socket
    digest = hashlib.sha256(os.fsencode(data_dir)).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"contentfab-{digest}.sock"


def _xdg(variable: str, fallback: str, *parts: str) -> Path:
    return Path(os.environ.get(variable) or Path(fallback).expanduser()).joinpath(*parts)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONTENTFAB_", extra="ignore")

    data_dir: Path = Field(
        default_factory=lambda: _xdg("XDG_DATA_HOME", "~/.local/share", "contentfab"),
        description="Where the embedded SQLite database, broker and assets live.",
    )
    model_store: Path = Field(
        default_factory=lambda: _xdg("XDG_CACHE_HOME", "~/.cache", "contentfab", "models"),
        description="Exported ONNX models and their manifests (built by `contentfab models build`).",
    )
    database_url: str = Field(default="", description="SQLAlchemy URL; default SQLite in data_dir.")
    broker_url: str = Field(
        default="",
        description="Celery broker; default: the embedded Valkey server of data_dir, on a unix "
        "socket (redis+socket://…).",
    )
    result_backend: str | None = Field(
        default=None,
        description="Celery result backend. Unused by contentfab itself: job state lives in SQL.",
    )

    # Inference
    providers: list[str] = Field(
        default=["CUDAExecutionProvider", "CPUExecutionProvider"],
        description="ONNX Runtime execution providers in order of preference; unavailable ones "
        "are skipped and the one actually used is recorded on every asset.",
    )
    intra_op_threads: int = Field(default=0, ge=0, description="0 lets ONNX Runtime decide.")
    copy_model: str = Field(default="smollm2-135m-instruct", description="Default copy model.")
    copy_embedding_model: str = Field(
        default="minilm-l6-v2",
        description="Sentence encoder that dedupes copy by embedding similarity and ranks it by "
        "relevance to the product; when it is not in the model store (or empty), copy is "
        "deduped by its text alone and ranked by likelihood.",
    )
    matte_model: str = Field(
        default="u2netp",
        description="Salient-object model (a model-store name) that cuts product photos out, as "
        "matte_policy says; a campaign's own images.matte_model file runs on every photo "
        "instead. Not in the store (or empty): the studio matte everywhere.",
    )
    matte_policy: Literal["model", "auto", "studio"] = Field(
        default="model",
        description="How product photos are cut out when matte_model is in the store: 'model' "
        "runs it on every photo (it measured better on real photos and packshots alike), "
        "'auto' only where a photo's border is not a clean studio backdrop (the studio matte "
        "keeps packshot pixels bit-exact and costs no model run), 'studio' never.",
    )
    text_to_image_pipeline: str | None = Field(
        default=None,
        description="Text-to-image pipeline for image backgrounds of mode text_to_image when "
        "the campaign names none: a folder in the SD-Turbo ONNX layout (your own optimum "
        "export) or a model-store name.",
    )

    extra_file_roots: list[Path] = Field(
        default=[],
        description="Folders outside a campaign's own folder whose files a campaign may name "
        "(a shared model folder for matte models and text-to-image pipelines), as a JSON "
        'list: ["/srv/models"]. Every other path a campaign names must stay in its folder.',
    )

    # Queueing
    chunk_size: int = Field(default=8, ge=1, le=512, description="Job IDs per task message.")
    recs_chunk_size: int = Field(
        default=5000,
        ge=1,
        le=20_000,
        description="Recommendation job IDs per task message: a list is a row of one matrix "
        "product, so large chunks keep the worker in numpy instead of in bookkeeping (each "
        "chunk also costs a claim, a commit and a broker round trip: ~0.2 s on a busy 2-core "
        "machine, 20 s over 100,000 users in chunks of 1,000).",
    )
    task_soft_time_limit: int = Field(default=900, ge=10, description="Seconds.")
    task_time_limit: int = Field(default=960, ge=10, description="Seconds; hard kill.")
    max_retries: int = Field(
        default=10,
        ge=0,
        description="Retries of a task after a transient error (database or broker outage). "
        "The n-th waits 1-2 s doubling up to 60-120 s, so the default rides out an outage of "
        "at least 5 minutes.",
    )
    max_deliveries: int = Field(
        default=3,
        ge=1,
        description="How often a job may be handed to a worker that then dies before the job is "
        "marked failed instead of redelivered again.",
    )
    worker_concurrency: int = Field(default=1, ge=1)
    broker_visibility_timeout: int | None = Field(
        default=None,
        ge=2,
        description="Redis: seconds after which a message whose worker died unacked is handed "
        "out again (default: task_time_limit + 60). A value below the longest task makes a "
        "healthy slow task run twice; fault tests set it low.",
    )

    asset_url: str | None = Field(
        default=None,
        description="Where image files go: a folder or an fsspec URL (file:///srv/assets, "
        "s3://bucket/prefix with s3fs installed, ...). Default: data_dir/assets. The review "
        "API serves files only from a local one.",
    )

    # Privacy
    interaction_retention_days: float | None = Field(
        default=None,
        gt=0,
        description="How long shoppers' interaction events are kept, in days from their "
        "timestamp; `contentfab gc --delete` purges older ones. Unset: kept until the campaign "
        "or the shopper (`contentfab forget`) is removed.",
    )
    pseudonym_key: SecretStr | None = Field(
        default=None,  # its length is checked where it is used: an error here would echo it
        description="The secret key of the keyed hash (HMAC-SHA256) that a campaign with "
        "`recommendations.pseudonymize: true` stores in place of each user ID; never stored "
        "by contentfab. Needed to enqueue such a campaign, to forget its shoppers by their "
        "own IDs and to map its lists back (`contentfab pseudonym`, `assets --users`). "
        "At least 32 characters: `openssl rand -hex 32`.",
    )

    # Review API and gallery (`contentfab serve`)
    api_key: str | None = Field(
        default=None,
        description="Key required (X-API-Key header) for review actions; without one they are "
        "refused. `contentfab serve` makes a one-off key when none is set.",
    )
    read_only: bool = Field(default=False, description="Refuse every review action.")
    allowed_hosts: list[str] = Field(
        default=[],
        description="Host names the review API answers to besides localhost, 127.0.0.1, ::1 "
        'and the address `serve` binds (a JSON list: ["review.example.com"]; "*" for any). '
        "A request naming another Host gets 400.",
    )

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'contentfab.db'}"
        if not self.broker_url:
            self.broker_url = f"redis+socket://{embedded_socket(self.data_dir)}"
        if self.task_time_limit <= self.task_soft_time_limit:
            raise ValueError("task_time_limit must be larger than task_soft_time_limit")
        return self

    @property
    def embedded_broker(self) -> Path | None:
        """The embedded broker's socket when the broker is the default one (contentfab starts
        it on demand); None for a broker of the user's own."""
        socket = embedded_socket(self.data_dir)
        return socket if self.broker_url == f"redis+socket://{socket}" else None

    @property
    def asset_dir(self) -> Path:
        """The local asset folder (``asset_url`` when that is a path or file:// URL)."""
        if self.asset_url and is_local(self.asset_url):
            return local_path(self.asset_url)
        return self.data_dir / "assets"

    @property
    def asset_root(self) -> str:
        """Where image files are written: a local folder or any fsspec URL."""
        return self.asset_url if self.asset_url else str(self.asset_dir)

    @property
    def visibility_timeout(self) -> int:
        """Redis redelivers unacked messages after this; it must outlast the longest task.

        A worker holds at most one unacked message per process (prefetch 1, late acks) and the
        hard time limit ends every task, so the limit plus a minute of slack is enough.
        """
        if self.broker_visibility_timeout is not None:
            return self.broker_visibility_timeout
        return self.task_time_limit + 60

    def to_env(self) -> dict[str, str]:
        """These settings as CONTENTFAB_* variables, for a worker process started by the CLI."""
        env = {}
        # A worker never needs the pseudonym key (it sees stored pseudonyms only), and a
        # dump would write it as a mask.
        for name, value in self.model_dump(mode="json", exclude={"pseudonym_key"}).items():
            if value is None:
                continue
            text = json.dumps(value) if isinstance(value, list | dict) else str(value)
            env[f"CONTENTFAB_{name.upper()}"] = text
        return env

    def ensure_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.model_store.mkdir(parents=True, exist_ok=True)
