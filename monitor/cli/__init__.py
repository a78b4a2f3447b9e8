"""The ``regwatch`` command line: ``main`` builds the Typer app, one module per group of
commands."""
