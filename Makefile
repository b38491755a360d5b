# SPDX-License-Identifier: MIT
# Thin wrapper over CMake/CTest; the real work is in scripts/.
#   make              release build only (build/release); installs nothing
#   make test         install what is missing, build, run the whole suite
#                     (in trees of its own: build/test-release, build/debug, ...)
#   make demo         the main job: ferry-dupes on /usr/share, a new index then the re-run from it
#   make bench        every benchmark, full size (ferry-dupes against its peers: bench/dupes.sh)
#   make bench-peers  the channel against crossbeam, flume, Go, moodycamel and
#                     a mutex ring (ARGS="--quick" for a short run)
#   make install      install the release build (cmake --install build/release)
#                     under /usr/local, or PREFIX=DIR (prefix=DIR, the GNU name);
#                     DESTDIR=DIR stages it there; as root, then runs ldconfig
#   make uninstall    remove what make install installed (the list
#                     build/installed-files.txt)
#   make package      build the Debian packages (build/package/NAME_VERSION_ARCH.deb,
#                     or PACKAGE_DIR=DIR:
#                     libferry0.2, libferry-dev, ferry-dupes)
#   make abi-baseline store the ABI of this version as abi/libferry.abi (x86-64)
#                     and abi/libferry-i386.abi (gcc -m32)
# Only test, demo, bench, bench-peers and package install missing Debian
# packages (scripts/deps.sh); a plain make uses what is there.
JOBS ?= $(shell nproc)
PACKAGE_DIR ?= build/package
# make install PREFIX=DIR: the prefix is given at install time (ferry.pc and
# the CMake package find their place relative to themselves).
PREFIX ?= $(prefix)
# CC=... and CXX=... (on the command line or in the environment) choose the
# compilers, also where build/release was configured before with others:
# CMake alone keeps a tree's first compiler and ignores them (configure.sh
# keeps the other settings when CMake resets the cache for a new compiler).
# A compiler given with arguments (CC="gcc -m32") is passed as CMake's list
# "gcc;-m32", as CMake itself reads CC from the environment.
# build/release is make's alone (and make demo's, which takes CC alike):
# make test builds its release job with gcc in build/test-release. When it
# shared build/release, an exported CC (export CC=clang) made make and make
# test configure that tree in turn with two compilers, a full rebuild at
# every switch (tests/build/test_trees.sh).
given = $(filter-out default undefined,$(origin $(1)))
space := $(subst ,, )
compiler = -DCMAKE_$(1)_COMPILER="$(subst $(space),;,$(strip $($(2))))"
COMPILERS = $(if $(call given,CC),$(call compiler,C,CC)) $(if $(call given,CXX),$(call compiler,CXX,CXX))

.PHONY: all release test demo bench bench-peers install uninstall package abi-baseline clean
all: release

release:
	scripts/configure.sh . build/release -DCMAKE_BUILD_TYPE=Release $(COMPILERS) >/dev/null
	cmake --build build/release -j $(JOBS)

test:
	scripts/test.sh

demo:
	scripts/demo.sh

bench:
	scripts/bench.sh

bench-peers:
	scripts/bench-peers.sh $(ARGS)

# The loader finds a new shared library in /usr/local/lib only once ldconfig
# has rebuilt its cache (/usr/local/lib is not a default search directory):
# without this, a program linked with -lferry right after `sudo make install`
# fails to start. So a real install as root runs ldconfig; a staged one
# (DESTDIR) and the packages leave it to the package manager.
# make uninstall removes what the list build/installed-files.txt names
# (scripts/uninstall.sh: every make install adds to it).
install: release
	cmake --install build/release $(if $(PREFIX),--prefix "$(PREFIX)")
	scripts/uninstall.sh --record build/release/install_manifest.txt build/installed-files.txt
	@if [ -z "$${DESTDIR:-}" ] && [ "$$(id -u)" = 0 ]; then PATH="$$PATH:/sbin:/usr/sbin" ldconfig; fi

uninstall:
	scripts/uninstall.sh build/installed-files.txt

# Its own build tree without tests, benchmarks or examples: fast from a clean tree.
# Prefix /usr, so that the libraries go where Debian puts them
# (usr/lib/<multiarch triplet>, GNUInstallDirs); `make install` is unchanged.
# Built with Debian's own flags (dpkg-buildflags, hardening=+all: fortified
# functions, stack protector, RELRO and BIND_NOW), as a Debian build is.
package:
	scripts/deps.sh package
	eval "$$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)" && \
	cmake -S . -B "$(PACKAGE_DIR)" -DCMAKE_BUILD_TYPE=Release -DFERRY_BUILD_TESTS=OFF \
	  -DFERRY_BUILD_BENCH=OFF -DFERRY_BUILD_EXAMPLES=OFF -DCMAKE_INSTALL_PREFIX=/usr \
	  -DCMAKE_C_FLAGS="$$CPPFLAGS $$CFLAGS" -DCMAKE_EXE_LINKER_FLAGS="$$LDFLAGS" \
	  -DCMAKE_SHARED_LINKER_FLAGS="$$LDFLAGS" -DCMAKE_MODULE_LINKER_FLAGS="$$LDFLAGS" >/dev/null
	cmake --build "$(PACKAGE_DIR)" -j $(JOBS) --target package

abi-baseline:
	scripts/abi.sh baseline

clean:
	rm -rf build
