"""``python -m monitor.cli``: the same as the ``regwatch`` command."""

import sys

from monitor.cli.main import app

sys.exit(app())
