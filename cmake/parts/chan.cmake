# SPDX-License-Identifier: MIT
# Channel: the zero-allocation and allocation-failure tests interpose
# malloc, which the sanitizers own, so they exist only in plain builds.
if(FERRY_BUILD_TESTS AND FERRY_SANITIZE STREQUAL "")
  ferry_add_test_file(${PROJECT_SOURCE_DIR}/tests/alloc/chan_alloc.c LABEL unit)
  ferry_add_test_file(${PROJECT_SOURCE_DIR}/tests/alloc/chan_alloc_fail.c LABEL unit)
endif()

# The worked example of docs/chan.md: a directory walker bounded by the bytes
# of pending paths (here 4 KiB, so that the budget binds), urgent folders at a
# higher level. It checks itself.
ferry_add_example(dir_walker SOURCES ${PROJECT_SOURCE_DIR}/examples/dir_walker.c)
if(FERRY_BUILD_TESTS AND FERRY_BUILD_EXAMPLES)
  add_test(NAME unit.examples.dir_walker
    COMMAND example_dir_walker --budget 4096 /usr/include/linux /usr/include/linux/netfilter)
  set_tests_properties(unit.examples.dir_walker PROPERTIES LABELS unit TIMEOUT 120)
endif()

# models/chan_lflist.pml: the lock-free block list of src/chan_lflist.h
# (claims, linking, entering, recycling, the pool) holds in four
# configurations, and its four broken variants fail. Its own runner
# (models/chan_lflist.sh: pan built -O2 with COLLAPSE, deeper search than
# models/verify.sh's), checked once per suite like the models of
# cmake/parts/models.cmake: in release builds (~45 s).
find_program(FERRY_SPIN spin)
if(FERRY_BUILD_TESTS AND FERRY_SPIN AND FERRY_SANITIZE STREQUAL "" AND CMAKE_BUILD_TYPE STREQUAL "Release")
  add_test(NAME unit.model.chan_lflist
    COMMAND sh ${PROJECT_SOURCE_DIR}/models/chan_lflist.sh ${FERRY_SPIN} ${CMAKE_C_COMPILER})
  set_tests_properties(unit.model.chan_lflist PROPERTIES LABELS unit TIMEOUT 300
    PASS_REGULAR_EXPRESSION "PASS: block list holds")
endif()
