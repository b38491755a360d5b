# Thin wrapper over CMake/CTest; the real work is in scripts/.
#   make test   install what is missing, build, run the whole suite
#   make demo   the main job: the channel benchmark, quick mode, with its baseline
#   make bench  every benchmark, full size
#   make        release build only (build/release); installs nothing
# Only test and demo install missing Debian packages (scripts/deps.sh); a
# plain make uses what is there.
JOBS ?= $(shell nproc)

.PHONY: all release test demo bench install clean
all: release

release:
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
