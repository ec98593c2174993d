#!/usr/bin/env bash
# The browser tests: builds the app (scripts/build-web.sh) and the webmae
# binary, serves public/ on a free port, and runs every e2e/tests/*.test.mjs
# (or the files given) one at a time with playwright-core driving Debian's
# chromium, headless, WebGPU on SwiftShader. Screenshots go to
# e2e/artifacts/ (not committed).
#
# Environment: CHROMIUM (default /usr/bin/chromium), SKIP_BUILD=1 to reuse
# public/web/app.wasm and bin/webmae.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ ! -d e2e/node_modules/playwright-core ]; then
  (cd e2e && npm ci --no-audit --no-fund)
fi
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  scripts/build-web.sh
  go build -o bin/webmae .
fi

log=$(mktemp)
bin/webmae serve -addr 127.0.0.1:0 -dir public >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
url=
for _ in $(seq 100); do
  url=$(sed -n 's/^serving \(http:[^ ]*\).*/\1/p' "$log")
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "e2e: webmae serve did not start:" >&2
  cat "$log" >&2
  exit 1
fi
echo "e2e: testing $url"

cd e2e
if [ $# -eq 0 ]; then
  set -- tests/*.test.mjs
fi
WEBMAE_URL="$url" WEBMAE_BIN="$root/bin/webmae" WEBMAE_SITE="$root/public" \
  CHROMIUM="${CHROMIUM:-/usr/bin/chromium}" \
  node --test --test-concurrency=1 --test-reporter=spec "$@"
