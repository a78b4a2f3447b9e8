"""`notify test`, `notify retry` and `deliveries`."""

from __future__ import annotations

import json
import uuid

import typer


def register(app: typer.Typer) -> None:
    from monitor.cli.main import ConfigOption, friendly, out

    notify = typer.Typer(
        help="Alert routes: test one, retry failed deliveries.", no_args_is_help=True
    )
    app.add_typer(notify, name="notify")

    @notify.command("test")
    @friendly
    def notify_test(
        route: str = typer.Argument(..., help="A [[notify]] name."), config: str = ConfigOption
    ) -> None:
        """Send a test alert through one route now."""
        from monitor.app import open_context
        from monitor.delivery.dispatch import Dispatcher, queue_test
        from monitor.store.db import utcnow
        from notifiers.types import Alert

        ctx = open_context(config)
        target = ctx.config.route(route)
        alert = Alert(
            id=f"test-{uuid.uuid4().hex[:8]}",
            kind="test",
            source="regwatch",
            regulator="regwatch",
            jurisdiction="",
            detected_at=utcnow(),
            title="regwatch test alert 测试消息",
            detail=f"If you can read this, route {target.name!r} works.",
        )
        row = queue_test(ctx.store, target, alert)
        assert row.id is not None
        Dispatcher(ctx.config, ctx.store).run_once(only=[row.id])  # the test alert, nothing else
        from monitor.store.models import DeliveryRow

        with ctx.store.session() as session:
            fresh = session.get(DeliveryRow, row.id)
        assert fresh is not None
        for url in target.privacy_urls():
            out.print(f"  {url}", markup=False)
        if fresh.status == "sent":
            out.print(f"sent a test alert through {target.name}", markup=False)
            return
        with ctx.store.session(write=True) as session:  # a failed test is never sent later
            stale = session.get(DeliveryRow, row.id)
            if stale is not None and stale.status != "sent":
                stale.status, stale.next_attempt_at = "failed", None
                session.add(stale)
        out.print(f"failed: {fresh.last_error}", markup=False)
        raise typer.Exit(5)

    @notify.command("retry")
    @friendly
    def notify_retry(
        config: str = ConfigOption, route: str = typer.Option(None, help="Only this route.")
    ) -> None:
        """Put failed deliveries back in the queue and send them now."""
        from sqlmodel import select

        from monitor.app import open_context
        from monitor.delivery.dispatch import Dispatcher
        from monitor.store.db import utcnow
        from monitor.store.models import DeliveryRow

        ctx = open_context(config)
        if route:
            ctx.config.route(route)  # an unknown route is an error, not "every route"
        with ctx.store.session(write=True) as session:
            query = select(DeliveryRow).where(DeliveryRow.status == "failed")
            if route:
                query = query.where(DeliveryRow.route == route)
            rows = session.exec(query).all()
            for row in rows:
                row.status, row.attempts, row.next_attempt_at = "pending", 0, utcnow()
                session.add(row)
        result = Dispatcher(ctx.config, ctx.store).run_once()
        out.print(
            f"requeued {len(rows)}; {result.sent} sent, {result.failed} failed, "
            f"{result.retrying} to retry"
        )

    @app.command()
    @friendly
    def deliveries(
        config: str = ConfigOption,
        status: str = typer.Option(None, help="pending, sending, sent or failed."),
        limit: int = typer.Option(50, help="At most this many, newest first."),
        as_json: bool = typer.Option(False, "--json", help="A JSON array."),
    ) -> None:
        """Queued, sent and failed alerts, with the reason of failures."""
        from sqlmodel import col, select

        from monitor.cli.values import choose, open_reader
        from monitor.store.models import DeliveryRow

        wanted = choose("--status", status, ("pending", "sending", "sent", "failed"))
        ctx = open_reader(config)
        with ctx.store.session() as session:
            query = select(DeliveryRow).order_by(col(DeliveryRow.id).desc()).limit(limit)
            if wanted:
                query = query.where(DeliveryRow.status == wanted)
            rows = session.exec(query).all()
        data = [
            {
                "id": r.id,
                "route": r.route,
                "purpose": r.purpose,
                "change_id": r.change_id,
                "kind": json.loads(r.alert).get("kind", ""),
                "mode": r.mode,
                "status": r.status,
                "attempts": r.attempts,
                "created_at": r.created_at.isoformat(),
                "next_attempt_at": r.next_attempt_at.isoformat() if r.next_attempt_at else None,
                "sent_at": r.sent_at.isoformat() if r.sent_at else None,
                "last_error": r.last_error,
                "title": json.loads(r.alert).get("title", ""),
            }
            for r in rows
        ]
        if as_json:
            out.print(json.dumps(data, ensure_ascii=False, indent=1), markup=False)
            return
        from rich.table import Table
        from rich.text import Text

        table = Table()
        for column in ("id", "route", "status", "attempts", "title", "last error"):
            table.add_column(column)
        for d in data:  # Text: a title or an error with "[...]" is not Rich markup
            table.add_row(
                *(
                    Text(value)
                    for value in (
                        str(d["id"]),
                        d["route"],
                        d["status"],
                        str(d["attempts"]),
                        d["title"][:60],
                        d["last_error"][:80],
                    )
                )
            )
        out.print(table)
