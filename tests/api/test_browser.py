"""End to end in headless Chromium: the gallery of a generated campaign, reviewed by mouse and
keyboard, checked in the database; live progress while a campaign runs; screenshots.

Uses Debian's ``chromium`` through the ``playwright`` package (no browser download). Skips
locally when it is missing; fails under ``CI=true`` (.ci/run installs it).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from contentfab.core.settings import Settings
from contentfab.db.models import (
    Asset,
    AssetReview,
    AssetStatus,
    Campaign,
    CampaignStatus,
    ContentKind,
    Job,
    JobStatus,
)
from contentfab.db.session import transaction
from tests.api.conftest import API_KEY
from tests.api.seed import seed_campaign
from tests.api.server import running

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LAPTOP = {"width": 1366, "height": 768}
INVENTED_PRICE = "Canvas Weekender Bag, now €19"  # the seeded catalog says 129 EUR
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (CI=true: the browser test must run)", pytrace=False)
    pytest.skip(what)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} is missing: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000
        )
        yield browser
        browser.close()


@pytest.fixture
def sqlite_sessions(tmp_path):
    from contentfab.db.migrate import upgrade
    from contentfab.db.session import configure

    url = f"sqlite:///{tmp_path / 'contentfab.db'}"
    upgrade(url)
    factory = configure(url)
    yield url, factory
    factory.kw["bind"].dispose()


@pytest.fixture
def app_and_sessions(tmp_path, sqlite_sessions):
    from contentfab.api import create_api

    url, sessions = sqlite_sessions
    settings = Settings(data_dir=tmp_path / "data", database_url=url, api_key=API_KEY)
    return create_api(settings, sessions), sessions, settings


def _shots(tmp_path: Path) -> list[Path]:
    # Always into the test's tmp dir; also into CONTENTFAB_SCREENSHOTS (docs/screenshots when
    # refreshing the README's pictures).
    dirs = [tmp_path / "screenshots"]
    if os.environ.get("CONTENTFAB_SCREENSHOTS"):
        dirs.append(Path(os.environ["CONTENTFAB_SCREENSHOTS"]))
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
    return dirs


def _page(browser, viewport, errors):
    context = browser.new_context(viewport=viewport, is_mobile=viewport == PHONE)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    return context, page


def test_review_two_assets_in_the_gallery(browser, app_and_sessions, tmp_path):
    app, sessions, settings = app_and_sessions
    seeded = seed_campaign(sessions, settings.asset_dir)
    errors: list[str] = []
    with running(app) as base:
        context, page = _page(browser, LAPTOP, errors)
        page.goto(f"{base}/campaigns/{seeded.campaign_id}#key={API_KEY}")
        # The key moved from the URL into the tab's storage.
        assert "#key" not in page.url
        page.click("details.who summary")
        page.fill("#reviewer", "dana")
        page.press("#reviewer", "Tab")
        page.click("details.who summary")

        first = page.locator(f'.asset[data-id="{seeded.copy_ids[0]}"]')
        first.locator('button[data-action="approve"]').click()
        first.locator(".badge.approved").wait_for()

        # Keyboard: j moves to the next asset, a approves it, r rejects (with a reason).
        page.keyboard.press("j")
        second_id = page.evaluate("() => document.activeElement.dataset.id")
        assert int(second_id) == seeded.copy_ids[1]
        page.keyboard.press("a")
        page.locator(f'.asset[data-id="{second_id}"] .badge.approved').wait_for()
        page.once("dialog", lambda dialog: dialog.accept("reads like spam"))
        page.keyboard.press("j")
        page.keyboard.press("r")
        third = page.locator(f'.asset[data-id="{seeded.copy_ids[2]}"]')
        third.locator(".badge.rejected").wait_for()
        assert third.locator(".reason").inner_text() == "reads like spam"
        assert page.locator('[data-count="approved"]').inner_text() == "2"

        # Edit inline: the editor counts as the channel does (Google Ads: wide characters are 2)
        # and runs the copy gates live: the Canvas Weekender Bag costs 129 EUR, not 19.
        headline = page.locator(f'.asset[data-id="{seeded.copy_ids[7]}"]')
        headline.focus()
        page.keyboard.press("e")
        editor = headline.locator("form.editor")
        gates = editor.locator("[data-role=gates]")
        editor.locator("textarea").fill(INVENTED_PRICE)
        # (The generated text, shown first, fails product_name: wait for the new text's check.)
        gates.filter(has_text="fact:").wait_for()
        assert gates.inner_text() == "gates: fact: not in the product data: €19"
        assert editor.locator("[data-role=override]").is_visible()
        editor.locator("textarea").fill("Canvas Weekender Bag 旅行 Trip")
        # Words the product data does not write are named (grounded copy, issue #15) ...
        gates.filter(has_text="旅行").wait_for()
        assert gates.inner_text().startswith("gates: grounding: ")
        # ... and the counter counts CJK double, as the channel does.
        page.wait_for_function(
            "el => el.querySelector('[data-role=length]').textContent === '30'",
            arg=editor.element_handle(),
        )
        assert editor.locator("[data-role=limit]").inner_text() == "30"
        assert not editor.evaluate("el => el.classList.contains('over')")
        editor.locator("textarea").fill("Canvas Weekender Bag 旅行 Trip!!")
        editor.locator("[data-role=problem]").wait_for()
        assert "allows 30 characters" in editor.locator("[data-role=problem]").inner_text()
        editor.locator('button[type="submit"]').click()  # the server refuses it too (422)
        page.wait_for_function(
            "el => el.querySelector('[data-role=problem]').textContent.includes('this is 32')",
            arg=editor.element_handle(),
        )
        for directory in _shots(tmp_path):
            headline.screenshot(path=directory / "gallery-editor.png")
        # Saving a text the gates refuse shows why (422) and changes nothing; publishing it
        # anyway takes the box ticked and a reason.
        editor.locator("textarea").fill(INVENTED_PRICE)
        gates.filter(has_text="fact:").wait_for()
        editor.locator('button[type="submit"]').click()
        page.wait_for_function(
            "el => el.querySelector('.problem[data-role=problem]').hidden",
            arg=editor.element_handle(),
        )
        assert "fact: not in the product data: €19" in gates.inner_text()
        assert headline.locator(".text").inner_text() != INVENTED_PRICE
        editor.locator("[data-role=force]").check()
        editor.locator("[data-role=reason]").fill("agreed flash price")
        editor.locator("textarea").press("Control+Enter")
        editor.wait_for(state="detached")
        assert headline.locator(".text").inner_text() == INVENTED_PRICE
        assert headline.locator(".original").inner_text().startswith("was: ")

        page.evaluate(
            "document.activeElement.blur(); document.querySelector('#toast').hidden = true"
        )
        page.evaluate("window.scrollTo(0, 0)")
        for directory in _shots(tmp_path):
            page.screenshot(path=directory / "gallery-laptop.png")
        context.close()

        context, phone = _page(browser, PHONE, errors)
        phone.goto(f"{base}/campaigns/{seeded.campaign_id}")
        # No sideways scrolling on a phone.
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        phone.locator(f'.asset[data-id="{seeded.copy_ids[0]}"] .badge.approved').wait_for()
        for directory in _shots(tmp_path):
            phone.screenshot(path=directory / "gallery-phone.png")
        phone.locator(".recommendations h2").scroll_into_view_if_needed()
        for directory in _shots(tmp_path):
            phone.screenshot(path=directory / "gallery-phone-recommendations.png")
        context.close()

    with sessions() as session:
        reviewed = session.scalars(
            select(Asset).where(Asset.status != AssetStatus.GENERATED).order_by(Asset.id)
        ).all()
    assert [(a.id, a.status, a.reviewed_by) for a in reviewed] == [
        (seeded.copy_ids[0], AssetStatus.APPROVED, "dana"),
        (seeded.copy_ids[1], AssetStatus.APPROVED, "dana"),
        (seeded.copy_ids[2], AssetStatus.REJECTED, "dana"),
    ]
    assert reviewed[2].reject_reason == "reads like spam"
    with sessions() as session:
        edited = session.get(Asset, seeded.copy_ids[7])
        assert edited.text == INVENTED_PRICE
        assert edited.original_text is not None and edited.original_text != edited.text
        assert edited.edited_by == "dana"
        review = session.scalars(select(AssetReview).where(AssetReview.asset_id == edited.id)).one()
        assert (review.actor, review.reason) == ("dana", "agreed flash price")
        assert review.overridden_gates == ["fact: not in the product data: €19"]
    # The two refused saves are logged by the browser as failed requests; nothing else went
    # wrong.
    assert [e for e in errors if "status of 422" not in e] == []
    assert len(errors) == 2


def test_the_editor_checks_a_campaign_channel(browser, app_and_sessions):
    """Copy for one of the campaign's own channels: the fit endpoint knows only presets, so the
    live gate check says when the text is over that channel's limit, and which gates fail."""
    app, sessions, settings = app_and_sessions
    seeded = seed_campaign(sessions, settings.asset_dir)
    asset_id = seeded.copy_ids[0]  # Trail Thermos 750 ml
    with transaction(sessions) as session:
        campaign = session.get_one(Campaign, seeded.campaign_id)
        campaign.spec = {
            "copy": {"custom_channels": {"push_title": {"max": 24, "requires_name": True}}}
        }
        session.get_one(Asset, asset_id).channel = "push_title"
    errors: list[str] = []
    with running(app) as base:
        context, page = _page(browser, LAPTOP, errors)
        page.goto(f"{base}/campaigns/{seeded.campaign_id}#key={API_KEY}")
        tile = page.locator(f'.asset[data-id="{asset_id}"]')
        tile.focus()
        page.keyboard.press("e")
        editor = tile.locator("form.editor")
        editor.locator("textarea").fill("Trail Thermos, hot all day")
        editor.locator("[data-role=problem]").filter(has_text="this is 26").wait_for()
        assert "Push title allows 24" in editor.locator("[data-role=problem]").inner_text()
        assert editor.locator("[data-role=override]").is_hidden()
        editor.locator("textarea").fill("Hot coffee, every trail")
        editor.locator("[data-role=gates]").filter(has_text="product_name").wait_for()
        assert editor.locator("[data-role=problem]").is_hidden()
        editor.locator("textarea").fill("Trail Thermos, all day")
        editor.locator("[data-role=gates]").wait_for(state="hidden")
        editor.locator('button[type="submit"]').click()
        editor.wait_for(state="detached")
        assert tile.locator(".text").inner_text() == "Trail Thermos, all day"
        context.close()
    # The channel has no preset, so the editor's count request is a 404; nothing else failed.
    assert [e for e in errors if "status of 404" not in e] == []


