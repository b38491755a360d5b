# SPDX-License-Identifier: MIT
# ABI checks of libferry.so (docs/design.md, "ABI"):
# - unit.abi.exports: the library exports exactly what the public headers
#   declare, every symbol with the version node;
# - unit.abi.baseline: no incompatible change against abi/libferry.abi
#   (x86-64) or abi/libferry-i386.abi (i386) (abidiff from abigail-tools;
#   `scripts/abi.sh baseline` regenerates them);
# - unit.abi.selftest: that comparison does fail on an incompatible change;
# - unit.abi.static_names: libferry.a defines nothing outside ferry_ / ferry__;
# - unit.abi.tls_model: every thread-local of libferry.so is initial-exec.
if(NOT FERRY_BUILD_TESTS)
  return()
endif()

find_package(Perl)
if(PERL_FOUND)
  add_test(NAME unit.abi.exports
    COMMAND ${PROJECT_SOURCE_DIR}/tests/abi/exports.sh $<TARGET_FILE:ferry_shared>
            ${FERRY_VERSION_NODE} ${PERL_EXECUTABLE} ${PROJECT_SOURCE_DIR} ${FERRY_HEADERS})
  set_tests_properties(unit.abi.exports PROPERTIES LABELS unit TIMEOUT 60)
endif()

# (Not in the sanitizer builds: their instrumentation defines symbols of its own.)
if(FERRY_SANITIZE STREQUAL "")
  add_test(NAME unit.abi.static_names
    COMMAND ${PROJECT_SOURCE_DIR}/tests/abi/static_names.sh $<TARGET_FILE:ferry_static> ${CMAKE_C_COMPILER})
  set_tests_properties(unit.abi.static_names PROPERTIES LABELS unit TIMEOUT 60)
  add_test(NAME unit.abi.tls_model
    COMMAND ${PROJECT_SOURCE_DIR}/tests/abi/tls_model.sh $<TARGET_FILE:ferry_shared> ${CMAKE_C_COMPILER}
            "${CMAKE_C_FLAGS}")
  set_tests_properties(unit.abi.tls_model PROPERTIES LABELS unit TIMEOUT 60)
endif()

# The baseline comes from a plain (non-sanitizer) build; the types are the
# same with gcc or clang, FERRY_DEBUG on or off.
find_program(FERRY_ABIDIFF abidiff)
find_program(FERRY_ABIDW abidw)
# abi/libferry.abi is the ABI of the x86-64 (LP64) library, and
# abi/libferry-i386.abi that of 32-bit x86 (-m32): the types have other
# sizes there. abi.sh picks one by the library's ELF header; other
# architectures have none, and the comparison is not registered there.
include(CheckCSourceCompiles)
check_c_source_compiles("#if !defined(__x86_64__) && !defined(__i386__)
#error no baseline
#endif
int main(void) { return 0; }" FERRY_ABI_HAS_BASELINE)
if(FERRY_SANITIZE STREQUAL "" AND NOT FERRY_ABI_HAS_BASELINE)
  message(STATUS "no ABI baseline for this architecture (x86-64 and i386 have one): the check is not registered")
elseif(FERRY_SANITIZE STREQUAL "")
  if(FERRY_ABIDIFF AND FERRY_ABIDW)
    add_test(NAME unit.abi.baseline
      COMMAND ${PROJECT_SOURCE_DIR}/scripts/abi.sh check $<TARGET_FILE:ferry_shared>
              ${PROJECT_BINARY_DIR}/include/ferry)
    add_test(NAME unit.abi.selftest COMMAND ${PROJECT_SOURCE_DIR}/scripts/abi.sh selftest)
    set_tests_properties(unit.abi.baseline unit.abi.selftest PROPERTIES LABELS unit TIMEOUT 120)
  else()
    message(STATUS "abigail-tools not found (scripts/deps.sh test): the ABI check is not registered")
  endif()
endif()
