#!/usr/bin/env bash
# GET /reference renders in headless Chromium with no network and lists every documented route.
# Usage: reference_browser_test.sh PULSE_BINARY OPENAPI_YAML ARTIFACT_DIR
# Keeps ARTIFACT_DIR/reference.png (a screenshot) and reference.html (the rendered DOM).
# Exit 77 (CTest: skipped) when Chromium is absent, except under CI=true, where it fails.
set -euo pipefail
pulse=$1 openapi=$2 artifacts=$3

chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: chromium is not installed (CI must run this test; .ci/run installs it)" >&2
    exit 1
  fi
  echo "SKIPPED: chromium is not installed; install the Debian package 'chromium' to run this test" >&2
  exit 77
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$pulse" serve --listen 127.0.0.1:0 --data-dir "$work/data" >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 1 300); do
  grep -q 'listening on http://' "$work/server.out" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.out" "$work/server.err" >&2; exit 1; }
  sleep 0.1
done
url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/server.out" | head -1)
[ -n "$url" ] || { echo "FAIL: the server did not start" >&2; exit 1; }

# No network: every non-loopback request goes to a proxy that does not exist, every host name
# but 127.0.0.1 fails to resolve, and Chromium's own background services are off.
browse() {
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --disable-extensions \
    --user-data-dir="$work/profile-$1" --proxy-server=http://127.0.0.1:9 \
    --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
    --virtual-time-budget=15000 --window-size=1400,1800 --hide-scrollbars "${@:2}" \
    "$url/reference" 2>>"$work/chromium.err"
}
mkdir -p "$artifacts"
browse dom --dump-dom >"$artifacts/reference.html"
browse shot --screenshot="$artifacts/reference.png" >/dev/null
[ -s "$artifacts/reference.png" ] || { echo "FAIL: no screenshot" >&2; tail -20 "$work/chromium.err" >&2; exit 1; }

# Every path of openapi.yaml, as Redoc shows it, must be on the rendered page.
routes=$(awk '/^paths:/{p=1;next} /^[^ ]/{p=0} p && /^  \/[^:]*:/{sub(/^  /,""); sub(/:$/,""); print}' "$openapi")
[ -n "$routes" ] || { echo "FAIL: no paths found in $openapi" >&2; exit 1; }
missing=0 count=0
while IFS= read -r route; do
  count=$((count + 1))
  if ! grep -qF -- ">$route<" "$artifacts/reference.html" && ! grep -qF -- "$route" "$artifacts/reference.html"; then
    echo "FAIL: $route is not on the rendered /reference page" >&2
    missing=$((missing + 1))
  fi
done <<<"$routes"
# The page really rendered (Redoc's operation headings), not just the HTML shell.
grep -q 'redoc-wrap' "$artifacts/reference.html" || { echo "FAIL: Redoc did not render the document" >&2; missing=$((missing + 1)); }
if [ "$missing" -gt 0 ]; then
  tail -20 "$work/chromium.err" >&2
  exit 1
fi
echo "reference OK: $count routes listed; screenshot in $artifacts/reference.png"
