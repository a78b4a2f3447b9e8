"""`run` (the service) and `demo` (an offline walk-through)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from monitor.cli.main import ConfigOption, friendly

    @app.command()
    @friendly
    def run(config: str = ConfigOption) -> None:
        """The service: scheduler, dispatcher, reminders, retention and /healthz."""
        from monitor.service.process import run_service

        run_service(config)

    @app.command()
    @friendly
    def demo(
        keep: str = typer.Option(
            None,
            "--keep",
            metavar="DIR",
            help="Keep the demo database in DIR, with a regwatch.toml beside it to explore it.",
        ),
    ) -> None:
        """An offline walk-through on bundled replicas of CDE, NMPA, FDA and EMA."""
        from monitor.demo import run_demo

        run_demo(keep)
