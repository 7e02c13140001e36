# The two commands of the quick start. Everything else is plain CMake underneath.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
ARGS ?=

.PHONY: run test build deps test-deps configure bench clean format

run: deps build
	$(BUILD_DIR)/app/siterelay $(ARGS)

test: test-deps build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600 -j $(JOBS)

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

configure:
	@if [ ! -f $(BUILD_DIR)/build.ninja ]; then \
		cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE); \
	fi

deps:
	@scripts/install-deps.sh

test-deps:
	@scripts/install-deps.sh --test

bench:
	bench/ingest/run.sh

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD_DIR)
