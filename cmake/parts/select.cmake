# SPDX-License-Identifier: MIT
# Select (ferry/select.h): the tests that are not plain test programs. (The
# unit and torture programs, tests/unit/select.c and tests/torture/select.c,
# are found like every other.)

# Select allocates nothing: malloc is interposed, so plain builds only.
if(FERRY_BUILD_TESTS AND FERRY_SANITIZE STREQUAL "")
  ferry_add_test_file(${PROJECT_SOURCE_DIR}/tests/alloc/select_alloc.c LABEL unit)
endif()

if(FERRY_BUILD_TESTS)
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
