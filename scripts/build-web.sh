#!/usr/bin/env bash
# Builds the browser app: public/web/app.wasm (Go for GOOS=js GOARCH=wasm).
# With --static it also writes the static website (index.html,
# selftest/index.html, bench/index.html, app.js, app-worker.js, ...) into
# public/ through `webmae static`. Last, every
# compressible file of public/ of 1 KiB or more (app.wasm, the model, the
# self-test references, scripts, styles, pages) gets precompressed copies
# beside it, NAME.br (brotli, when the brotli command is installed) and
# NAME.gz (gzip -9), where they save at least 10%: `webmae serve` sends them to browsers that accept
# them, and so can static hosts. Prints app.wasm's size, raw and brotli.
set -euo pipefail
cd "$(dirname "$0")/.."

static=0
for arg in "$@"; do
  case "$arg" in
    --static) static=1 ;;
    *) echo "usage: scripts/build-web.sh [--static]" >&2; exit 2 ;;
  esac
done

GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w" -o public/web/app.wasm ./wasm

# --- the CPU engine's Web Worker (cmd/webmae-worker, started by
# public/web/webmae-worker.js when the page runs on the CPU backend):
# precompressed like app.wasm and, being in public/web/, cached by the
# service worker.
GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w" -o public/web/webmae-worker.wasm ./cmd/webmae-worker
# --- end CPU worker

# --- WebGPU self-test and bench (ui/selftest.go, ui/bench.go; not committed):
# the PyTorch reference vectors for /selftest, and TensorFlow.js for the
# /bench comparison when e2e's devDependencies are installed.
mkdir -p public/web/reference
cp testdata/reference/*.json testdata/reference/*.safetensors public/web/reference/
cp testdata/tutorial/*.json testdata/tutorial/*.safetensors public/web/reference/
tfjs=e2e/node_modules/@tensorflow
if [ -f "$tfjs/tfjs/dist/tf.min.js" ] && [ -f "$tfjs/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js" ]; then
  mkdir -p public/web/vendor
  cp "$tfjs/tfjs/dist/tf.min.js" "$tfjs/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js" public/web/vendor/
fi
# --- end self-test and bench
# --- TensorFlow.js's wasm backend (SIMD) for /bench's CPU comparison, when
# installed: its script and .wasm files beside tf.min.js.
tfwasm=e2e/node_modules/@tensorflow/tfjs-backend-wasm/dist
if [ -f "$tfwasm/tf-backend-wasm.min.js" ]; then
  mkdir -p public/web/vendor
  cp "$tfwasm/tf-backend-wasm.min.js" "$tfwasm"/tfjs-backend-wasm*.wasm public/web/vendor/
fi
# --- end tfjs wasm

if [ "$static" = 1 ]; then
  go run . static -dir public
fi

# --- precompressed copies: rebuilt when older than their file (each copy
# is given its file's time, to the nanosecond); a copy that
# cannot be rebuilt (no brotli) is removed, never left stale, and one that
# saves less than 10% is not kept. Brotli's slowest, densest level for
# app.wasm, level 9 for the rest.
have_brotli=0
command -v brotli >/dev/null 2>&1 && have_brotli=1
fresh() { [ -f "$1" ] && ! [ "$1" -ot "$2" ]; }
keep_if_smaller() { # copy original
  if [ $(( $(stat -c %s "$1") * 10 )) -gt $(( $(stat -c %s "$2") * 9 )) ]; then rm -f "$1"; fi
}
find public -type f -size +1023c \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.json' -o -name '*.safetensors' \
  -o -name '*.svg' -o -name '*.html' -o -name '*.csv' -o -name '*.webmanifest' -o -name '*.md' \) -print0 |
while IFS= read -r -d '' f; do
  if [ "$have_brotli" = 1 ]; then
    q=9
    [ "$f" = public/web/app.wasm ] && q=11
    [ "$f" = public/web/webmae-worker.wasm ] && q=11
    if ! fresh "$f.br" "$f"; then
      brotli -f -q "$q" -o "$f.br.tmp" "$f" && touch -r "$f" "$f.br.tmp" && mv "$f.br.tmp" "$f.br" && keep_if_smaller "$f.br" "$f"
    fi
  else
    rm -f "$f.br"
  fi
  if ! fresh "$f.gz" "$f"; then
    gzip -9 -n -c "$f" >"$f.gz.tmp" && touch -r "$f" "$f.gz.tmp" && mv "$f.gz.tmp" "$f.gz" && keep_if_smaller "$f.gz" "$f"
  fi
done

raw=$(stat -c %s public/web/app.wasm)
if [ -f public/web/app.wasm.br ]; then
  br=$(stat -c %s public/web/app.wasm.br)
  echo "public/web/app.wasm: $raw bytes ($((raw / 1024)) KiB), brotli $br bytes ($((br / 1024)) KiB)"
else
  echo "public/web/app.wasm: $raw bytes ($((raw / 1024)) KiB) (brotli not installed: gzip only)"
fi
# --- the CPU worker's size
raw=$(stat -c %s public/web/webmae-worker.wasm)
br=$( [ -f public/web/webmae-worker.wasm.br ] && stat -c %s public/web/webmae-worker.wasm.br || echo none)
echo "public/web/webmae-worker.wasm: $raw bytes ($((raw / 1024)) KiB), brotli $br bytes"
