#!/usr/bin/env bash
# Install what the browser-fetcher tests drive, from Debian's packages: the system
# Chromium (/usr/bin/chromium, driven through Playwright), Xvfb (the virtual display a
# headed window runs on, started by sources/fetch/chromium.py) and CJK fonts (so a
# screenshot of a Chinese page shows its text). Idempotent: installs only what is
# missing. Runs as root in CI; Playwright's own browser downloads are never used
# (`playwright install` is not run).
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
command -v Xvfb >/dev/null 2>&1 || missing+=(xvfb xauth)
[ -d /usr/share/fonts/opentype/noto ] || missing+=(fonts-noto-cjk)

if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "chromium: $(command -v chromium || command -v chromium-browser)"
echo "xvfb: $(command -v Xvfb)"
