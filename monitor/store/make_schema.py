"""``python -m monitor.store.make_schema``: rewrite ``schema_sqlite.sql`` from
the real migrations (``monitor.store.fresh``); run it after adding a migration."""

from __future__ import annotations

import sys

from monitor.store.fresh import SCHEMA, generate


def main() -> None:
    SCHEMA.write_text(generate(), encoding="utf-8")
    sys.stdout.write(f"wrote {SCHEMA}\n")


if __name__ == "__main__":  # pragma: no cover - the generator, checked by tests/test_store_fresh.py
    main()
