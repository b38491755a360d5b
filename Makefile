# Thin wrapper over CMake/CTest; the real work is in scripts/.
#   make test   install what is missing, build, run the whole suite
#   make demo   the main job: ferry-dupes on /usr/share, a new index then the re-run from it
#   make bench  every benchmark, full size (ferry-dupes against its peers: bench/dupes.sh)
#   make        release build only (build/release)
JOBS ?= $(shell nproc)

.PHONY: all release test demo bench install clean
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

install: release
	cmake --install build/release

clean:
	rm -rf build
