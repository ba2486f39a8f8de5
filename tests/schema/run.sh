#!/usr/bin/env bash
# CTest's entry to validate.mjs: says what is missing instead of a stack trace.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null; then
  echo "FAIL: node is not installed (Debian: apt-get install nodejs npm; .ci/setup installs it)" >&2
  exit 1
fi
if [ ! -d "$here/node_modules/ajv" ]; then
  echo "FAIL: the validator's packages are not installed: run 'npm ci --prefix tests/schema' (.ci/run does)" >&2
  exit 1
fi
exec node "$here/validate.mjs" "$@"
