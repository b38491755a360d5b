# SPDX-License-Identifier: MIT
# What others do with the source, checked (plain builds only: each builds the
# library again with this build's C compiler, gcc in the release build and
# clang in the debug one):
# - unit.build.subproject: ferry inside another CMake project
#   (add_subdirectory, FetchContent) leaves the parent's build type alone,
#   adds none of its tests or packaging, and its targets link (about 10 s);
# - unit.build.m32: the library for 32-bit x86 (i386) with -Werror, and a
#   program on it runs (about 15 s); skipped where gcc-multilib is missing;
# - unit.build.m32_time64: the same with a 64-bit time_t (_TIME_BITS=64), and
#   its futex and mutex deadline tests pass (about 10 s); skipped likewise;
# - unit.build.flags: the library with -Werror at -O0, with Debian's
#   hardening flags (_FORTIFY_SOURCE=3) and with LTO (about 8 s);
# - unit.build.reconfigure: scripts/test.sh's configure keeps its settings in
#   a build tree configured before with another compiler (configures only);
# - unit.build.build_testing: -DBUILD_TESTING=OFF, a distribution's recipe's
#   switch, leaves the tests out (configures only).
# - unit.build.test_trees: make test's jobs never configure build/release,
#   make's tree, whatever CC is exported (scripts/test.sh on stubs).
if(NOT FERRY_BUILD_TESTS OR NOT FERRY_SANITIZE STREQUAL "")
  return()
endif()
add_test(NAME unit.build.subproject
  COMMAND ${PROJECT_SOURCE_DIR}/tests/build/subproject.sh ${PROJECT_SOURCE_DIR} ${CMAKE_C_COMPILER})
add_test(NAME unit.build.m32
  COMMAND ${PROJECT_SOURCE_DIR}/tests/build/m32.sh ${PROJECT_SOURCE_DIR} ${CMAKE_C_COMPILER})
add_test(NAME unit.build.m32_time64
  COMMAND ${PROJECT_SOURCE_DIR}/tests/build/m32_time64.sh ${PROJECT_SOURCE_DIR} ${CMAKE_C_COMPILER})
add_test(NAME unit.build.flags
  COMMAND ${PROJECT_SOURCE_DIR}/tests/build/flags.sh ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR} ${CMAKE_C_COMPILER})
add_test(NAME unit.build.reconfigure
  COMMAND ${PROJECT_SOURCE_DIR}/tests/build/reconfigure.sh ${PROJECT_SOURCE_DIR} ${CMAKE_C_COMPILER})
add_test(NAME unit.build.build_testing
  COMMAND ${PROJECT_SOURCE_DIR}/tests/build/build_testing.sh ${PROJECT_SOURCE_DIR} ${CMAKE_C_COMPILER})
add_test(NAME unit.build.test_trees
  COMMAND ${PROJECT_SOURCE_DIR}/tests/build/test_trees.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(unit.build.subproject unit.build.m32 unit.build.m32_time64 unit.build.flags
  unit.build.reconfigure unit.build.build_testing unit.build.test_trees PROPERTIES LABELS unit TIMEOUT 300)
set_tests_properties(unit.build.m32 unit.build.m32_time64 PROPERTIES SKIP_RETURN_CODE 77)
