"""A fetcher wrapper that remembers every body it returned, for snapshots."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sources.types import Expect, Fetched, Fetcher


@dataclass
class RecordingFetcher:
    """Passes calls through to ``inner`` and keeps (url, status, body) of each."""

    inner: Fetcher
    responses: list[Fetched] = field(default_factory=list)

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Expect = "html",
        conditional: bool = False,
    ) -> Fetched:
        fetched = self.inner.get(url, params=params, headers=headers, expect=expect,
                                 conditional=conditional)
        self.responses.append(fetched)
        return fetched

    def post(
        self,
        url: str,
        *,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: Expect = "json",
    ) -> Fetched:
        fetched = self.inner.post(url, data=data, headers=headers, expect=expect)
        self.responses.append(fetched)
        return fetched

    @property
    def validators(self) -> dict[str, dict[str, str]]:
        return self.inner.validators

    def close(self) -> None:
        self.inner.close()

    @property
    def last_status(self) -> int | None:
        return self.responses[-1].status if self.responses else None
