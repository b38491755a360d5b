# SPDX-License-Identifier: MIT
# Channel: the zero-allocation test interposes malloc, which the sanitizers
# own, so it exists only in plain builds.
if(FERRY_BUILD_TESTS AND FERRY_SANITIZE STREQUAL "")
  ferry_add_test_file(${PROJECT_SOURCE_DIR}/tests/alloc/chan_alloc.c LABEL unit)
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

# models/chan_cancel.pml: the cancel / wake-round protocol of src/chan_op.c
# holds, and its two broken variants (the old whole-round wait, no wait)
# fail.
if(FERRY_BUILD_TESTS)
  find_program(FERRY_SPIN spin)
  if(FERRY_SPIN)
    add_test(NAME unit.chan_cancel_model_spin
      COMMAND sh ${PROJECT_SOURCE_DIR}/models/chan_cancel.sh ${FERRY_SPIN} ${CMAKE_C_COMPILER})
    set_tests_properties(unit.chan_cancel_model_spin PROPERTIES LABELS unit TIMEOUT 120
      PASS_REGULAR_EXPRESSION "PASS: cancel protocol holds; whole-round wait deadlocks; no wait breaks")
  else()
    message(STATUS "chan: spin not found, the cancel model check is not registered")
  endif()
endif()

# models/chan_lflist.pml: the lock-free block list of src/chan_lflist.h
# (claims, linking, entering, recycling, the pool) holds in four
# configurations, and its four broken variants fail. The model does not
# depend on the build: checked once, in the plain release build (~45 s).
if(FERRY_BUILD_TESTS AND FERRY_SPIN AND FERRY_SANITIZE STREQUAL "" AND NOT FERRY_DEBUG)
  add_test(NAME unit.chan_lflist_model_spin
    COMMAND sh ${PROJECT_SOURCE_DIR}/models/chan_lflist.sh ${FERRY_SPIN} ${CMAKE_C_COMPILER})
  set_tests_properties(unit.chan_lflist_model_spin PROPERTIES LABELS unit TIMEOUT 300
    PASS_REGULAR_EXPRESSION "PASS: block list holds")
endif()
