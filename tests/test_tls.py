"""The fetcher's TLS context (``sources.fetch.tls``): read on first use, as strict
as httpx's own. A real HTTPS server on 127.0.0.1 with a certificate made here
by ``openssl``: not in the CA bundle, so refused, unless ``SSL_CERT_FILE``
names it, as httpx honours."""

from __future__ import annotations

import http.server
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sources.errors import FetchError
from sources.fetch.http import HttpFetcher, HttpSettings
from sources.fetch.tls import lazy_context

SETTINGS = HttpSettings(delay=0, retries=0, timeout=5, robots=False)


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><p>over TLS</p></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-nodes", "-days", "2"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-keyout", str(key), "-out", str(cert)),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/", cert
    server.shutdown()
    server.server_close()


def test_a_certificate_outside_the_ca_bundle_is_refused(tls_server: tuple[str, Path]) -> None:
    url, _cert = tls_server
    with HttpFetcher(SETTINGS) as fetcher, pytest.raises(FetchError) as info:
        fetcher.get(url)
    assert "CERTIFICATE_VERIFY_FAILED" in info.value.message


def test_ssl_cert_file_is_read_at_the_first_connection(
    tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cert = tls_server
    with HttpFetcher(SETTINGS) as fetcher:  # the client exists before the variable is set
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        assert "over TLS" in fetcher.get(url).text


def test_the_context_is_as_strict_as_httpx_default() -> None:
    ours, theirs = lazy_context(), httpx.create_ssl_context()
    assert ours.verify_mode == theirs.verify_mode == ssl.CERT_REQUIRED
    assert ours.check_hostname and theirs.check_hostname
    assert ours.minimum_version == theirs.minimum_version
    assert ours.options == theirs.options
    assert ours.protocol == theirs.protocol
