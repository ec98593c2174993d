# webmae: `make run` builds and serves the demo on 127.0.0.1:8080;
# `make test` runs every test in the repository.
GO        ?= go
ADDR      ?= 127.0.0.1:8080
FUZZTIME  ?= 20s

.PHONY: all build web static run test test-go test-fuzz test-e2e lint bench bench-go bench-native bench-browser clean pretrain pretrain-tiny64 pretrain-fashion

all: build web

build:
	$(GO) build -o webmae .

# The browser app: public/web/app.wasm (+ .br), the reference vectors for
# /selftest, TensorFlow.js for /bench when e2e's npm packages are installed.
web:
	scripts/build-web.sh

# A complete static website in public/ for any static host.
static: build
	scripts/build-web.sh --static

# Another port: make run ADDR=127.0.0.1:8081
run: build web
	./webmae serve --addr $(ADDR) --dir public

# vet checks the native build and the browser build (the js-only files).
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./...

# The second line runs the CPU backend without the assembly micro-kernel
# (gonum's Sgemm: the path the browser's CPU fallback takes) through the
# PyTorch parity test.
test-go:
	$(GO) test -count=1 -timeout 20m ./...
	$(GO) test -count=1 -tags noasm ./engine/cpu ./engine/harness

# Each fuzz target runs for a short bounded time; a crash fails the build.
test-fuzz:
	$(GO) test ./engine/model -run '^$$' -fuzz '^FuzzReadSafetensors$$' -fuzztime $(FUZZTIME)
	$(GO) test ./engine/model -run '^$$' -fuzz '^FuzzParseConfig$$' -fuzztime $(FUZZTIME)
	$(GO) test ./engine/model -run '^$$' -fuzz '^FuzzReadPyTorch$$' -fuzztime $(FUZZTIME)
	$(GO) test ./engine/tutorial -run '^$$' -fuzz '^FuzzParseConfig$$' -fuzztime $(FUZZTIME)
	$(GO) test ./engine/tutorial -run '^$$' -fuzz '^FuzzReadWeights$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 1s
	$(GO) test ./engine/train -run '^$$' -fuzz '^FuzzReadIDX$$' -fuzztime $(FUZZTIME)
	$(GO) test ./engine/train -run '^$$' -fuzz '^FuzzDecodeImage$$' -fuzztime $(FUZZTIME)
	$(GO) test ./engine/train -run '^$$' -fuzz '^FuzzCheckpointMeta$$' -fuzztime $(FUZZTIME)
	$(GO) test ./engine/recon -run '^$$' -fuzz '^FuzzParsePreprocessor$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/workermsg -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)

# Browser tests: Playwright (playwright-core) driving Debian's chromium,
# headless, WebGPU on SwiftShader; screenshots land in e2e/artifacts/.
test-e2e:
	e2e/run.sh

test: lint test-go test-fuzz test-e2e

bench-go:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./engine/...

bench-native: build
	./webmae bench --backend cpu,gpu --matmul 256,512,1024,2048

# The /bench page in headless chromium: our WebGPU engine and TensorFlow.js
# 4.22 (WebGPU) on the same adapter, with ratios.
bench-browser: build web
	@test -d e2e/node_modules/playwright-core || (cd e2e && npm ci --no-audit --no-fund)
	scripts/build-web.sh
	mkdir -p bin && cp webmae bin/webmae
	node e2e/bench.mjs preset=micro
	node e2e/bench.mjs preset=tiny batch=8 steps=2
	node e2e/bench.mjs config='$(CONFIG_224)' only=recon
	node e2e/bench.mjs preset=tiny only=cpu
	node e2e/bench.mjs config='$(CONFIG_224)' only=cpu
	node e2e/bench-first-recon.mjs --loads 4 --path / --path '/?precompile=0'
	node e2e/bench-responsive.mjs --recons 6

# The 224-px default model's shape (patch 16, tiny widths), for /bench.
CONFIG_224 = {"image_size":224,"patch_size":16,"num_channels":3,"hidden_size":192,"num_hidden_layers":6,"num_attention_heads":3,"intermediate_size":768,"decoder_hidden_size":128,"decoder_num_hidden_layers":2,"decoder_num_attention_heads":4,"decoder_intermediate_size":512,"mask_ratio":0.75,"layer_norm_eps":1e-6,"qkv_bias":true,"hidden_act":"gelu"}

bench: bench-go bench-native bench-browser

