#!/usr/bin/env bash
# Install the system Chromium that sources/fetch/browser.py drives through Playwright
# (Debian package, /usr/bin/chromium). Idempotent: does nothing when Chromium is
# already on PATH. Runs as root in CI; Playwright's own browser downloads are
# never used (`playwright install` is not run).
set -euo pipefail

if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    echo "chromium: $(command -v chromium || command -v chromium-browser)"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
echo "chromium: installed $(command -v chromium)"
