"""Downloading a record's attachments and turning them into text.

Only http(s) files on the source's own site (host and port) are followed, and
a download that redirected off that site is refused (a regulator page can link
anywhere); the fetcher's byte cap and deadlines apply. A file that fails to download
keeps its last known hash: a flaky download is not a revision. Reading
happens before the run's write transaction (``monitor.plan``): no network
I/O and no text extraction while the database's write lock is held.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from monitor.store.db import blob_hash
from sources.documents import extract_text
from sources.errors import FetchError, SourceError
from sources.netpolicy import same_site
from sources.types import Fetcher, Record

log = logging.getLogger("regwatch.attachments")


@dataclass
class AttachmentTexts:
    """What reading one record's attachments gave, before anything is stored:
    raw bodies to store as blobs, the hashes by URL (a failed download keeps
    its last known hash) and the joined text."""

    hashes: dict[str, str] = field(default_factory=dict)  # url -> blob hash of the raw file
    bodies: dict[str, bytes] = field(default_factory=dict)  # blob hash -> raw file
    text: str = ""
    errors: list[str] = field(default_factory=list)


MAX_FILES = 6


def attachment_urls(record: Record, base_url: str) -> list[str]:
    """The attachments of ``record`` regwatch downloads: on the source's host, at most
    ``MAX_FILES``."""
    return [a.url for a in record.attachments[:MAX_FILES] if same_host(a.url, base_url)]


def same_host(url: str, base: str) -> bool:
    """True when ``url`` is http(s) on ``base``'s site: same host and same port."""
    return same_site(url, base)


def read_attachments(
    fetcher: Fetcher,
    record: Record,
    *,
    base_url: str,
    previous: Mapping[str, str],
) -> AttachmentTexts:
    """Download ``record``'s attachments (on ``base_url``'s host) and extract their
    text. No database access: this runs before the write transaction opens."""
    result = AttachmentTexts()
    parts: list[str] = []
    wanted = set(attachment_urls(record, base_url))
    for attachment in record.attachments:
        if attachment.url not in wanted:
            continue
        try:
            fetched = fetcher.get(attachment.url, expect="bytes")
            body = fetched.body
            if not same_site(fetched.url, base_url):
                raise FetchError(
                    f"the download redirected off the source's site to {fetched.url}; not read",
                    url=attachment.url,
                )
        except SourceError as exc:
            result.errors.append(f"{attachment.url}: {exc}")
            if attachment.url in previous:
                result.hashes[attachment.url] = previous[attachment.url]
            continue
        digest = blob_hash(body)
        result.hashes[attachment.url] = digest
        result.bodies[digest] = body
        try:
            text = extract_text(
                body,
                filename=attachment.name or attachment.url,
                content_type=fetched.headers.get("content-type"),
            )
        except SourceError as exc:
            result.errors.append(f"{attachment.url}: {exc}")
            continue
        if text.strip():
            parts.append(f"== {attachment.name or attachment.url} ==\n{text.strip()}")
    result.text = "\n\n".join(parts)
    for error in result.errors:
        log.warning("attachment skipped: %s", error)
    return result