# The demo's default model (model card: public/models/README.md): 224 px,
# patch 16, trained on Debian's freely licensed wallpaper photographs, the
# sample photos (two held out) and a minority of public-domain clip art.
# Four stages on the same run ($(PRETRAIN_OUT)): a 2500-step cosine run; a
# warm restart of the schedule to 10000 steps, stopped after step 3973; the
# schedule shortened to 8000 steps, stopped after step 5241; the rest as a
# 7000-step schedule (each shortening made to fit a session's time). Every
# stage resumes exactly when a checkpoint is there, so a long CPU
# run can span sessions: run `make pretrain` again after an interruption
# (Ctrl-C saves a checkpoint). The finished model, its config, normalisation,
# quality table and loss curve are copied to $(MODELS_DIR). The shipped run
# used the CPU backend (PRETRAIN_BACKEND=auto trains on a GPU where there is
# one: faster, equal up to float rounding).
SHARED           ?= ../shared/data
MODELS_DIR       ?= public/models
PRETRAIN_OUT     ?= out/pretrain-224
PRETRAIN_DATA    ?= out/pretrain-data-224
PRETRAIN_HOLDOUT ?= photos/chelsea.jpg,photos/coffee.jpg
PRETRAIN_BACKEND ?= cpu
PRETRAIN_FLAGS   ?= --preset tiny --image-size 224 --patch-size 16 --data $(PRETRAIN_DATA)/images \
	--holdout $(PRETRAIN_HOLDOUT) --batch 32 --base-lr 4e-3 --warmup 200 \
	--eval-every 500 --eval-images 256 --seed 0 --f16 --backend $(PRETRAIN_BACKEND) --out $(PRETRAIN_OUT)
resume_if = $(if $(wildcard $(1)/checkpoint.safetensors),--resume)
model_files = model.safetensors config.json preprocessor_config.json quality.json loss.svg train.csv

# Training data: scripts/pretrain-data.sh downloads the pinned .debs
# (apt-get download needs no root), checks their SHA-256 and prepares them.
$(PRETRAIN_DATA)/.done: | build
	scripts/pretrain-data.sh $(PRETRAIN_DATA)
	touch $@

$(PRETRAIN_OUT)/.stage1: | build $(PRETRAIN_DATA)/.done
	./webmae train $(PRETRAIN_FLAGS) --steps 2500 $(call resume_if,$(PRETRAIN_OUT))
	touch $@

$(PRETRAIN_OUT)/.stage2: $(PRETRAIN_OUT)/.stage1
	./webmae train $(PRETRAIN_FLAGS) --steps 10000 --stop-after 3973 --resume
	touch $@

$(PRETRAIN_OUT)/.stage3: $(PRETRAIN_OUT)/.stage2
	./webmae train $(PRETRAIN_FLAGS) --steps 8000 --stop-after 5241 --resume
	touch $@

pretrain: build $(PRETRAIN_OUT)/.stage3
	./webmae train $(PRETRAIN_FLAGS) --steps 7000 --resume
	mkdir -p $(MODELS_DIR)
	cp $(addprefix $(PRETRAIN_OUT)/,$(model_files)) $(MODELS_DIR)/

# The small fast option (public/models/tiny-64/, card in its README): 64 px,
# patch 8, the size the page's training presets train; sample photos and
# Debian's public-domain openclipart-png (8,121 drawings, shrunk to 160 px).
TINY64_OUT      ?= out/pretrain-tiny
TINY64_DATA     ?= out/pretrain-data
CLIPART_DEB      = openclipart-png_1%3a0.18+dfsg-19_all.deb
CLIPART_SHA256   = f07f1545a2970c2cf3fa339bc2405da1a95cf2b1827bfa05bf73eb1c20291c02
$(TINY64_DATA)/.done: | build
	rm -rf $(TINY64_DATA) && mkdir -p $(TINY64_DATA)/deb $(TINY64_DATA)/photos
	cd $(TINY64_DATA)/deb && apt-get download openclipart-png=1:0.18+dfsg-19
	echo "$(CLIPART_SHA256)  $(TINY64_DATA)/deb/$(CLIPART_DEB)" | sha256sum -c -
	dpkg-deb -x $(TINY64_DATA)/deb/$(CLIPART_DEB) $(TINY64_DATA)/deb/x
	./webmae prepare-images --src $(TINY64_DATA)/deb/x/usr/share/openclipart/png \
		--out $(TINY64_DATA)/openclipart --max-side 160 --min-side 32 --background 255,255,255
	rm -rf $(TINY64_DATA)/deb
	cp public/web/samples/*.jpg $(TINY64_DATA)/photos/
	touch $@

pretrain-tiny64: build $(TINY64_DATA)/.done
	./webmae train --preset tiny --data $(TINY64_DATA) --holdout $(PRETRAIN_HOLDOUT) --steps 20000 --batch 32 \
		--base-lr 4e-3 --warmup 400 --eval-every 1000 --eval-images 256 --seed 0 --f16 --backend auto \
		--out $(TINY64_OUT) $(call resume_if,$(TINY64_OUT))
	mkdir -p $(MODELS_DIR)/tiny-64
	cp $(addprefix $(TINY64_OUT)/,$(model_files)) $(MODELS_DIR)/tiny-64/

# The 1-channel micro-sized Fashion-MNIST check (28 px, patch 4, the test set
# held out): about 2 minutes on 2 cores; not shipped.
FASHION_OUT ?= out/pretrain-fashion
pretrain-fashion: build
	./webmae train --preset micro --image-size 28 --patch-size 4 --data fashion-mnist:$(SHARED)/fashion-mnist \
		--steps 700 --batch 128 --base-lr 2e-3 --warmup 50 --eval-every 100 --eval-images 1000 --seed 0 \
		--out $(FASHION_OUT) $(call resume_if,$(FASHION_OUT))

clean:
	rm -rf webmae bin public/web/app.wasm
	find public \( -name '*.br' -o -name '*.gz' -o -name '*.tmp' \) -type f -delete
