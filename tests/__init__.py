"""regwatch tests (a package, so mypy and pytest agree on module names)."""
