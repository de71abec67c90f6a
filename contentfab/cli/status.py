"""`contentfab status`: a campaign's progress, failures and (with ``--watch``) live updates."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from typing import IO, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from contentfab.cli.common import (
    SHOWN_FAILURES,
    _sessions,
    _settings,
    _upgrade,
    app,
    console,
    user_errors,
)
from contentfab.core.errors import ContentfabError, NotFoundError


@app.command()
@user_errors
def status(
    campaign_id: Annotated[int | None, typer.Argument(help="Campaign ID (default: list).")] = None,
    watch: Annotated[
        bool, typer.Option(help="Show a live progress bar until it finishes.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show a campaign's progress (or list campaigns)."""
    settings = _settings()
    _upgrade(settings)
    sessions = _sessions(settings)
    # lazy: sqlalchemy stays out of `contentfab --help` (cli/__init__.py)
    from contentfab.db.queries import list_campaigns

    if campaign_id is None:
        with sessions() as session:
            table = Table("id", "name", "status", "created")
            for c in list_campaigns(session):
                table.add_row(str(c.id), c.name, str(c.status), f"{c.created_at:%Y-%m-%d %H:%M}")
        console.print(table)
        return
    if watch:
        _watch(sessions, campaign_id)
    summary = _summary(sessions, campaign_id)
    if as_json:
        console.print_json(json.dumps(_summary_dict(summary)))
    else:
        _print_summary(summary)


def _no_campaign(campaign_id: int) -> Exception:
    return NotFoundError(f"there is no campaign {campaign_id}; `contentfab status` lists them")


def _summary(sessions: Any, campaign_id: int) -> Any:
    # lazy: sqlalchemy stays out of `contentfab --help` (cli/__init__.py)
    from contentfab.db.queries import campaign_summary, get_campaign

    with sessions() as session:
        campaign = get_campaign(session, campaign_id)
        if campaign is None:
            raise _no_campaign(campaign_id)
        return campaign_summary(session, campaign)


def _progress(sessions: Any, campaign_id: int) -> Any:
    # lazy: sqlalchemy stays out of `contentfab --help` (cli/__init__.py)
    from contentfab.db.queries import campaign_progress

    with sessions() as session:
        progress = campaign_progress(session, campaign_id)
    if progress is None:
        raise _no_campaign(campaign_id)
    return progress


def _finished_or_queued(sessions: Any, campaign_id: int) -> tuple[bool, bool]:
    # lazy: sqlalchemy stays out of `contentfab --help` (cli/__init__.py)
    from contentfab.db.queries import finished_or_queued

    with sessions() as session:
        return finished_or_queued(session, campaign_id)


def _summary_dict(summary: Any) -> dict[str, Any]:
    return {
        "id": summary.id,
        "name": summary.name,
        "status": summary.status,
        "jobs": summary.jobs,
        "assets": summary.assets,
        "elapsed_seconds": summary.elapsed_seconds,
        "failures": [{"reason": r, "count": n} for r, n in summary.failures],
        "models": [{"model": m, "assets": n} for m, n in summary.models],
    }


def _print_summary(summary: Any) -> None:
    table = Table(
        "kind",
        "queued",
        "running",
        "done",
        "failed",
        "assets",
        title=f"campaign {summary.id} · {summary.name} · {summary.status}",
    )
    for kind, by_status in sorted(summary.jobs.items()):
        table.add_row(
            kind,
            *(str(by_status.get(s, 0)) for s in ("queued", "running", "done", "failed")),
            str(summary.assets.get(kind, 0)),
        )
    console.print(table)
    elapsed = summary.elapsed_seconds
    if elapsed:
        done = sum(summary.assets.values())
        console.print(f"elapsed {elapsed:.1f}s · {done / elapsed:.2f} assets/s")
    for model, n in summary.models:
        console.print(f"model {model}: {n} assets")
    for reason, n in summary.failures[:SHOWN_FAILURES]:
        console.print(f"[red]failed ×{n}[/]: {escape(str(reason))}")
    if len(summary.failures) > SHOWN_FAILURES:
        more = summary.failures[SHOWN_FAILURES:]
        console.print(
            f"… and {len(more)} more failure reasons ({sum(n for _, n in more)} jobs); "
            "`contentfab status --json` lists every one"
        )


class _RunWorker:
    """``run``'s own Celery worker process: started (again) with the same command and log."""

    def __init__(self, argv: list[str], env: dict[str, str], log: IO[bytes]) -> None:
        self.argv, self.env, self.log = argv, env, log
        self.proc = self.start()

    def start(self) -> subprocess.Popen[bytes]:
        self.draining = False
        self.saw_queued = False  # drain only once the work this process was started for is taken
        self.proc = subprocess.Popen(
            self.argv, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        return self.proc

    def drain(self) -> None:
        """Celery's warm shutdown: the running tasks finish, nothing new is taken."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.draining = True


def _watch(
    sessions: Any,
    campaign_id: int,
    worker: _RunWorker | None = None,
    timeout: float | None = None,
) -> Any:
    """Show progress until the campaign finishes; then its summary with the details.

    With ``worker`` (``run``), the worker's warm shutdown starts as soon as no job of the
    campaign is waiting any more (the last chunks are running): its seconds (Celery's pool
    shutdown, ~2 s) then pass while those chunks finish, not after them. Should work come
    back after that (a chunk released for a retry after a database outage), the worker is
    started again once it has exited.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress_now = _progress(sessions, campaign_id)
    started = time.monotonic()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[green]{task.fields[done]} done[/] [red]{task.fields[failed]} failed[/]"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        bar = progress.add_task(
            f"campaign {campaign_id}", total=progress_now.total_jobs, done=0, failed=0
        )

        def show(summary: Any) -> None:  # a CampaignProgress or a CampaignSummary
            done, failed = summary.count_status("done"), summary.count_status("failed")
            progress.update(bar, completed=done + failed, done=done, failed=failed)

        counted_at = -1.0
        pause = 0.0
        while True:
            # Counting 100,000 jobs by status takes ~10 ms: count at most a tenth of the
            # time, so the watcher does not take a CPU from the workers it watches; in
            # between, two indexed lookups (finished? anything queued?) every 0.2 s notice
            # the end without waiting for the next count.
            if time.monotonic() - counted_at >= pause:
                counted_at = time.monotonic()
                progress_now = _progress(sessions, campaign_id)
                pause = max(1.0, 10 * (time.monotonic() - counted_at))
                show(progress_now)
                finished = progress_now.finished
                queued = progress_now.count_status("queued") > 0
            else:
                finished, queued = _finished_or_queued(sessions, campaign_id)
            if finished:
                if worker is not None:
                    worker.drain()
                break
            if worker is not None:
                if worker.proc.poll() is not None:
                    if not worker.draining:
                        raise ContentfabError(
                            f"the worker exited with code {worker.proc.returncode} before "
                            f"campaign {campaign_id} finished; see its log above"
                        )
                    # It finished what it was running; look again before starting another.
                    if not _progress(sessions, campaign_id).finished:
                        worker.start()
                    continue
                if not worker.draining:
                    if queued:
                        worker.saw_queued = True
                    elif worker.saw_queued:
                        worker.drain()
            if timeout is not None and time.monotonic() - started > timeout:
                raise ContentfabError(f"campaign {campaign_id} did not finish in {timeout:.0f}s")
            time.sleep(0.2)
        summary = _summary(sessions, campaign_id)  # the finished counts, with the details
        show(summary)
    return summary
