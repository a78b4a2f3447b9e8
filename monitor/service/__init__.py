"""``regwatch run``: the service, its scheduler, the database lock, ``/healthz`` and retention."""
