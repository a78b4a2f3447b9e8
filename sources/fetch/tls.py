"""The TLS context of the plain-HTTP fetcher, its CA bundle read on first use.

httpx's default context (``httpx.create_ssl_context()``) reads the whole CA
bundle (certifi's, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set) when the
client is built: about 20 ms of CPU, a noticeable part of a run that finds
nothing new, and wasted when every source is plain ``http://`` (a local
mirror). ``lazy_context()`` is the same context — TLS client, certificates
and host names verified, the same CA bundle chosen the same way — that reads
the bundle when the first TLS connection is wrapped, once (thread-safe).
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
import typing

import certifi

__all__ = ["lazy_context"]


class _LazyCAContext(ssl.SSLContext):
    """An ``ssl.SSLContext`` that loads its CA bundle before its first handshake."""

    def __init__(self, protocol: int = ssl.PROTOCOL_TLS_CLIENT) -> None:
        self._ca_lock = threading.Lock()
        self._ca_loaded = False

    def _load_ca(self) -> None:
        with self._ca_lock:
            if self._ca_loaded:
                return
            if os.environ.get("SSL_CERT_FILE"):  # as httpx.create_ssl_context
                self.load_verify_locations(cafile=os.environ["SSL_CERT_FILE"])
            elif os.environ.get("SSL_CERT_DIR"):
                self.load_verify_locations(capath=os.environ["SSL_CERT_DIR"])
            else:
                self.load_verify_locations(cafile=certifi.where())
            self._ca_loaded = True

    def wrap_socket(self, *args: typing.Any, **kwargs: typing.Any) -> ssl.SSLSocket:
        self._load_ca()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: typing.Any, **kwargs: typing.Any) -> ssl.SSLObject:
        self._load_ca()
        return super().wrap_bio(*args, **kwargs)


def lazy_context() -> ssl.SSLContext:
    """A verifying TLS client context (as ``ssl.create_default_context``: TLS 1.2+,
    ``CERT_REQUIRED``, host names checked) whose CA bundle is read on first use."""
    context = _LazyCAContext(ssl.PROTOCOL_TLS_CLIENT)
    keylog = os.environ.get("SSLKEYLOGFILE")  # as ssl.create_default_context
    if keylog and not sys.flags.ignore_environment:
        context.keylog_filename = keylog
    return context
