"""A failed or blocked run keeps its evidence: what the site last sent (issue 11).

When a check fails or is blocked, the pipeline calls ``keep``: the last
response the fetcher received (``sources.fetch.exchanges``) — status, headers and
the body, cut at ``MAX_BODY`` bytes and zlib-compressed — is stored for the
source, replacing the previous failure's. ``regwatch sources SOURCE`` and the
web UI's ``/sources/<name>`` page show it (``describe``); the body itself is
``regwatch sources SOURCE --evidence FILE``. A healthy run leaves it in place:
it is the *last failure's* evidence, dated.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from monitor.store import Store
from monitor.store.models import EvidenceRow, SourceRow
from sources.fetch.blocks import detect_block
from sources.fetch.exchanges import exchanges_of

__all__ = ["MAX_BODY", "Evidence", "describe", "evidence_for", "keep"]

MAX_BODY = 256 * 1024  # bytes of body kept, before compression
_SHOWN_HEADERS = 20


@dataclass(frozen=True)
class Evidence:
    source: str
    at: datetime
    method: str
    url: str
    status: int | None
    headers: dict[str, str]
    body: bytes
    size: int
    truncated: bool

    @property
    def verdict(self) -> str:
        reason = detect_block(self.status or 0, self.headers, self.body, self.url, "html")
        return f"blocked: {reason}" if reason else "not a block page"


def keep(
    session: Session, source_id: int | None, run_id: int | None, fetcher: object, now: datetime
) -> bool:
    """Store the fetcher's last response for the source (replacing the old); False if none."""
    log = exchanges_of(fetcher)
    last = log.last() if log is not None else None
    if last is None or source_id is None:
        return False
    body = last.body[:MAX_BODY]
    row = session.get(EvidenceRow, source_id) or EvidenceRow(source_id=source_id, at=now, body=b"")
    row.run_id, row.at, row.method, row.url = run_id, now, last.method, last.url
    row.status, row.size = last.status, len(last.body)
    row.truncated = last.truncated or len(last.body) > MAX_BODY
    row.headers = json.dumps(dict(last.headers), ensure_ascii=False)
    row.body = zlib.compress(body, 6)
    session.add(row)
    return True


def evidence_for(store: Store, name: str) -> Evidence | None:
    """The last failure's evidence of the source named ``name``, or None."""
    with store.session() as session:
        source = session.exec(select(SourceRow).where(SourceRow.name == name)).first()
        row = session.get(EvidenceRow, source.id) if source and source.id else None
        if row is None:
            return None
        headers: dict[str, Any] = json.loads(row.headers or "{}")
        return Evidence(
            name,
            row.at,
            row.method,
            row.url,
            row.status,
            {str(k): str(v) for k, v in headers.items()},
            zlib.decompress(row.body),
            row.size,
            row.truncated,
        )


def describe(evidence: Evidence, *, excerpt: int = 600) -> list[str]:
    """Lines for the CLI and the web page: when, what, the verdict, headers, a body excerpt."""
    cut = " (cut)" if evidence.truncated else ""
    lines = [
        f"last failure's evidence, {evidence.at.isoformat(timespec='seconds')}:",
        f"  {evidence.method} {evidence.url} -> HTTP {evidence.status}, "
        f"{evidence.size:,} bytes{cut}; {evidence.verdict}",
    ]
    for name, value in list(evidence.headers.items())[:_SHOWN_HEADERS]:
        lines.append(f"  {name}: {value}")
    text = evidence.body[:excerpt].decode("utf-8", errors="replace")
    lines.append("  body: " + " ".join(text.split()))
    return lines
