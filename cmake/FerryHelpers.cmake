# SPDX-License-Identifier: MIT
# Helpers shared by the test, benchmark and example parts of the build.

# ferry_add_test_file(<source> LABEL <unit|torture> [TIMEOUT <s>] [LIBS ...] [ENV ...])
#
# Builds one test program from <source> (with the harness, linked with
# libferry.a) and registers one CTest test per case, named
# <LABEL>.<file>.<case>, each run as its own process ("<program> <case>"),
# with FERRY_TEST_SCALE and ENV in its environment. Default timeouts: 60 s
# (unit), 600 s (torture). The cases come from the program itself (see
# ferry_add_test_cases).
function(ferry_add_test_file src)
  cmake_parse_arguments(T "" "LABEL;TIMEOUT" "LIBS;ENV" ${ARGN})
  if(NOT T_TIMEOUT)
    if(T_LABEL STREQUAL "torture")
      set(T_TIMEOUT 600)
    else()
      set(T_TIMEOUT 60)
    endif()
  endif()
  get_filename_component(base ${src} NAME_WE)
  set(exe ${T_LABEL}_${base})
  add_executable(${exe} ${src} ${PROJECT_SOURCE_DIR}/tests/harness/test.c)
  target_include_directories(${exe} PRIVATE ${PROJECT_SOURCE_DIR}/tests/harness ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${exe} PRIVATE ferry_static Threads::Threads ${T_LIBS})
  ferry_add_test_cases(${exe} PREFIX ${T_LABEL}.${base} LABEL ${T_LABEL} TIMEOUT ${T_TIMEOUT}
    ENV "FERRY_TEST_SCALE=${FERRY_TEST_SCALE};${T_ENV}")
endfunction()

# ferry_add_test_cases(<target> PREFIX <prefix> LABEL <label> TIMEOUT <s>
#                      [ENV ...] [NO_TIMING_SERIAL])
#
# Registers one CTest test per case of the harness program <target>, from
# the program's own "--list" output (tests/harness/test.h: "<case> <kind>"),
# which cmake/FerryTestCases.cmake reads right after each build of <target>.
# A new case therefore needs no build change, and what is registered is
# exactly what the program holds.
#   - plain cases: test <prefix>.<case>, label <label>;
#   - death and debug-death cases: label "death"; not registered in
#     sanitizer builds (the sanitizers own abort()). Debug-death cases exist
#     only in FERRY_DEBUG builds, so only those list them.
#   - cases whose name contains timed, timing, deadline, fair or latency run
#     alone (RUN_SERIAL), so that a loaded machine does not make them miss
#     their tolerance (unless NO_TIMING_SERIAL).
# Until <target> is built, a failing test <prefix>.NOT_BUILT stands in.
function(ferry_add_test_cases target)
  cmake_parse_arguments(T "NO_TIMING_SERIAL" "PREFIX;LABEL;TIMEOUT" "ENV" ${ARGN})
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/test_cases)
  set(spec ${dir}/${target}.spec.cmake)
  set(cases ${dir}/${target}.cases.cmake)
  set(include ${dir}/${target}.include.cmake)
  if(FERRY_SANITIZE STREQUAL "")
    set(skip_death OFF)
  else()
    set(skip_death ON)
  endif()
  if(T_NO_TIMING_SERIAL)
    set(serial OFF)
  else()
    set(serial ON)
  endif()
  file(GENERATE OUTPUT ${spec} CONTENT "set(EXE [==[$<TARGET_FILE:${target}>]==])
set(PREFIX [==[${T_PREFIX}]==])
set(LABEL [==[${T_LABEL}]==])
set(TIMEOUT [==[${T_TIMEOUT}]==])
set(ENV [==[${T_ENV}]==])
set(SKIP_DEATH ${skip_death})
set(TIMING_SERIAL ${serial})
")
  file(WRITE ${include} "if(EXISTS [==[${cases}]==])
  include([==[${cases}]==])
else()
  add_test([==[${T_PREFIX}.NOT_BUILT]==] [==[${target}-is-not-built]==])
  set_tests_properties([==[${T_PREFIX}.NOT_BUILT]==] PROPERTIES LABELS [==[${T_LABEL}]==])
endif()
")
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_COMMAND} -DSPEC=${spec} -DOUT=${cases}
            -P ${PROJECT_SOURCE_DIR}/cmake/FerryTestCases.cmake
    VERBATIM)
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${include})
endfunction()

# ferry_add_bench(<name> SOURCES ... [LIBS ...] [INCLUDES ...])
# Benchmarks are linked statically (-static) so that they can be carried to a
# machine without the toolchain. Not built in sanitizer builds.
function(ferry_add_bench name)
  cmake_parse_arguments(B "" "" "SOURCES;LIBS;INCLUDES" ${ARGN})
  if(NOT FERRY_BUILD_BENCH OR NOT FERRY_SANITIZE STREQUAL "")
    return()
  endif()
  add_executable(bench_${name} ${B_SOURCES})
  set_target_properties(bench_${name} PROPERTIES OUTPUT_NAME ${name}
    RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bench)
  target_include_directories(bench_${name} PRIVATE ${PROJECT_SOURCE_DIR}/bench ${PROJECT_SOURCE_DIR}/src ${B_INCLUDES})
  target_compile_options(bench_${name} PRIVATE -O2)
  target_link_libraries(bench_${name} PRIVATE ferry_static ${B_LIBS} Threads::Threads)
  target_link_options(bench_${name} PRIVATE -static)
endfunction()

# ferry_add_example(<name> SOURCES ... [LIBS ...])
function(ferry_add_example name)
  cmake_parse_arguments(E "" "" "SOURCES;LIBS" ${ARGN})
  if(NOT FERRY_BUILD_EXAMPLES)
    return()
  endif()
  add_executable(example_${name} ${E_SOURCES})
  set_target_properties(example_${name} PROPERTIES OUTPUT_NAME ${name}
    RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/examples)
  target_link_libraries(example_${name} PRIVATE ferry_static ${E_LIBS} Threads::Threads)
endfunction()
