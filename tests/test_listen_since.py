"""The one ``HOST:PORT`` parser and the one ``since`` parser, and how the CLI, the
service and the web UI word their errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.cli.values import parse_since as cli_since
from monitor.errors import UsageError
from monitor.history import parse_since
from monitor.service.healthz import health_listen, parse_listen
from monitor.web.query import HTTPError
from monitor.web.query import parse_since as web_since


@pytest.mark.parametrize(
    "text, want",
    [
        ("127.0.0.1:8470", ("127.0.0.1", 8470)),
        (" [::1]:0 ", ("::1", 0)),
        (":8471", ("127.0.0.1", 8471)),
        ("0.0.0.0:65535", ("0.0.0.0", 65535)),
    ],
)
def test_host_port_is_read(text: str, want: tuple[str, int]) -> None:
    assert parse_listen(text) == want
    assert health_listen(text) == want


@pytest.mark.parametrize("text", ["8470", "host:", "host:http", "host:65536", "host:-1"])
def test_a_bad_address_is_a_value_error_naming_it(text: str) -> None:
    with pytest.raises(ValueError, match="expected HOST:PORT"):
        parse_listen(text)
    with pytest.raises(ValueError, match=r'\[service\] listen = .*or "off"'):
        health_listen(text)


@pytest.mark.parametrize("text", ["off", "", " OFF ", "none", "no"])
def test_the_health_endpoint_can_be_off(text: str) -> None:
    assert health_listen(text) is None
    with pytest.raises(ValueError):
        parse_listen(text)  # the web UI has no "off" of its own: [service] web checks it first


def test_since_reads_ages_and_dates() -> None:
    before = datetime.now(UTC)
    week = parse_since("7d")
    assert before - timedelta(days=7, seconds=5) < week <= datetime.now(UTC) - timedelta(days=7)
    assert parse_since("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since("2026-11-01T08:00+08:00").utcoffset() == timedelta(hours=8)
    assert parse_since("99999999w") == datetime(1970, 1, 1, tzinfo=UTC)  # beyond a century
    with pytest.raises(ValueError, match="use a date"):
        parse_since("9" * 40 + "d")  # not an age a clock can hold, nor a date


def test_the_cli_and_the_web_word_a_bad_since_their_own_way() -> None:
    assert cli_since(None) is None and cli_since("") is None
    with pytest.raises(UsageError, match=r"--since 'soon': use a date \(2026-11-01\)"):
        cli_since("soon")
    with pytest.raises(HTTPError) as caught:
        web_since("soon")
    assert caught.value.status == 400 and "since='soon': use a date" in str(caught.value)
    assert cli_since("2026-11-01") == web_since("2026-11-01")
