# SPDX-License-Identifier: MIT
# Select (ferry/select.h) and the typed channels (ferry/typed.h): the tests
# that are not plain test programs. (The unit and torture programs,
# tests/unit/select.c, tests/unit/typed.c and tests/torture/select.c, are
# found like every other.)

# Select allocates nothing: malloc is interposed, so plain builds only.
if(FERRY_BUILD_TESTS AND FERRY_SANITIZE STREQUAL "")
  ferry_add_test_file(${PROJECT_SOURCE_DIR}/tests/alloc/select_alloc.c LABEL unit)
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
