# SPDX-License-Identifier: MIT
# A Debian package of everything `make install` installs (CPack's DEB
# generator): `make package` at the top, or `cmake --build BUILD --target
# package`. Whatever any part of the build installs (the ferry-dupes program
# and its manual page included) goes in; tests/package/deb.sh checks it.
# Only when ferry is the top-level project: CPack would take over a parent
# project's packaging.
if(NOT PROJECT_IS_TOP_LEVEL)
  return()
endif()

set(FERRY_PACKAGE_CONTACT "ferry maintainers <ferry@invalid>" CACHE STRING
  "Maintainer field of the Debian package (name <address>)")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ferry)
set(CPACK_PACKAGE_VENDOR "The ferry authors")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${FERRY_PACKAGE_CONTACT})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_RESOURCE_FILE_README ${PROJECT_SOURCE_DIR}/README.md)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)            # ferry_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)           # fast: the package is built by make test
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)            # Depends from dpkg-shlibdeps (libc6)
# Programs built on the library depend on this package (shlibs), and the
# dynamic linker's cache is refreshed by dpkg's ldconfig trigger: CPack's own
# GENERATE_SHLIBS would call ldconfig from postinst and postrm, which Debian
# policy rejects (lintian: lacks-ldconfig-trigger).
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/deb/shlibs
  CONTENT "libferry ${FERRY_SOVERSION} ferry (>= ${PROJECT_VERSION})\n")
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/deb/triggers CONTENT "activate-noawait ldconfig\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/deb/shlibs ${PROJECT_BINARY_DIR}/deb/triggers)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Compressed manual pages, usr/share/doc/ferry/copyright and changelog.gz
# (cmake/deb-staging.cmake, run on the staging tree).
set(CPACK_PRE_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/cmake/deb-staging.cmake)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR})
# The extended description (CPack puts the summary above it and indents it as
# Debian requires).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "ferry is a C11 library (libc and pthreads only) for moving work and memory
between threads: a batch channel (multi-producer, multi-consumer; bounded,
unbounded or rendezvous; blocking and async operations; priorities and weight
budgets), an intrusive list, a waiter list, a futex mutex and condition
variable, a real-time toolkit (SPSC ring, linked queue, deferred reclamation,
a real-time checker) and userspace RCU.
This package holds the shared and static library, the headers, pkg-config and
CMake files, manual pages, documentation and examples, and the programs.")
include(CPack)

# The package's contents, and a consumer built against it unpacked into a
# temporary root (plain builds only: the sanitizer builds' libraries need
# their runtimes).
if(FERRY_BUILD_TESTS AND FERRY_SANITIZE STREQUAL "")
  find_program(FERRY_DPKG_DEB dpkg-deb)
  find_program(FERRY_DPKG_SHLIBDEPS dpkg-shlibdeps)
  if(FERRY_DPKG_DEB AND FERRY_DPKG_SHLIBDEPS)
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
  else()
    message(STATUS "dpkg-deb or dpkg-shlibdeps not found (scripts/deps.sh test): the package test is not registered")
  endif()
endif()
