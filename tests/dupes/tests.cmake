# SPDX-License-Identifier: MIT
# Tests of ferry-dupes (included by cmake/parts/dupes.cmake), in every build:
# - unit.c: the C pieces (escaping, sizes, the hash table, paths), FERRY_TEST cases;
# - dupes_test.py, hostile_test.py, edges_test.py, torture_test.py: the program itself, one
#   CTest test per case_NAME, run on trees the test generates and checks
#   independently (exit 77: skipped).
ferry_add_test_file(${PROJECT_SOURCE_DIR}/tests/dupes/unit.c LABEL unit LIBS ferry_dupes_core)

find_package(Python3 COMPONENTS Interpreter)
# ferry_dupes_py_tests(<file> <label>): one CTest test <label>.dupes.NAME per
# "def case_NAME" in the file (run as `python3 FILE BINARY NAME`).
function(ferry_dupes_py_tests file label)
  set(py ${PROJECT_SOURCE_DIR}/tests/dupes/${file})
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${py})
  file(READ ${py} text)
  string(REGEX MATCHALL "\ndef case_([a-z0-9_]+)" cases "${text}")
  foreach(c ${cases})
    string(REGEX REPLACE "\ndef case_" "" name "${c}")
    if(Python3_Interpreter_FOUND)
      add_test(NAME ${label}.dupes.${name} COMMAND ${Python3_EXECUTABLE} ${py} $<TARGET_FILE:ferry-dupes> ${name})
    else()
      add_test(NAME ${label}.dupes.${name} COMMAND sh -c "echo 'python3 not found: scripts/deps.sh test'; exit 1")
    endif()
    set_tests_properties(${label}.dupes.${name} PROPERTIES LABELS ${label} TIMEOUT 300 SKIP_RETURN_CODE 77)
  endforeach()
endfunction()
# dupes_test.py: the promises of the issue and the man page; hostile_test.py:
# what a hostile user tries (bad arguments, races, signals, limits).
ferry_dupes_py_tests(dupes_test.py unit)
ferry_dupes_py_tests(hostile_test.py unit)
# edges_test.py: reads that block, the index's side files, late signals.
ferry_dupes_py_tests(edges_test.py unit)
# torture_test.py: the slow attacks (huge trees, deep trees, many files),
# only in the release and ASan builds (TSan would take minutes per case).
if(NOT FERRY_SANITIZE STREQUAL "thread")
  ferry_dupes_py_tests(torture_test.py torture)
endif()

# make install: the program and its man page (plain builds: the install
# test of the library runs there too).
if(FERRY_SANITIZE STREQUAL "")
  add_test(NAME unit.dupes.install COMMAND ${PROJECT_SOURCE_DIR}/tests/dupes/install.sh ${PROJECT_BINARY_DIR})
  set_tests_properties(unit.dupes.install PROPERTIES LABELS unit TIMEOUT 120)
endif()
