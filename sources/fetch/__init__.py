"""Getting a site's bytes: the HTTP and browser fetchers, politeness, the network policy and
block recognition."""

import sys

# ``import httpx`` imports httpx's own command line (``httpx._main``) whenever click, rich
# and pygments are installed (they are: Typer brings them), and with it pygments' lexer
# table, rich.progress and rich.syntax: ~6 MB of RSS and ~0.1 s of every regwatch run,
# for a command regwatch never runs. A ``None`` entry makes that import fail, and httpx
# then defines its stub ``httpx.main`` (its ``except ImportError`` branch) and nothing else
# changes. Set here because every module that imports httpx is in this package.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
