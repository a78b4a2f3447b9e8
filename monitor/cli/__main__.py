"""``python -m monitor.cli.main``: the same as the ``regwatch`` command."""

import sys

from monitor.cli.main.main import app

sys.exit(app())
