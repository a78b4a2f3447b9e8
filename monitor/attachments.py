"""Downloading a record's attachments and turning them into text.

Only files on the source's own host are followed (a regulator page can link
anywhere); the fetcher's byte cap applies. A file that fails to download
keeps its last known hash: a flaky download is not a revision.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlmodel import Session

from monitor.store import Store
from sources.documents import extract_text
from sources.errors import SourceError
from sources.types import Fetcher, Record

log = logging.getLogger("regwatch.attachments")


@dataclass
class AttachmentTexts:
    hashes: dict[str, str] = field(default_factory=dict)    # url -> blob hash of the raw file
    text: str = ""
    errors: list[str] = field(default_factory=list)


def same_host(url: str, base: str) -> bool:
    host = urlsplit(url).hostname
    return bool(host) and host == urlsplit(base).hostname


def collect_attachments(
    session: Session,
    fetcher: Fetcher,
    record: Record,
    *,
    base_url: str,
    previous: Mapping[str, str],
    max_files: int = 6,
) -> AttachmentTexts:
    """Download ``record``'s attachments (on ``base_url``'s host), store the raw
    bytes as blobs and return their hashes and the joined text."""
    result = AttachmentTexts()
    parts: list[str] = []
    for attachment in record.attachments[:max_files]:
        if not same_host(attachment.url, base_url):
            continue
        try:
            fetched = fetcher.get(attachment.url, expect="bytes")
            body = fetched.body
        except SourceError as exc:
            result.errors.append(f"{attachment.url}: {exc}")
            if attachment.url in previous:
                result.hashes[attachment.url] = previous[attachment.url]
            continue
        digest = Store.put_blob(session, body)
        result.hashes[attachment.url] = digest
        try:
            text = extract_text(body, filename=attachment.name or attachment.url,
                                content_type=fetched.headers.get("content-type"))
        except SourceError as exc:
            result.errors.append(f"{attachment.url}: {exc}")
            continue
        if text.strip():
            parts.append(f"== {attachment.name or attachment.url} ==\n{text.strip()}")
    result.text = "\n\n".join(parts)
    for error in result.errors:
        log.warning("attachment skipped: %s", error)
    return result
