# SPDX-License-Identifier: MIT
# Debian packages of everything `make install` installs (CPack's DEB
# generator, one package per install component): `make package` at the top,
# or `cmake --build BUILD --target package`. Split as Debian splits a library:
#   libferry<SOVERSION>  (component runtime) the shared library and its SONAME
#                        link, with the shlibs file and the ldconfig trigger;
#   libferry-dev         (component dev) headers, libferry.so, libferry.a,
#                        pkg-config and CMake files, section-3 pages, docs and
#                        examples (share/doc/ferry), and the real-time checker
#                        (LIBDIR/ferry/libferry-rtcheck.so, ferry-rtcheck);
#   ferry-dupes          (component dupes) the program and its manual page.
# Every install() names its component; tests/package/deb.sh checks the
# packages and that together they hold what `cmake --install` installs.
# Only when ferry is the top-level project: CPack would take over a parent
# project's packaging.
if(NOT PROJECT_IS_TOP_LEVEL)
  return()
endif()

set(FERRY_PACKAGE_CONTACT "ferry maintainers <ferry@invalid>" CACHE STRING
  "Maintainer field of the Debian packages (name <address>)")

# The runtime package's name is the one Debian policy (8.1) derives from the
# SONAME libferry.so.0.2: the library's name and the SONAME's version,
# libferry0.2 (lintian: package-name-doesnt-match-sonames).
set(FERRY_DEB_RUNTIME libferry${FERRY_SOVERSION})

set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_PACKAGE_NAME ferry)
set(CPACK_PACKAGE_VENDOR "The ferry authors")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${FERRY_PACKAGE_CONTACT})
# CPack's own default, which its DEB generator does not put above a
# package's description: each package's synopsis is then the first line of
# its own description below.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_NAME} built using CMake")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_RESOURCE_FILE_README ${PROJECT_SOURCE_DIR}/README.md)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_FERRY_STRIP "${CMAKE_STRIP}")           # for cmake/deb-staging.cmake (libferry.a)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)            # NAME_VERSION_ARCH.deb, one per package
set(CPACK_DEBIAN_PACKAGE_SOURCE ferry)            # the three come from one source
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)           # fast: the packages are built by make test
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)            # Depends from dpkg-shlibdeps (libc6, ...)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR})
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Compressed manual pages, usr/share/doc/PACKAGE/copyright and changelog.gz
# in each package (cmake/deb-staging.cmake, run on the staging trees); no
# ldconfig in maintainer scripts (cmake/deb-post.cmake, run on the packages).
set(CPACK_PRE_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/cmake/deb-staging.cmake)
set(CPACK_POST_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/cmake/deb-post.cmake)

set(_ferry_what "ferry is a C11 library (libc and pthreads only) for moving work and memory
between threads: a batch channel (multi-producer, multi-consumer; bounded,
unbounded or rendezvous; blocking and async operations; priorities and weight
budgets), an intrusive list, a waiter list, a futex mutex and condition
variable, a real-time toolkit (SPSC ring, linked queue, deferred reclamation,
a real-time checker) and userspace RCU.")

# The shared library. Programs built on it depend on this package (the
# shlibs line, written here: CPack's GENERATE_SHLIBS stays off), and the
# dynamic linker's cache is refreshed by dpkg's ldconfig trigger, not by
# ldconfig in postinst and postrm, which Debian policy rejects (lintian:
# maintscript-calls-ldconfig): CPack adds those calls to any package with a
# shared object under usr/lib, and cmake/deb-post.cmake takes them out.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME ${FERRY_DEB_RUNTIME})
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/deb/shlibs
  CONTENT "libferry ${FERRY_SOVERSION} ${FERRY_DEB_RUNTIME} (>= ${PROJECT_VERSION})\n")
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/deb/triggers CONTENT "activate-noawait ldconfig\n")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/deb/shlibs ${PROJECT_BINARY_DIR}/deb/triggers)
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "move work and memory between threads - shared library
${_ferry_what}
This package holds the shared library.")

# Everything to build against the library, and the real-time checker (a
# development tool, loaded by path into a program under test).
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libferry-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "${FERRY_DEB_RUNTIME} (= ${PROJECT_VERSION})")
set(CPACK_DEBIAN_DEV_DESCRIPTION "move work and memory between threads - development files
${_ferry_what}
This package holds the headers, the static library, pkg-config and CMake
files, manual pages, documentation and examples, and the real-time checker
ferry-rtcheck.")

set(CPACK_DEBIAN_DUPES_PACKAGE_NAME ferry-dupes)
set(CPACK_DEBIAN_DUPES_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_DUPES_DESCRIPTION "parallel duplicate-file finder
ferry-dupes indexes every regular file under the directories it is given and
prints the groups of files with identical contents, largest files first.
Every stage is a thread pool joined to the next by ferry channels.")
include(CPack)

# The package's contents, and a consumer built against it unpacked into a
# temporary root (plain builds only: the sanitizer builds' libraries need
# their runtimes).
if(FERRY_BUILD_TESTS AND FERRY_SANITIZE STREQUAL "")
  find_program(FERRY_DPKG_DEB dpkg-deb)
  find_program(FERRY_DPKG_SHLIBDEPS dpkg-shlibdeps)
  # A 32-bit build on a 64-bit Debian (gcc -m32, tests/build/m32.sh) would
  # package i386 binaries as the host's architecture, and dpkg-shlibdeps
  # finds no package for their libc: the check needs a native build.
  set(_foreign_target OFF)
  if(FERRY_DPKG_DEB AND CMAKE_SIZEOF_VOID_P EQUAL 4)
    execute_process(COMMAND dpkg --print-architecture OUTPUT_VARIABLE _dpkg_arch
                    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(_dpkg_arch MATCHES "64|s390x")
      set(_foreign_target ON)
      message(STATUS "32-bit build on ${_dpkg_arch}: unit.package.deb is not registered (it needs a native build)")
    endif()
  endif()
  if(FERRY_DPKG_DEB AND FERRY_DPKG_SHLIBDEPS AND NOT _foreign_target)
    # The programs expected in the package (space-separated), each with its
    # section-1 page: ferry-rtcheck (this test exists only where the checker
    # is built), and ferry-dupes once apps/dupes is part of the tree.
    set(_expect_programs ferry-rtcheck)
    if(EXISTS ${PROJECT_SOURCE_DIR}/apps/dupes)
      string(APPEND _expect_programs " ferry-dupes")
    endif()
    add_test(NAME unit.package.deb
      COMMAND ${PROJECT_SOURCE_DIR}/tests/package/deb.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR}
              ${CMAKE_INSTALL_LIBDIR} ${FERRY_SOVERSION} "${_expect_programs}")
    set_tests_properties(unit.package.deb PROPERTIES LABELS unit TIMEOUT 300)
    # `make package` itself, hardened with Debian's flags (tests/package/make.sh):
    # a build of its own, so in the release build only.
    find_program(FERRY_DPKG_BUILDFLAGS dpkg-buildflags)
    if(CMAKE_BUILD_TYPE STREQUAL "Release" AND FERRY_DPKG_BUILDFLAGS)
      add_test(NAME unit.package.make COMMAND ${PROJECT_SOURCE_DIR}/tests/package/make.sh ${PROJECT_SOURCE_DIR})
      set_tests_properties(unit.package.make PROPERTIES LABELS unit TIMEOUT 300)
    endif()
  else()
    message(STATUS "dpkg-deb or dpkg-shlibdeps not found (scripts/deps.sh test): the package test is not registered")
  endif()
endif()
