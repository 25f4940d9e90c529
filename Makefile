# Reverie: two commands for a newcomer — `make quickstart` (the main job) and `make test`.
APT_PACKAGES := libopenblas-dev libdnnl-dev libhdf5-dev libpng-dev libjpeg-dev pkg-config openmpi-bin libopenmpi-dev iproute2 python3 chromium chromium-driver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# OpenBLAS workers otherwise spin for ~2^28 cycles after each GEMM, stealing cores from elementwise kernels.
export OPENBLAS_THREAD_TIMEOUT ?= 4

# Compiler flags live here, not in Package.swift (unsafeFlags would keep Reverie from being a versioned dependency).
# Haswell (AVX2 + FMA) makes SIMD `addingProduct` one FMA instead of a libm call per lane; REVERIE_TARGET_CPU=x86-64
# for older machines, `none` for no flag. The test build is optimised too: an -Onone tensor library makes the tests
# crawl, and they exercise the code the release binary runs.
REVERIE_TARGET_CPU ?= $(if $(filter x86_64,$(shell uname -m)),haswell,none)
CPU_FLAGS := $(if $(filter none,$(REVERIE_TARGET_CPU)),,-Xswiftc -target-cpu -Xswiftc $(REVERIE_TARGET_CPU))
DEBUG_FLAGS := -Xswiftc -O $(CPU_FLAGS)

LIBRARIES := ReverieCore ReverieNN ReverieIO ReverieData ReverieLanguage ReverieVision ReverieProjectors \
	ReverieDiffusion ReverieMultimodal ReverieRuntime ReverieTrain ReverieDistributed ReverieServe

.PHONY: deps build release test two-host browser-test fuzz fuzz-ci libfuzz lint format docs bench bench-compare \
	quickstart clean

## deps: install the system libraries (Debian/Ubuntu) if any is missing
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	swift build $(DEBUG_FLAGS)

release: deps
	swift build -c release $(CPU_FLAGS)

## test: the test suite (XCTest; a debug build compiled with -O)
test: deps
	swift test --disable-swift-testing $(DEBUG_FLAGS)

## two-host: after `make test`, two ranks in two network namespaces over TCP pass the data-parallel equivalence test
two-host: deps
	tools/two-host.sh $(DEBUG_FLAGS)

## browser-test: after `make test`, headless Chromium drives `reverie serve`'s page (draw, two edits, undo, branch)
browser-test: deps
	python3 tools/browser-test.py --reverie .build/debug/reverie --out .build/browser-test

## fuzz: malformed inputs of every family through every command of the release binary (about 2 min); 0 crashes
fuzz: release
	python3 tools/fuzz/fuzz.py --reverie .build/release/reverie --cases 1200

## libfuzz: coverage-guided, in process: every input reader (`reverie-fuzz`) under libFuzzer and AddressSanitizer for
## LIBFUZZ_SECONDS each; findings go to .build/libfuzz/artifacts (tools/fuzz/libfuzz.py). Not part of CI.
# libFuzzer's driver is linked without its main: SwiftPM's executables bring their own, and `-sanitize=fuzzer` would
# add a second.
LIBFUZZ_SECONDS ?= 60
FUZZ_RT = $(firstword $(wildcard $(dir $(realpath $(shell which swift)))../lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a))
libfuzz:
	swift build -c release --product reverie-fuzz --scratch-path .build/libfuzz -Xswiftc -sanitize=address \
		-Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp -Xswiftc -DREVERIE_LIBFUZZER \
		-Xlinker $(FUZZ_RT) -Xlinker -lstdc++
	python3 tools/fuzz/libfuzz.py --fuzzer .build/libfuzz/release/reverie-fuzz --seconds $(LIBFUZZ_SECONDS)

## fuzz-ci: a short deterministic slice on the test build (after `make test`)
fuzz-ci: deps
	python3 tools/fuzz/fuzz.py --reverie .build/debug/reverie --cases 200 --seed 7

## lint: the code follows .swift-format (swift-format ships with the Swift toolchain)
lint:
	swift format lint --strict --recursive Package.swift Sources Tests

## format: rewrite the code to .swift-format
format:
	swift format format --in-place --recursive Package.swift Sources Tests

## docs: DocC for every library target; a warning fails the build
docs:
	swift package generate-documentation $(foreach t,$(LIBRARIES),--target $(t)) --warnings-as-errors

## bench: release build, then the core benchmark against the sgemm ceiling
bench: release
	.build/release/reverie bench core

## bench-compare: release build, then Reverie and PyTorch eager (transformers, diffusers) taking turns on the core, llm
## and decoder workloads, same shapes and threads; prints PyTorch s / Reverie s per round (tools/bench/compare.py;
## BENCH_COMPARE_FLAGS="--rounds 5 --suites llm" to change). Not part of `make test` or CI. Needs a Python with torch,
## transformers and diffusers outside the repository: REVERIE_TORCH_PYTHON, by default the venv made by
##   python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install torch transformers diffusers
REVERIE_TORCH_PYTHON ?= /tmp/refvenv/bin/python
BENCH_COMPARE_FLAGS ?=
bench-compare: release
	python3 tools/bench/compare.py --reverie .build/release/reverie --python $(REVERIE_TORCH_PYTHON) $(BENCH_COMPARE_FLAGS)

## quickstart: release build, then every training stage, small (recipes/shapes/quickstart.yaml), the scores, and a
## caption, a drawing and an edit from the small model next to the shipped one
quickstart: deps
	swift build -c release --product reverie $(CPU_FLAGS)
	.build/release/reverie train recipes/shapes/quickstart.yaml $(if $(wildcard runs/quickstart/model.h5),--resume,)
	tools/quickstart-side-by-side.sh .build/release/reverie runs/quickstart/model.h5

clean:
	rm -rf .build
