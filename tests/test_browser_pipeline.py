"""The CDE and NMPA adapters through the whole pipeline, behind a replica of
their JavaScript challenge: plain HTTP is blocked (with a hint), `fetch =
"auto"` gets the documents through Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import loads
from monitor.pipeline.check import Pipeline
from monitor.replica.cde import CdeReplica
from monitor.replica.challenge import JsCookieChallenge
from monitor.replica.nmpa import NmpaReplica
from monitor.replica.server import ReplicaServer, Router
from monitor.store import Store
from sources.fetch.chromium import browser_available

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        browser_available() is None,
        reason="Chromium is not installed (.ci/install-chromium.sh installs it)",
    ),
]


def config_text(tmp_path: Path, base: str, fetch: str) -> str:
    return f"""
[store]
url = "sqlite:///{tmp_path / "b.db"}"
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
    app = Router(
        {
            "/cde": JsCookieChallenge(cde, style="ruishu-202"),
            "/nmpa": JsCookieChallenge(nmpa, style="ruishu-412"),
        }
    )
    with ReplicaServer(app) as server:
        plain = loads(config_text(tmp_path, server.url, "http"))
        results = Pipeline(plain, Store(plain.store.url)).check_all()
        assert [r.outcome for r in results] == ["blocked", "blocked"]
        assert all("browser" in r.error for r in results)

        auto = loads(config_text(tmp_path, server.url, "auto"))
        store = Store(auto.store.url)
        results = Pipeline(auto, store).check_all()
        assert [r.outcome for r in results] == ["baseline", "baseline"], results
        expected_cde = len([g for g in cde.guidelines.values() if g.listing == "domestic"]) + len(
            cde.opinions
        )
        assert results[0].records == expected_cde
        assert results[1].records == min(20, len(nmpa.in_column("zhqyj")))

        cde.add_opinion("基因修饰细胞治疗产品非临床研究技术指导原则", "20261120")
        again = Pipeline(auto, store).check_all()
        assert [r.outcome for r in again] == ["changed", "unchanged"]
        assert again[0].events == ["draft"]


def strict_config(tmp_path: Path, base: str, *, headless: bool = False) -> str:
    return f"""
[store]
url = "sqlite:///{tmp_path / "strict.db"}"
[http]
delay = 0
retries = 0
timeout = 10
robots = false
[browser]
timeout = {3 if headless else 30}
headless = {str(headless).lower()}
[[source]]
name = "cde"
kind = "cde"
base_url = "{base}/cde"
fetch = "auto"
lists = ["domestic", "opinions"]
attachments = false
[[source]]
name = "nmpa"
kind = "nmpa"
base_url = "{base}/nmpa"
fetch = "auto"
columns = ["zhqyj"]
max_pages = 5
details = false
attachments = false
"""


def strict_sites() -> tuple[CdeReplica, NmpaReplica, JsCookieChallenge, JsCookieChallenge]:
    cde, nmpa = CdeReplica(), NmpaReplica(per_page=4)
    return (
        cde,
        nmpa,
        JsCookieChallenge(cde, "ruishu-202", strict=True),
        JsCookieChallenge(nmpa, "ruishu-412", strict=True),
    )


def test_strict_replica_is_read_page_driven_in_a_real_window(tmp_path: Path) -> None:
    """The worst case the evidence shows (headless refused, only XHR signed):
    the list pages' own XHR and pager give every record, then the exact changes."""
    cde, nmpa, cde_gate, nmpa_gate = strict_sites()
    app = Router({"/cde": cde_gate, "/nmpa": nmpa_gate})
    with ReplicaServer(app) as server:
        config = loads(strict_config(tmp_path, server.url))
        store = Store(config.store.url)
        results = Pipeline(config, store).check_all()
        assert [r.outcome for r in results] == ["baseline", "baseline"], results
        domestic = [g for g in cde.guidelines.values() if g.listing == "domestic"]
        assert results[0].records == len(domestic) + len(cde.opinions)
        column = nmpa.in_column("zhqyj")
        assert results[1].records == min(5 * 4, len(column))
        # Plain HTTP tried once per site (and met the challenge); after that every
        # list call was the page's own signed XHR: no unsigned call was made.
        plain = [r for r in server.requests if "Chrome/" not in (r.header("User-Agent") or "")]
        assert [r.path for r in plain] == [
            "/cde/zdyz/getDomesticGuideList",
            "/nmpa/xxgk/zhqyj/index.html",
        ]
        api_calls = [
            r for r in server.requests if r.path.startswith("/cde/zdyz/get") and r not in plain
        ]
        assert api_calls and all("MmEwMD=" in r.raw_query for r in api_calls)
        assert all(r.header("X-Requested-With") == "XMLHttpRequest" for r in api_calls)
        assert {r.form["pageSize"] for r in api_calls} == {"10"}  # the page's own size
        nmpa_pages = [
            r.path for r in server.requests if r.path.startswith("/nmpa/xxgk/zhqyj/index")
        ]
        assert "/nmpa/xxgk/zhqyj/index_1.html" in nmpa_pages
        clicked = [r for r in server.requests if r.path == "/nmpa/xxgk/zhqyj/index_1.html"]
        assert all(
            (r.header("Referer") or "").endswith("/nmpa/xxgk/zhqyj/index.html") for r in clicked
        )  # reached by the pager, not typed in

        cde.add_opinion("基因修饰细胞治疗产品非临床研究技术指导原则", "20261120")
        nmpa.add_article(
            "zhqyj", "关于公开征求《CAR-T细胞治疗产品说明书撰写指导原则》意见的通知", "2026-11-30"
        )
        again = Pipeline(config, store).check_all()
        assert [r.outcome for r in again] == ["changed", "changed"], again
        assert again[0].events == ["draft"]
        assert again[0].changes == 1 and again[1].changes == 1


def test_strict_replica_blocks_a_forced_headless_browser(tmp_path: Path) -> None:
    _, _, cde_gate, nmpa_gate = strict_sites()
    app = Router({"/cde": cde_gate, "/nmpa": nmpa_gate})
    with ReplicaServer(app) as server:
        config = loads(strict_config(tmp_path, server.url, headless=True))
        results = Pipeline(config, Store(config.store.url)).check_all()
    assert [r.outcome for r in results] == ["blocked", "blocked"], results
    for result in results:
        assert "[browser] headless = false" in result.error
    assert not any(passed for _, _, passed in cde_gate.log)
