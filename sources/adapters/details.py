"""List + detail enrichment, shared by the adapters that read a list and then
each new entry's own page (``cde``: detail pages, ``nmpa``: articles).

For every list entry, in order:

1. the last healthy run's record (``known``) is reused when the entry did not
   change and that record already holds what the page gives
   (``DetailPages.reuse_detail``): no request;
2. an entry whose page is not the adapter's to read (another site, the entry
   is itself the file, no page of its own) is kept as listed
   (``skip_detail``);
3. otherwise the page is fetched and parsed (``read_detail``). A page that
   fails on its own — an HTTP error status, or a page the parser does not
   understand (``ParseError``) — degrades only that entry: it keeps what the
   list and the last known record had (``keep_on_error``) and is named in
   ``item_errors``. A block (``Blocked``) or a network error (no status)
   fails the whole run: the site, not the page, is in doubt.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from sources.errors import Blocked, FetchError, ParseError
from sources.types import Fetcher, Record

__all__ = ["DetailPages", "Enriched", "enrich"]

log = logging.getLogger(__name__)


class DetailPages(Protocol):
    """What an adapter says about its detail pages (see the module docstring)."""

    @property
    def detail_name(self) -> str:
        """How log lines name one page: "detail page", "article"."""
        ...

    def reuse_detail(self, record: Record, old: Record | None) -> Record | None:
        """The entry completed from ``old`` when nothing needs reading, else None."""
        ...

    def skip_detail(self, record: Record) -> Record | None:
        """The entry as kept without a request when its page is not ours, else None."""
        ...

    def keep_on_error(self, record: Record, old: Record | None) -> Record:
        """What is kept when the entry's page fails on its own."""
        ...

    def read_detail(self, fetcher: Fetcher, record: Record) -> Record:
        """The entry completed from its page (raises ``FetchError`` / ``ParseError``)."""
        ...


@dataclass
class Enriched:
    """The entries after enrichment, by key, in list order.

    ``tried`` counts the pages requested; ``item_errors`` has one line per
    page that failed (``Listing.item_errors``)."""

    records: dict[str, Record] = field(default_factory=dict)
    tried: int = 0
    item_errors: list[str] = field(default_factory=list)


def enrich(
    fetcher: Fetcher,
    found: Mapping[str, Record],
    known: Mapping[str, Record],
    pages: DetailPages,
) -> Enriched:
    """Every entry of ``found`` completed from ``known`` or its own page."""
    result = Enriched()
    for key, record in found.items():
        old = known.get(key)
        done = pages.reuse_detail(record, old) or pages.skip_detail(record)
        if done is not None:
            result.records[key] = done
            continue
        result.tried += 1
        try:
            result.records[key] = pages.read_detail(fetcher, record)
        except Blocked:
            raise
        except FetchError as exc:
            if exc.status is None:
                raise  # the network, not the page: the whole run is in doubt
            log.warning("%s: %s not read (%s); keeping the list entry", key, pages.detail_name, exc)
        except ParseError as exc:
            log.warning(
                "%s: %s not understood (%s); keeping the list entry", key, pages.detail_name, exc
            )
        else:
            continue
        kept = pages.keep_on_error(record, old)
        result.records[key] = kept
        result.item_errors.append(f"{kept.url}: its page could not be read")
    return result
