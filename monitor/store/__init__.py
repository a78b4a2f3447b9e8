"""The SQLite/PostgreSQL store: tables, migrations, blobs."""

from monitor.store.db import Store

__all__ = ["Store"]
