# Thin wrapper over CMake/CTest; the real work is in scripts/.
#   make test   install what is missing, build, run the whole suite
#   make demo   the main job: the channel benchmark, quick mode, with its baseline
#   make bench  every benchmark, full size
#   make bench-peers   the channel against crossbeam, flume, Go, moodycamel and
#                      a mutex ring (ARGS="--quick" for a short run)
#   make        release build only (build/release)
JOBS ?= $(shell nproc)

.PHONY: all release test demo bench bench-peers install clean
all: release

release:
	scripts/deps.sh build
	cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build/release -j $(JOBS)

test:
	scripts/test.sh

demo:
	scripts/demo.sh

bench:
	scripts/bench.sh

bench-peers:
	scripts/bench-peers.sh $(ARGS)

install: release
	cmake --install build/release

clean:
	rm -rf build
