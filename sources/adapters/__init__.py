"""The adapters, one module per kind: a site's bytes to a ``Listing`` of records. ``builtin``
lists the built-in kinds."""
