#!/usr/bin/env bash
# The dashboard in a real browser: Debian's chromium, headless, driven by puppeteer-core (npm,
# pinned by package-lock.json here), against a real `pulse serve` on port 0 with
# `pulse gateway-sim` as the phone. Screenshots of every page go to ARTIFACT_DIR.
# Usage: run.sh PULSE_BINARY ARTIFACT_DIR WORK_DIR [SCRIPT [OPENAPI_YAML]]
# SCRIPT is dashboard_test.mjs (the default) or reference_test.mjs (GET /reference, which reads
# the routes of OPENAPI_YAML).
# Exit 77 (CTest: skipped) when Chromium or npm is absent, except under CI=true, where it fails.
set -euo pipefail
pulse=$1 artifacts=$2 work=$3 script=${4:-dashboard_test.mjs} openapi=${5:-}
here=$(cd "$(dirname "$0")" && pwd)

skip() {
  if [ "${CI:-}" = "true" ]; then echo "FAIL: $1 (CI must run this test)" >&2; exit 1; fi
  echo "SKIPPED: $1" >&2
  exit 77
}
chromium=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium" ] || skip "chromium is not installed (Debian package 'chromium')"
command -v npm >/dev/null || skip "npm is not installed"

# The test's packages, into the build tree, once per lock file.
mkdir -p "$work"
stamp="$work/node_modules/.lock-$(sha256sum "$here/package-lock.json" | cut -c1-16)"
if [ ! -e "$stamp" ]; then
  cp "$here/package.json" "$here/package-lock.json" "$work/"
  (cd "$work" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$stamp"
fi
mkdir -p "$artifacts"
NODE_PATH="$work/node_modules" CHROMIUM="$chromium" PULSE="$pulse" ARTIFACTS="$artifacts" \
  OPENAPI="$openapi" timeout 600 node "$here/$script"
