"""`web`: the read-only web UI and feeds over the change history."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import typer


def register(app: typer.Typer) -> None:
    from monitor.cli.main import ConfigOption, err, friendly, out

    @app.command()
    @friendly
    def web(
        config: str = ConfigOption,
        listen: str = typer.Option(
            "127.0.0.1:8471",
            "--listen",
            envvar="REGWATCH_WEB_LISTEN",
            help="HOST:PORT to serve on (port 0: any free port).",
        ),
        title: str = typer.Option(
            "regwatch", "--title", metavar="TEXT", help="Name shown on every page."
        ),
        base_url: str = typer.Option(
            "",
            "--base-url",
            metavar="URL",
            help="Absolute links in the Atom feed under this "
            "URL (default: links relative to the feed).",
        ),
    ) -> None:
        """Browse and search the change history in a browser; Atom feed and JSON.

        Read-only: it never writes the database, so it can run beside `regwatch run`.
        """
        from monitor import config as config_module
        from monitor.errors import ConfigError, RegwatchError
        from monitor.service.healthz import parse_listen
        from monitor.web.server import WebSettings, open_readonly_store, serve_web, server_url

        settings = config_module.load(config)
        try:
            host, _port = parse_listen(listen)
        except ValueError as exc:
            raise ConfigError(str(exc), key="--listen") from None
        if host not in ("127.0.0.1", "localhost", "::1"):
            err.print(
                f"warning: the web UI has no authentication; on {host} anyone who can "
                "reach this machine can read the history (put it behind a proxy with "
                "a login, or listen on 127.0.0.1)",
                markup=False,
            )
        store = open_readonly_store(settings.store.url)
        try:
            server, thread = serve_web(
                store,
                listen,
                title=title,
                settings=WebSettings.of(settings, title=title, base_url=base_url),
            )
        except ValueError as exc:
            raise ConfigError(str(exc), key="--listen") from None
        except OSError as exc:
            raise RegwatchError(
                f"cannot listen on {listen}: {exc.strerror or exc}; pick another --listen HOST:PORT"
            ) from None
        stop = threading.Event()

        def _stop(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        previous = signal.signal(signal.SIGTERM, _stop)
        out.print(
            f"regwatch web UI on {server_url(server)}/ (feed: /feed.atom) — Ctrl-C stops",
            markup=False,
        )
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
            store.close()
