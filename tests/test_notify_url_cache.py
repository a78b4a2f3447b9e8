"""Notify URLs apprise accepted are remembered across runs (``notifiers.url_cache``):
a later process checks them without loading apprise, masks the same secrets, and
keeps no URL or secret on disk; a refused URL is asked (and fails) every run."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

PASSWORD = "Xq7-secret-pass"
GOOD = f"json://alice:{PASSWORD}@127.0.0.1:9/hook"
BAD = "slack://"  # no tokens: apprise refuses it

# a fresh interpreter loads the configuration: did it need apprise, and what does
# its redaction make of the password?
_PROBE = """
import json, sys
from monitor.config import loads
from monitor.errors import ConfigError
from notifiers.redact import redact
try:
    loads(sys.stdin.read())
    error = ""
except ConfigError as exc:
    error = str(exc)
print(json.dumps({"apprise": "apprise" in sys.modules, "error": error,
                  "shown": redact("posting to %s" % sys.argv[1])}))
"""


def _config(url: str) -> str:
    return (
        '[store]\nurl = "sqlite:///regwatch.db"\n'
        '[[source]]\nname = "s"\nkind = "html-list"\nurl = "http://127.0.0.1:9/"\n'
        'item = "li"\n'
        f'[[notify]]\nname = "team"\nurls = ["{url}"]\n'
    )


def _load(cache: Path, url: str, cwd: Path, *, xdg: bool = False) -> dict[str, object]:
    """Load a configuration with ``url`` in a fresh process that keeps accepted URLs
    in ``cache`` (``REGWATCH_CACHE_DIR``; with ``xdg``, ``$XDG_CACHE_HOME/regwatch``)."""
    env = {k: v for k, v in os.environ.items() if k != "REGWATCH_CACHE_DIR"}
    env["XDG_CACHE_HOME" if xdg else "REGWATCH_CACHE_DIR"] = str(cache)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, PASSWORD],
        input=_config(url),
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_an_accepted_url_is_checked_without_apprise_the_next_time(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _load(cache, GOOD, tmp_path)
    again = _load(cache, GOOD, tmp_path)
    assert first == {"apprise": True, "error": "", "shown": "posting to ****"}
    assert again == {"apprise": False, "error": "", "shown": "posting to ****"}
    kept = cache / "notify-urls.json"
    text = kept.read_text(encoding="utf-8")
    assert PASSWORD not in text and GOOD not in text  # no secret, no URL: the privacy
    (privacy,) = json.loads(text)["urls"].values()  # form, under a digest of the URL
    assert privacy.startswith("json://alice:****@127.0.0.1:9/hook")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


def test_another_url_is_asked_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _load(cache, GOOD, tmp_path)
    assert _load(cache, GOOD.replace("alice", "bob"), tmp_path)["apprise"] is True


def test_a_refused_url_fails_every_run_and_is_not_kept(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for _ in range(2):
        result = _load(cache, BAD, tmp_path)
        assert result["apprise"] is True
        assert "apprise cannot use this URL" in str(result["error"])
        assert "[[notify]]" in str(result["error"]) or "urls" in str(result["error"])
    kept = cache / "notify-urls.json"
    assert not kept.exists() or json.loads(kept.read_text(encoding="utf-8"))["urls"] == {}


def test_another_apprise_version_asks_afresh(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _load(cache, GOOD, tmp_path)
    kept = cache / "notify-urls.json"
    data = json.loads(kept.read_text(encoding="utf-8"))
    kept.write_text(json.dumps({**data, "apprise": "0.0.1"}), encoding="utf-8")
    assert _load(cache, GOOD, tmp_path)["apprise"] is True
    assert json.loads(kept.read_text(encoding="utf-8"))["apprise"] == data["apprise"]


@pytest.mark.parametrize("broken", ["not a directory", "broken file"])
def test_a_cache_that_cannot_be_used_means_asking_apprise(tmp_path: Path, broken: str) -> None:
    cache = tmp_path / "cache"
    if broken == "not a directory":
        cache.write_text("a file where the folder would be", encoding="utf-8")
    else:
        cache.mkdir(parents=True)
        (cache / "notify-urls.json").write_text("{not json", encoding="utf-8")
    for _ in range(2 if broken == "not a directory" else 1):
        assert _load(cache, GOOD, tmp_path) == {
            "apprise": True,
            "error": "",
            "shown": "posting to ****",
        }


def test_without_a_cache_dir_of_its_own_the_users_cache_is_used(tmp_path: Path) -> None:
    _load(tmp_path / "xdg", GOOD, tmp_path, xdg=True)
    assert (tmp_path / "xdg" / "regwatch" / "notify-urls.json").is_file()
    assert _load(tmp_path / "xdg", GOOD, tmp_path, xdg=True)["apprise"] is False


def test_a_url_apprise_refuses_when_sending_is_asked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A URL kept as accepted that apprise refuses when it is built to send (say
    a plugin's library was removed since) is dropped: the next configuration
    load asks apprise, and fails at start, instead of trusting the old answer."""
    from notifiers import services, url_cache

    cache = tmp_path / "cache"
    monkeypatch.setenv("REGWATCH_CACHE_DIR", str(cache))
    url_cache.forget()
    url_cache.remember(BAD, "slack://…")  # as if an earlier apprise took it
    assert _load(cache, BAD, tmp_path) == {
        "apprise": False,
        "error": "",
        "shown": "posting to " + PASSWORD,
    }
    plugin, why = services.instantiate(BAD)  # what sending does first
    assert plugin is None and why
    url_cache.forget()
    assert url_cache.accepted(BAD) is None
    refused = _load(cache, BAD, tmp_path)
    assert refused["apprise"] is True and "apprise cannot use this URL" in str(refused["error"])


def test_with_nowhere_to_keep_them_urls_are_asked_every_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No cache dir, no XDG cache, no home directory: apprise is asked, nothing
    fails and nothing is kept."""
    from notifiers import services, url_cache

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("REGWATCH_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    url_cache.forget()
    assert url_cache.cache_file() is None
    assert services.check_urls([GOOD]) == []
    url_cache.forget()
    assert url_cache.accepted(GOOD) is None
