#!/usr/bin/env bash
# Builds the browser app: public/web/app.wasm (Go for GOOS=js GOARCH=wasm).
# With --static it also writes the static website (index.html, app.js,
# app-worker.js, ...) into public/ through `webmae static`. Last, every
# compressible file of public/ of 1 KiB or more (app.wasm, the model, the
# self-test references, scripts, styles, pages) gets precompressed copies
# beside it, NAME.br (brotli -q 11, when the brotli command is installed)
# and NAME.gz (gzip -9): `webmae serve` sends them to browsers that accept
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

# --- WebGPU self-test and bench (ui/selftest.go, ui/bench.go; not committed):
# the PyTorch reference vectors for /selftest, and TensorFlow.js for the
# /bench comparison when e2e's devDependencies are installed.
mkdir -p public/web/reference
cp testdata/reference/*.json testdata/reference/*.safetensors public/web/reference/
tfjs=e2e/node_modules/@tensorflow
if [ -f "$tfjs/tfjs/dist/tf.min.js" ] && [ -f "$tfjs/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js" ]; then
  mkdir -p public/web/vendor
  cp "$tfjs/tfjs/dist/tf.min.js" "$tfjs/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js" public/web/vendor/
fi
# --- end self-test and bench

if [ "$static" = 1 ]; then
  go run . static -dir public
fi

# --- precompressed copies: rebuilt when older than their file (brotli
# gives the copy its file's time; gzip's is touched to match); a copy that
# cannot be rebuilt (no brotli) is removed, never left stale.
have_brotli=0
command -v brotli >/dev/null 2>&1 && have_brotli=1
find public -type f -size +1023c \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.json' -o -name '*.safetensors' \
  -o -name '*.svg' -o -name '*.html' -o -name '*.csv' -o -name '*.webmanifest' -o -name '*.md' \) -print0 |
while IFS= read -r -d '' f; do
  if [ "$have_brotli" = 1 ]; then
    [ -f "$f.br" ] && ! [ "$f.br" -ot "$f" ] || { brotli -f -q 11 -o "$f.br.tmp" "$f" && mv "$f.br.tmp" "$f.br"; }
  else
    rm -f "$f.br"
  fi
  if ! [ -f "$f.gz" ] || [ "$f.gz" -ot "$f" ]; then
    gzip -9 -n -c "$f" >"$f.gz.tmp" && touch -r "$f" "$f.gz.tmp" && mv "$f.gz.tmp" "$f.gz"
  fi
done

raw=$(stat -c %s public/web/app.wasm)
if [ -f public/web/app.wasm.br ]; then
  br=$(stat -c %s public/web/app.wasm.br)
  echo "public/web/app.wasm: $raw bytes ($((raw / 1024)) KiB), brotli $br bytes ($((br / 1024)) KiB)"
else
  echo "public/web/app.wasm: $raw bytes ($((raw / 1024)) KiB) (brotli not installed: gzip only)"
fi
