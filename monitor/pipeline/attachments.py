"""Downloading a record's attachments and turning them into text.

Only http(s) files on the source's own site (host and port) are followed, and
a download that redirected off that site is refused (a regulator page can link
anywhere); the fetcher's byte cap and deadlines apply. A file that fails to download
keeps its last known hash: a flaky download is not a revision. Reading
happens before the run's write transaction (``monitor.pipeline.plan``): no network
I/O and no text extraction while the database's write lock is held.

For a record whose title is ambiguous (``monitor.classify.ambiguous``) the
first ``FIRST_PAGES`` pages of each file, at most ``FIRST_CHARS`` characters in
all, are also kept apart as ``AttachmentTexts.first``, each page under a
``== NAME p.N ==`` header, so the classifier can say on which page of which
file it found its words. The whole text and the first pages come from one
parse of each file (``sources.text.documents.read_document``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from monitor.store.db import blob_hash
from sources.errors import FetchError, SourceError
from sources.fetch.netpolicy import same_site
from sources.types import Fetched, Fetcher, Record

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
    first: str = ""  # the first pages, under "== NAME p.N ==" headers (ambiguous titles)


MAX_FILES = 6
FIRST_PAGES = 3  # pages of each file read to classify an ambiguous title
FIRST_CHARS = 20_000  # characters of those pages, all files together


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
    first: bool = False,
) -> AttachmentTexts:
    """Download ``record``'s attachments (on ``base_url``'s host) and extract their
    text; with ``first``, their first pages too (see the module docstring). No
    database access: this runs before the write transaction opens."""
    result = AttachmentTexts()
    parts: list[str] = []
    pages: list[str] = []
    left = FIRST_CHARS
    wanted = set(attachment_urls(record, base_url))
    for attachment in record.attachments:
        if attachment.url not in wanted:
            continue
        try:
            fetched = _download(fetcher, attachment.url, base_url)
            body = fetched.body
        except SourceError as exc:
            result.errors.append(f"{attachment.url}: {exc}")
            if attachment.url in previous:
                result.hashes[attachment.url] = previous[attachment.url]
            continue
        digest = blob_hash(body)
        result.hashes[attachment.url] = digest
        result.bodies[digest] = body
        name = attachment.name or attachment.url
        # here, not at the top: a warm check imports this module and reads no file
        from sources.text.documents import read_document

        try:
            read = read_document(
                body,
                filename=name,
                content_type=fetched.headers.get("content-type"),
                pages=FIRST_PAGES if first and left > 0 else 0,
                chars=left,
            )
        except SourceError as exc:
            result.errors.append(f"{attachment.url}: {exc}")
            continue
        if not read.text.strip():
            continue
        parts.append(f"== {name} ==\n{read.text.strip()}")
        for page, page_text in read.first:
            header = f"{name} p.{page}" if page is not None else name
            pages.append(f"== {header} ==\n{page_text}")
            left -= len(page_text)
    result.text = "\n\n".join(parts)
    result.first = "\n\n".join(pages)
    for error in result.errors:
        log.warning("attachment skipped: %s", error)
    return result


def _download(fetcher: Fetcher, url: str, base_url: str) -> Fetched:
    """One attachment's bytes; FetchError when the download left the source's site."""
    fetched = fetcher.get(url, expect="bytes")
    if not same_site(fetched.url, base_url):
        raise FetchError(
            f"the download redirected off the source's site to {fetched.url}; not read",
            url=url,
        )
    return fetched
