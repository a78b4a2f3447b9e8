"""Fuzzing parts shared by tests/test_fuzz_parsers.py and tests/test_html_list_lxml.py:
byte mutations (a hypothesis strategy) and real replica pages to mutate."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from monitor.replica.server import Request, Response
from sources.text import decode

BASE = "http://replica.test"


# -- mutations -------------------------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` with a few edits: cut, insert, overwrite, repeat, truncate."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        size = draw(st.integers(1, min(400, len(data) - at)))
        edit = draw(st.sampled_from(["cut", "insert", "overwrite", "repeat", "truncate", "swap"]))
        if edit == "cut":
            del data[at : at + size]
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif edit == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=size))
            data[at : at + len(chunk)] = chunk
        elif edit == "repeat":
            data[at:at] = data[at : at + size]
        elif edit == "truncate":
            del data[at:]
        else:
            a, b = draw(
                st.sampled_from(
                    [
                        (b"<", b">"),
                        (b"{", b"["),
                        (b'"', b"'"),
                        (b",", b":"),
                        (b"</li>", b""),
                        (b"</a>", b"<a>"),
                    ]
                )
            )
            data[:] = bytes(data).replace(a, b, draw(st.integers(1, 3)))
    return bytes(data)


# -- real replica pages ----------------------------------------------------------------------------------


def _serve(
    app: Any,
    method: str,
    path: str,
    query: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    from urllib.parse import urlencode

    body = urlencode(form or {}).encode()
    request = Request(
        method=method,
        path=path,
        query=dict(query or {}),
        headers={
            "Referer": f"{BASE}/zdyz/index",
            "Content-Type": "application/x-www-form-urlencoded",
            **(headers or {}),
        },
        body=body,
        base=BASE,
        raw_query=urlencode(query or {}),
    )
    response: Response = app(request)
    return response.payload()


@cache
def pages() -> dict[str, bytes]:
    """A few real pages of each replica, as their sites serve them."""
    from monitor.replica.cde import LIST_IDS, CdeReplica
    from monitor.replica.ema import DOCUMENTS_JSON, EmaReplica
    from monitor.replica.fda import CBER_CGT, GUIDANCE_JSON, FdaReplica
    from monitor.replica.federal_register import API, FederalRegisterReplica
    from monitor.replica.nmpa import NmpaReplica

    out: dict[str, bytes] = {}
    c = CdeReplica()
    out["cde-api"] = _serve(
        c,
        "POST",
        "/zdyz/getDomesticGuideList",
        form={"pageNum": "1", "pageSize": "10"},
        headers={"Referer": f"{BASE}/zdyz/listpage/{LIST_IDS['domestic']}"},
    )
    first = next(iter(c.guidelines.values()))
    out["cde-detail"] = _serve(c, "GET", "/zdyz/domesticinfopage", query={"zdyzIdCODE": first.id})
    opinion = next(iter(c.opinions.values()))
    out["cde-notice"] = _serve(c, "GET", f"/main/news/viewInfoCommon/{opinion.id}")
    n = NmpaReplica(gbk=["ggtg"])
    out["nmpa-column"] = _serve(n, "GET", "/xxgk/ggtg/index.html")
    out["nmpa-column-utf8"] = _serve(n, "GET", "/yaopin/ypfgwj/index.html")
    article = next(iter(n.articles.values()))
    out["nmpa-article"] = _serve(n, "GET", article.path)
    f = FdaReplica(size=30)
    out["fda-json"] = _serve(f, "GET", GUIDANCE_JSON)
    out["fda-cber"] = _serve(f, "GET", CBER_CGT)
    e = EmaReplica(size=80)
    out["ema-json"] = _serve(e, "GET", DOCUMENTS_JSON)
    out["ema-rss"] = _serve(e, "GET", "/en/scientific-guidelines.xml")
    doc = next(iter(e.docs.values()))
    out["ema-pdf"] = e.pdf(doc)
    out["word-doc"] = (
        Path(__file__).resolve().parents[1] / "fixtures" / "docs" / "guideline_cn.doc"
    ).read_bytes()
    r = FederalRegisterReplica(size=20)
    out["fr-json"] = _serve(r, "GET", API, query={"per_page": "20"})
    return out


def text(data: bytes) -> str:
    return decode.decode_html(data, None)[0]
