# SPDX-License-Identifier: MIT
# Run after each build of a test program (ferry_add_test_cases in
# FerryHelpers.cmake): writes the CTest registration of every case that
# "<program> --list" prints, as ctest reads it (add_test, set_tests_properties).
#   cmake -DSPEC=<target>.spec.cmake -DOUT=<target>.cases.cmake -P FerryTestCases.cmake
# SPEC sets EXE, PREFIX, LABEL, TIMEOUT, ENV, SKIP_DEATH and TIMING_SERIAL.
include(${SPEC})
execute_process(COMMAND ${EXE} --list
  OUTPUT_VARIABLE listing ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} --list failed (${rc}): ${err}")
endif()
string(REGEX MATCHALL "[^\n]+" lines "${listing}")
if(NOT lines)
  message(FATAL_ERROR "${EXE} --list: no test cases")
endif()

set(text "# Generated from `${EXE} --list` by cmake/FerryTestCases.cmake; do not edit.\n")
set(n 0)
foreach(line IN LISTS lines)
  if(NOT line MATCHES "^([A-Za-z0-9_]+) (plain|death|debug-death)$")
    message(FATAL_ERROR "${EXE} --list: unexpected line '${line}'")
  endif()
  set(name ${CMAKE_MATCH_1})
  set(kind ${CMAKE_MATCH_2})
  set(label ${LABEL})
  if(NOT kind STREQUAL "plain")
    if(SKIP_DEATH)
      continue()
    endif()
    set(label death)
  endif()
  set(test "${PREFIX}.${name}")
  string(APPEND text "add_test([==[${test}]==] [==[${EXE}]==] [==[${name}]==])\n")
  set(props "LABELS [==[${label}]==] TIMEOUT [==[${TIMEOUT}]==]")
  if(NOT ENV STREQUAL "")
    string(APPEND props " ENVIRONMENT [==[${ENV}]==]")
  endif()
  if(TIMING_SERIAL AND name MATCHES "timed|timing|deadline|fair|latency")
    string(APPEND props " RUN_SERIAL TRUE")
  endif()
  string(APPEND text "set_tests_properties([==[${test}]==] PROPERTIES ${props})\n")
  math(EXPR n "${n} + 1")
endforeach()
# Replace the file in one step: ctest may be reading it.
file(WRITE ${OUT}.tmp "${text}")
file(RENAME ${OUT}.tmp ${OUT})