def test_a_running_campaign_shows_live_progress(browser, app_and_sessions, tmp_path):
    app, sessions, settings = app_and_sessions
    seeded = seed_campaign(sessions, settings.asset_dir, finished=False)
    with transaction(sessions) as session:
        product = session.get(Asset, seeded.copy_ids[0]).product
        job = Job(
            campaign_id=seeded.campaign_id,
            product=product,
            kind=ContentKind.COPY,
            channel="sms",
            variant=0,
            params={},
        )
        session.add(job)
        session.flush()
        job_id = job.id
    errors: list[str] = []
    with running(app) as base:
        context, page = _page(browser, LAPTOP, errors)
        page.goto(f"{base}/campaigns/{seeded.campaign_id}")
        assert page.locator("#progress-text").inner_text().startswith("29 / 30")
        # The live feed (server-sent events) is open and has said where things stand.
        page.wait_for_function(
            "() => document.querySelector('#progress-text').textContent.includes('1 queued')"
        )
        page.locator(f'.asset[data-id="{seeded.copy_ids[0]}"]').focus()
        with transaction(sessions) as session:
            job = session.get(Job, job_id)
            job.status = JobStatus.DONE
            asset = Asset(
                job_id=job.id,
                campaign_id=job.campaign_id,
                product_id=job.product_id,
                kind=job.kind,
                channel=job.channel,
                variant=0,
                text="Trail Thermos: hot coffee at the summit. 20% off today.",
                sha256="0" * 64,
                meta={},
            )
            session.add(asset)
            campaign = session.get(Campaign, seeded.campaign_id)
            campaign.status = CampaignStatus.DONE
            campaign.finished_at = campaign.started_at
            session.flush()
            new_id = asset.id
        page.wait_for_function(
            "() => document.querySelector('#progress-text').textContent.startsWith('30 / 30')"
        )
        # The new asset appears without a reload, and the reviewer keeps their place.
        new_tile = page.locator(f'.asset[data-id="{new_id}"]')
        new_tile.wait_for()
        assert "hot coffee at the summit" in new_tile.inner_text()
        assert page.evaluate("() => document.activeElement.dataset.id") == str(seeded.copy_ids[0])
        assert page.locator("#campaign-status").inner_text() == "done"
        assert page.locator('[data-count="generated"]').inner_text() == "30"
        context.close()
    assert errors == []


