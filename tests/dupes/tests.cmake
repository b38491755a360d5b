# SPDX-License-Identifier: MIT
# Tests of ferry-dupes (included by cmake/parts/dupes.cmake), in every build:
# - unit.c: the C pieces (escaping, sizes, the hash table, paths), FERRY_TEST cases;
# - dupes_test.py: the program itself, one CTest test per case_NAME, run on
#   trees the test generates and checks independently (exit 77: skipped).
ferry_add_test_file(${PROJECT_SOURCE_DIR}/tests/dupes/unit.c LABEL unit LIBS ferry_dupes_core)

find_package(Python3 COMPONENTS Interpreter)
set(dupes_py ${PROJECT_SOURCE_DIR}/tests/dupes/dupes_test.py)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${dupes_py})
file(READ ${dupes_py} dupes_py_text)
string(REGEX MATCHALL "\ndef case_([a-z0-9_]+)" dupes_cases "${dupes_py_text}")
foreach(c ${dupes_cases})
  string(REGEX REPLACE "\ndef case_" "" name "${c}")
  if(Python3_Interpreter_FOUND)
    add_test(NAME unit.dupes.${name} COMMAND ${Python3_EXECUTABLE} ${dupes_py} $<TARGET_FILE:ferry-dupes> ${name})
  else()
    add_test(NAME unit.dupes.${name} COMMAND sh -c "echo 'python3 not found: scripts/deps.sh test'; exit 1")
  endif()
  set_tests_properties(unit.dupes.${name} PROPERTIES LABELS unit TIMEOUT 300 SKIP_RETURN_CODE 77)
endforeach()

# make install: the program and its man page (plain builds: the install
# test of the library runs there too).
if(FERRY_SANITIZE STREQUAL "")
  add_test(NAME unit.dupes.install COMMAND ${PROJECT_SOURCE_DIR}/tests/dupes/install.sh ${PROJECT_BINARY_DIR})
  set_tests_properties(unit.dupes.install PROPERTIES LABELS unit TIMEOUT 120)
endif()
