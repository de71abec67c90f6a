"""`contentfab serve` as a real subprocess on a free loopback port: it becomes ready, serves the
API and the gallery, hands out a key for review actions, and stops cleanly on Ctrl+C, even with
a live feed open."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx

from contentfab.core.settings import Settings
from contentfab.db.migrate import upgrade
from contentfab.db.session import configure
from tests.api.seed import seed_campaign


def test_contentfab_serve(tmp_path):
    data = tmp_path / "data"
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    upgrade(url)
    sessions = configure(url)
    seeded = seed_campaign(sessions, Settings(data_dir=data).asset_dir, finished=False)
    sessions.kw["bind"].dispose()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTENTFAB_")}
    env |= {"CONTENTFAB_DATA_DIR": str(data), "CONTENTFAB_DATABASE_URL": url}
    server = subprocess.Popen(
        [sys.executable, "-m", "contentfab", "serve", "--port", str(port)],
        env=env | {"PYTHONUNBUFFERED": "1", "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        with httpx.Client(base_url=base, timeout=10) as client:
            while True:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                try:
                    if client.get("/api/campaigns").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "contentfab serve did not become ready"
                time.sleep(0.2)
            [campaign] = client.get("/api/campaigns").json()
            assert campaign["id"] == seeded.campaign_id
            page = client.get(f"/campaigns/{seeded.campaign_id}")
            assert page.status_code == 200 and "Spring launch 2026" in page.text
            assert client.get("/static/gallery.js").status_code == 200
            image = client.get(f"/api/assets/{seeded.image_ids[0]}/file")
            assert image.headers["content-type"] == "image/png"
            # No key configured: review actions need the one-off key printed in the link.
            assert server.stdout is not None
            link = server.stdout.readline()
            match = re.fullmatch(rf"gallery: http://127\.0\.0\.1:{port}/#key=(\S+)\n", link)
            assert match, link
            approve = f"/api/assets/{seeded.copy_ids[0]}/approve"
            assert client.post(approve, json={"reviewer": "ops"}).status_code == 401
            approved = client.post(
                approve, json={"reviewer": "ops"}, headers={"X-API-Key": match[1]}
            )
            assert approved.status_code == 200 and approved.json()["status"] == "approved"
            # A gallery tab on a running campaign holds its live feed open: Ctrl+C still stops.
            with client.stream("GET", f"/api/campaigns/{seeded.campaign_id}/events") as feed:
                assert next(feed.iter_lines()).startswith("retry:")
                server.send_signal(signal.SIGINT)
                output, _ = server.communicate(timeout=15)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0, output
    assert "Traceback" not in output