@pytest.mark.slow
def test_review_a_model_generated_campaign(browser, tmp_path, smollm2_store):
    """The whole way: `contentfab enqueue` → a real Celery worker writing copy with SmolLM2 →
    the gallery, open while it runs (live progress and new assets over server-sent events) →
    approve two, reject one with a reason, edit one → the database says so."""
    from typer.testing import CliRunner

    from contentfab.api import create_api
    from contentfab.cli import app as cli
    from contentfab.db.session import configure
    from tests.pipeline import MODEL, environment, start_worker, stop_worker, write_campaign

    db_url = f"sqlite:///{tmp_path / 'data' / 'contentfab.db'}"
    broker = f"sqla+sqlite:///{tmp_path / 'data' / 'broker.db'}"
    campaign = write_campaign(
        tmp_path, channels=["email_subject", "search_headline"], variants=1, model=MODEL, products=4
    )
    env = environment(tmp_path, smollm2_store.root, db_url, broker, model=MODEL)
    enqueued = CliRunner().invoke(cli, ["enqueue", str(campaign)], env=env)
    assert enqueued.exit_code == 0, enqueued.output
    sessions = configure(db_url)
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url, api_key=API_KEY)
    errors: list[str] = []
    with running(create_api(settings, sessions)) as base:
        context, page = _page(browser, LAPTOP, errors)
        page.goto(f"{base}/campaigns/1#key={API_KEY}")
        assert page.locator(".asset").count() == 0  # nothing generated yet
        started = time.monotonic()
        worker = start_worker(env)
        try:
            # Copy arrives in the open page, without a reload, while the campaign runs.
            page.locator(".asset").first.wait_for(timeout=300_000)
            page.wait_for_function(
                "() => document.querySelector('#campaign-status').textContent !== 'queued' && "
                "document.querySelector('#summary').dataset.finished === 'true'",
                timeout=300_000,
            )
        finally:
            stop_worker(worker)
        generated = time.monotonic()
        assert page.locator("#progress-text").inner_text().startswith("8 / 8 jobs finished")
        with sessions() as session:
            stored = session.scalars(select(Asset.id).where(Asset.campaign_id == 1)).all()
        assert len(stored) >= 4, "SmolLM2 delivered too little copy to review"
        # Every generated asset reaches the open page (the last ones may still be loading).
        page.wait_for_function(
            f"() => document.querySelectorAll('.asset').length === {len(stored)}"
        )
        tiles = page.locator(".asset")
        ids = [int(tiles.nth(i).get_attribute("data-id") or 0) for i in range(len(stored))]
        assert sorted(ids) == sorted(stored)

        tiles.nth(0).locator('button[data-action="approve"]').click()
        tiles.nth(0).locator(".badge.approved").wait_for()
        tiles.nth(1).focus()
        page.keyboard.press("a")
        tiles.nth(1).locator(".badge.approved").wait_for()
        page.once("dialog", lambda dialog: dialog.accept("off brand"))
        tiles.nth(2).locator('button[data-action="reject"]').click()
        tiles.nth(2).locator(".badge.rejected").wait_for()
        tiles.nth(3).locator('button[data-action="edit"]').click()
        editor = tiles.nth(3).locator("form.editor")
        editor.locator("textarea").fill("Fresh gear for your next trip")
        page.wait_for_function(
            "el => el.querySelector('[data-role=length]').textContent === '29'",
            arg=editor.element_handle(),
        )
        # Both channels must name the product: the gates say so, and the reviewer overrides.
        editor.locator("[data-role=gates]").filter(has_text="product_name").wait_for()
        editor.locator("[data-role=force]").check()
        editor.locator("[data-role=reason]").fill("brand awareness line")
        editor.locator('button[type="submit"]').click()
        editor.wait_for(state="detached")
        assert page.locator('[data-count="approved"]').inner_text() == "2"
        page.evaluate(
            "document.activeElement.blur(); document.querySelector('#toast').hidden = true;"
            "window.scrollTo(0, 0)"
        )
        for directory in _shots(tmp_path):
            page.screenshot(path=directory / "model-campaign-laptop.png")
        context.close()

        context, phone = _page(browser, PHONE, errors)
        phone.goto(f"{base}/campaigns/1")
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        for directory in _shots(tmp_path):
            phone.screenshot(path=directory / "model-campaign-phone.png")
        context.close()

    with sessions() as session:
        reviewed = {a.id: a for a in session.scalars(select(Asset).where(Asset.id.in_(ids[:4])))}
    sessions.kw["bind"].dispose()
    first, second, third, fourth = (reviewed[i] for i in ids[:4])
    assert first.status == second.status == AssetStatus.APPROVED
    assert first.reviewed_by == second.reviewed_by == "reviewer"
    assert (third.status, third.reject_reason) == (AssetStatus.REJECTED, "off brand")
    assert fourth.text == "Fresh gear for your next trip"
    assert "product_name" not in fourth.meta["gates_passed"]
    assert fourth.meta["gates_overridden"]["reason"] == "brand awareness line"
    assert fourth.original_text and fourth.original_text != fourth.text
    assert fourth.meta["model"]["name"] == MODEL  # provenance still names the model
    assert errors == []
    print(f"model run {generated - started:.1f} s, review {time.monotonic() - generated:.1f} s")
