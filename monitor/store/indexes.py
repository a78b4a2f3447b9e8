"""SQL words shared by the models, the migrations' partial index and the warm check,
kept where importing them imports no SQLAlchemy."""

from __future__ import annotations

__all__ = ["MAYBE_DUE"]

# The documents for which a check may have something due besides its listing
# (missing, files to read, re-read before): ``warm.maybe_due_sources`` reads the
# partial index ``ix_document_maybe_due`` over exactly these, which migration 0014
# makes (and the new-store script holds). The query must say it in these words for
# SQLite to use the index. It is not declared on ``models.DocumentRow``: an ``Index`` with
# ``sqlite_where``/``postgresql_where`` imports both dialects' modules at every
# start-up (~35 ms, 18 modules), and nothing builds tables from these models.
MAYBE_DUE = (
    "state <> 'removed' AND (missing_runs > 0 OR read_pending = true"
    " OR attachments_checked_at IS NOT NULL)"
)
