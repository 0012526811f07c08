# Thin wrapper over CMake: `make`, `make test`, `make run`, `make bench`.
BUILD_DIR ?= build
ASAN_DIR  ?= build-asan
JOBS      ?= $(shell nproc)
# -g1 (line tables) keeps backtraces readable at a fraction of -g's compile
# time on Asio's coroutine-heavy code.
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG"
# ccache (installed by scripts/install-deps.sh) makes a rebuild of unchanged
# sources, in this clone or another clone on the same machine, a cache hit:
# paths are hashed relative to the clone and the build directory is ignored.
LAUNCHER   = $(if $(shell command -v ccache),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true

.PHONY: all deps configure build test test-asan test-fuzz run bench format clean install deb

all: build

# The Debian packages each goal needs (scripts/install-deps.sh profiles):
# a goal's value applies to the deps it depends on, so `make run` installs
# what cordon needs to build and run, `make test` adds the test peers.
DEPS ?= build
run: DEPS = run build
test test-fuzz bench: DEPS = test

deps:
	@./scripts/install-deps.sh $(DEPS)

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) $(LAUNCHER)

configure: $(BUILD_DIR)/CMakeCache.txt

build: deps configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Every test through CTest, then the unit tests again under ASan+UBSan, then
# a short run of every libFuzzer target over its committed corpus.
FUZZ_SECONDS ?= 5
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600
	$(MAKE) test-asan
	$(MAKE) test-fuzz

test-asan: deps
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O0 -g1" \
	  -DCORDON_SANITIZE=ON -DCORDON_UNIT_ONLY=ON $(LAUNCHER)
	cmake --build $(ASAN_DIR) -j $(JOBS)
	cd $(ASAN_DIR) && ctest --output-on-failure -j $(JOBS) -L unit --timeout 600

test-fuzz: deps
	./fuzz/run.sh $(FUZZ_SECONDS)

run: build
	./$(BUILD_DIR)/cordon run

bench: build
	./bench/run-all.sh $(BUILD_DIR)

# `make install [DESTDIR=...] [PREFIX=/usr/local]`: the binary, man pages
# (help2man), /etc/cordon/cordon.yaml (never overwritten), the systemd
# unit and the docs. `make deb`: build/cordon_VERSION_ARCH.deb. NO_BUILD=1
# takes the binary as built (the packaging test does).
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
install: $(if $(NO_BUILD),,build)
	BUILD_DIR=$(BUILD_DIR) DESTDIR=$(DESTDIR) PREFIX=$(PREFIX) SYSCONFDIR=$(SYSCONFDIR) \
	  ./scripts/install.sh

deb: $(if $(NO_BUILD),,build)
	BUILD_DIR=$(BUILD_DIR) ./scripts/make-deb.sh

format:
	find src tests bench fuzz -name '*.cpp' -o -name '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
