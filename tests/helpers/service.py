"""The service under test: a source on the list site, waiting on a condition, and
``regwatch run`` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.sites import Item

REGWATCH = str(Path(sys.executable).with_name("regwatch"))


def list_source(url: str, name: str = "list", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "html-list",
        "url": f"{url}/list/index.html",
        "jurisdiction": "CN",
        "item": ".list ul li",
        "title": "a",
        "link": "a@href",
        "date": "span",
        **extra,
    }


def seed_items(n: int = 5) -> list[Item]:
    return [
        Item(f"2026060{i}0900000{i:02d}", f"国家药监局公告（2026年第{i}号）", "2026-06-01")
        for i in range(1, n + 1)
    ]


def get_json(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


class ServiceProcess:
    """``regwatch run -c CONFIG`` in a subprocess, its stderr in a file."""

    def __init__(self, config: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.config, self.log = config, log
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        with self.log.open("ab") as err:
            self.proc = subprocess.Popen(
                [REGWATCH, "run", "-c", str(self.config)],
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=self.env,
                cwd=self.config.parent,
            )
        return self

    def wait_healthy(self, url: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"the service exited ({self.proc.returncode}):\n{self.text()}")
            try:
                status, body = get_json(url)
                if status in (200, 503):
                    return body
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"no /healthz after {timeout}s:\n{self.text()}")

    def send(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 30) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
