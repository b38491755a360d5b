# SPDX-License-Identifier: MIT
# Select (ferry/select.h) and the channel conveniences (ferry/typed.h,
# ferry/deadline.h): the tests that are not plain test programs. (The unit
# and torture programs, tests/unit/select.c, tests/unit/typed.c and
# tests/torture/select.c, are found like every other.)

# Select allocates nothing: malloc is interposed, so plain builds only.
if(FERRY_BUILD_TESTS AND FERRY_SANITIZE STREQUAL "")
  ferry_add_test_file(${PROJECT_SOURCE_DIR}/tests/alloc/select_alloc.c LABEL unit)
endif()

# The worked example of docs/chan.md, "Select": a worker taking jobs from a
# high- and a low-priority channel until a quit channel closes. It checks
# itself (also in the sanitizer builds).
ferry_add_example(select_worker SOURCES ${PROJECT_SOURCE_DIR}/examples/select_worker.c)
if(FERRY_BUILD_TESTS AND FERRY_BUILD_EXAMPLES)
  add_test(NAME example.select_worker COMMAND example_select_worker)
  set_tests_properties(example.select_worker PROPERTIES LABELS unit TIMEOUT 60
    PASS_REGULAR_EXPRESSION "stopped by quit: ok")
endif()

if(FERRY_BUILD_TESTS)
  # FERRY_CHAN_TYPED rejects the wrong item type at compile time.
  add_test(NAME unit.typed.compile_fail
    COMMAND ${PROJECT_SOURCE_DIR}/tests/typed/compile_fail.sh ${CMAKE_C_COMPILER}
            ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  set_tests_properties(unit.typed.compile_fail PROPERTIES LABELS unit TIMEOUT 60
    PASS_REGULAR_EXPRESSION "6 misuses do not: ok; ferry/chan.h stands alone")

  # models/chan_select.pml and chan_select_pair.pml: the claim protocol
  # holds, two selects across each other pair, and the broken variants fail.
  find_program(FERRY_SPIN spin)
  if(FERRY_SPIN)
    add_test(NAME unit.chan_select_model_spin
      COMMAND sh ${PROJECT_SOURCE_DIR}/models/chan_select.sh ${FERRY_SPIN} ${CMAKE_C_COMPILER})
    set_tests_properties(unit.chan_select_model_spin PROPERTIES LABELS unit TIMEOUT 120
      PASS_REGULAR_EXPRESSION "PASS: claim protocol holds")
  else()
    message(STATUS "select: spin not found, the claim model check is not registered")
  endif()
endif()

# bench/peers/select_ferry (the select cases of scripts/bench-peers-run.sh):
# smoke tests, as cmake/parts/chan_peers.cmake has for the channel peers --
# each shape moves 19200 items with its count and sum checked.
if(FERRY_BUILD_BENCH AND FERRY_BUILD_TESTS AND FERRY_SANITIZE STREQUAL "" AND TARGET peer_select_ferry)
  foreach(shape "2 4096" "8 4096" "8 1" "3 unbounded" "1 1")
    string(REPLACE " " "_" tag "${shape}")
    separate_arguments(args UNIX_COMMAND "${shape} 19200")
    add_test(NAME unit.peers.select_ferry.${tag} COMMAND peer_select_ferry ${args})
    set_tests_properties(unit.peers.select_ferry.${tag} PROPERTIES LABELS unit TIMEOUT 60
      PASS_REGULAR_EXPRESSION "^RESULT [0-9.]+ 19200\n$")
  endforeach()
  add_test(NAME unit.peers.select_ferry.bad_args COMMAND peer_select_ferry 0 4096 100)
  set_tests_properties(unit.peers.select_ferry.bad_args PROPERTIES LABELS unit WILL_FAIL TRUE)
endif()
