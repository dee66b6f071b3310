#!/usr/bin/env bash
# Render an llmspec class report (report.html) in headless Chromium and save a PNG screenshot.
# usage: scripts/screenshot_report.sh REPORT.html OUT.png [WIDTHxHEIGHT]
# Needs Debian's chromium (apt-get install -y chromium).  Network and background services are off:
# the report must render from the file alone (it has no external assets).
set -euo pipefail
report=$(realpath "$1"); out=$(realpath -m "$2"); size=${3:-1200,1400}
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "screenshot_report: chromium not installed" >&2; exit 3; }
profile=$(mktemp -d); trap 'rm -rf "$profile"' EXIT
timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
  --screenshot="$out" --window-size="$size" "file://$report" >/dev/null 2>&1
[ -s "$out" ] || { echo "screenshot_report: no screenshot written" >&2; exit 1; }
echo "$out"
