#!/usr/bin/env bash
# Builds the browser app: public/web/app.wasm (Go for GOOS=js GOARCH=wasm),
# and public/web/app.wasm.br when the brotli command is installed (for
# static hosts that serve precompressed files). With --static it also
# writes the static website (index.html, app.js, app-worker.js, ...) into
# public/ through `webmae static`. Prints app.wasm's size, raw and brotli.
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
raw=$(stat -c %s public/web/app.wasm)
if command -v brotli >/dev/null 2>&1; then
  brotli -f -q 11 -o public/web/app.wasm.br public/web/app.wasm
  br=$(stat -c %s public/web/app.wasm.br)
  echo "public/web/app.wasm: $raw bytes ($((raw / 1024)) KiB), brotli $br bytes ($((br / 1024)) KiB)"
else
  echo "public/web/app.wasm: $raw bytes ($((raw / 1024)) KiB) (brotli not installed)"
fi

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

if [ "$static" = 1 ]; then
  go run . static -dir public
fi
