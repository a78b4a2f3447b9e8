"""The CDE and NMPA adapters through the whole pipeline, behind a replica of
their JavaScript challenge: plain HTTP is blocked (with a hint), `fetch =
"auto"` gets the documents through Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import loads
from monitor.pipeline import Pipeline
from monitor.replica.cde import CdeReplica
from monitor.replica.challenge import JsCookieChallenge
from monitor.replica.nmpa import NmpaReplica
from monitor.replica.server import ReplicaServer, Router
from monitor.store import Store
from sources.chromium import browser_available

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(browser_available() is None,
                       reason="Chromium is not installed (.ci/install-chromium.sh installs it)"),
]


def config_text(tmp_path: Path, base: str, fetch: str) -> str:
    return f"""
[store]
url = "sqlite:///{tmp_path / 'b.db'}"
[http]
delay = 0
retries = 0
timeout = 10
[browser]
timeout = 30
[[source]]
name = "cde"
kind = "cde"
base_url = "{base}/cde"
fetch = "{fetch}"
lists = ["domestic", "opinions"]
attachments = false
[[source]]
name = "nmpa"
kind = "nmpa"
base_url = "{base}/nmpa"
fetch = "{fetch}"
columns = ["zhqyj"]
max_pages = 1
details = false
attachments = false
"""


def test_plain_http_is_blocked_and_auto_reads_through_the_browser(tmp_path: Path) -> None:
    cde, nmpa = CdeReplica(), NmpaReplica()
    app = Router({"/cde": JsCookieChallenge(cde, style="ruishu-202"),
                  "/nmpa": JsCookieChallenge(nmpa, style="ruishu-412")})
    with ReplicaServer(app) as server:
        plain = loads(config_text(tmp_path, server.url, "http"))
        results = Pipeline(plain, Store(plain.store.url)).check_all()
        assert [r.outcome for r in results] == ["blocked", "blocked"]
        assert all("browser" in r.error for r in results)

        auto = loads(config_text(tmp_path, server.url, "auto"))
        store = Store(auto.store.url)
        results = Pipeline(auto, store).check_all()
        assert [r.outcome for r in results] == ["baseline", "baseline"], results
        expected_cde = len([g for g in cde.guidelines.values() if g.listing == "domestic"]) \
            + len(cde.opinions)
        assert results[0].records == expected_cde
        assert results[1].records == min(20, len(nmpa.in_column("zhqyj")))

        cde.add_opinion("基因修饰细胞治疗产品非临床研究技术指导原则", "20261120")
        again = Pipeline(auto, store).check_all()
        assert [r.outcome for r in again] == ["changed", "unchanged"]
        assert again[0].events == ["draft"]
