"""Notify URLs apprise has accepted, remembered across runs (issue 12).

Every ``[[notify]]`` URL is checked when the configuration loads (``Route``'s
validator), so a broken one fails ``regwatch check`` at once, naming its key.
Asking apprise builds the URL's plugin, and apprise imports all of its ~180
plugin modules to find the one: 0.4 s of CPU at the start of every run with a
route — more than a warm check of 100 pages costs (``bench/bench_peers.py``).
The same apprise accepts the same URL again, so its answer is kept:

- where: ``notify-urls.json`` in ``$REGWATCH_CACHE_DIR``, else in
  ``$XDG_CACHE_HOME/regwatch/`` (default ``~/.cache/regwatch/``), a file only
  its owner may read (0600);
- what: for each accepted URL, its privacy form (apprise's, secrets shown as
  ``****``) under a salted PBKDF2-SHA256 digest of the URL (the file's own
  random salt, ``ROUNDS`` rounds). The file holds no URL and no secret, and a
  short password cannot be had back from it by quick guessing;
- when: only for the apprise version that accepted the URLs (another version
  starts the file afresh). A URL apprise refused is never kept: it is asked
  every run, and its error shows every run, as before; one apprise refuses
  when sending (a plugin whose own library was removed since) is dropped, so
  the next run asks again. A file that cannot be
  read or written (no home, a read-only disk, a broken file) means asking
  apprise, never an error.

A URL found here registers the same secrets for redaction
(``redact.register_url``) as apprise's answer does.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
import threading
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["ROUNDS", "accepted", "cache_file", "drop", "forget", "remember"]

ROUNDS = 10_000  # PBKDF2 rounds per URL: ~4 ms; a guess costs an attacker as much
_NAME = "notify-urls.json"
_lock = threading.Lock()
_loaded: dict[str, Any] | None = None  # the file's content, read once per process
_digests: dict[tuple[str, str], str] = {}  # (URL, salt) -> its key in the file


def cache_file() -> Path | None:
    """Where the accepted URLs are kept (read from the environment at each use);
    None when there is nowhere (no ``$HOME`` nor a user to find one for)."""
    own = os.environ.get("REGWATCH_CACHE_DIR")
    if own:
        return Path(own) / _NAME
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory can be determined
            return None
    return Path(base) / "regwatch" / _NAME


def accepted(url: str) -> str | None:
    """The privacy form of ``url`` if this apprise accepted it before (its
    secrets then registered for redaction), else None."""
    with _lock:
        data = _data()
        digest = _digest(url, data["salt"])
        privacy = data["urls"].get(digest)
    if not isinstance(privacy, str):
        return None
    from notifiers.redact import register_url

    register_url(url, privacy)
    return privacy


def remember(url: str, privacy: str) -> None:
    """Keep that apprise accepted ``url`` (shown as ``privacy``); best effort."""
    with _lock:
        data = _data()
        digest = _digest(url, data["salt"])
        if data["urls"].get(digest) == privacy:
            return
        data["urls"][digest] = privacy
        on_disk = _read()  # what other processes kept meanwhile stays kept
        if on_disk is not None and on_disk["salt"] == data["salt"]:
            data["urls"] = {**on_disk["urls"], **data["urls"]}
        _write(data)


def drop(url: str) -> None:
    """Apprise refused ``url`` after all (a plugin whose own library went away
    since it was accepted): the next run asks apprise again, and fails at start."""
    with _lock:
        data = _data()
        digest = _digest(url, data["salt"])
        if data["urls"].pop(digest, None) is None:
            return
        on_disk = _read()  # what other processes kept meanwhile stays kept
        if on_disk is not None and on_disk["salt"] == data["salt"]:
            kept = {**on_disk["urls"], **data["urls"]}
            data["urls"] = {k: v for k, v in kept.items() if k != digest}
        _write(data)


def forget() -> None:
    """Read the file again on next use (tests; a process whose cache moved)."""
    global _loaded
    with _lock:
        _loaded = None


def _data() -> dict[str, Any]:
    """The file's content for this apprise (a new, empty one when there is none)."""
    global _loaded
    if _loaded is None:
        _loaded = _read() or {"apprise": _apprise(), "salt": secrets.token_hex(16), "urls": {}}
    return _loaded


def _read() -> dict[str, Any] | None:
    """The file's content, if it is readable, well formed and of this apprise."""
    path = cache_file()
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("apprise") != _apprise():
        return None
    if not isinstance(data.get("salt"), str) or not isinstance(data.get("urls"), dict):
        return None
    return data


def _write(data: dict[str, Any]) -> None:
    """Replace the file (atomically, owner-only); nothing happens when it cannot be."""
    path = cache_file()
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".notify-urls-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:  # mkstemp: mode 0600
                json.dump(data, out, sort_keys=True)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError:
        return


def _digest(url: str, salt: str) -> str:
    """The URL's key in the file (made once per URL and salt in a process)."""
    key = (url, salt)
    if key not in _digests:
        _digests[key] = hashlib.pbkdf2_hmac(
            "sha256", url.encode("utf-8"), bytes.fromhex(salt), ROUNDS
        ).hex()
    return _digests[key]


def _apprise() -> str:
    """The installed apprise's version, read without importing it."""
    try:
        return metadata.version("apprise")
    except metadata.PackageNotFoundError:
        return ""
