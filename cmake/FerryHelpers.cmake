# Helpers shared by the test, benchmark and example parts of the build.

# ferry_add_test_file(<source> LABEL <unit|torture> [TIMEOUT <s>] [LIBS ...] [ENV ...])
#
# Builds one test program from <source> and registers one CTest test per case.
# Cases are found by scanning the source for FERRY_TEST(name) and
# FERRY_DEATH_TEST(name, "message") and FERRY_DEBUG_DEATH_TEST(name, "message")
# (registered only when FERRY_DEBUG is on); every case runs as its own process
# ("<program> <case>"). Death tests get the label "death" instead of <label>
# and are not registered in sanitizer builds (the sanitizers own abort()).
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
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${src})
  file(READ ${src} text)
  string(REGEX MATCHALL "FERRY_(DEBUG_DEATH_|DEATH_)?TEST\\(([A-Za-z0-9_]+)" cases "${text}")
  if(NOT cases)
    message(FATAL_ERROR "${src}: no FERRY_TEST or FERRY_DEATH_TEST cases")
  endif()
  foreach(c ${cases})
    string(REGEX REPLACE "FERRY_(DEBUG_DEATH_|DEATH_)?TEST\\(" "" name "${c}")
    set(label ${T_LABEL})
    if(c MATCHES "^FERRY_DEBUG_DEATH_TEST" AND NOT FERRY_DEBUG)
      continue()
    endif()
    if(c MATCHES "DEATH_TEST")
      set(label death)
      if(NOT FERRY_SANITIZE STREQUAL "")
        continue()
      endif()
    endif()
    add_test(NAME ${T_LABEL}.${base}.${name} COMMAND ${exe} ${name})
    set_tests_properties(${T_LABEL}.${base}.${name} PROPERTIES
      LABELS ${label} TIMEOUT ${T_TIMEOUT}
      ENVIRONMENT "FERRY_TEST_SCALE=${FERRY_TEST_SCALE};${T_ENV}")
    # Cases that measure time run alone, so that a loaded machine does not
    # make them miss their tolerance.
    if(name MATCHES "timed|timing|deadline|fair|latency")
      set_tests_properties(${T_LABEL}.${base}.${name} PROPERTIES RUN_SERIAL TRUE)
    endif()
  endforeach()
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
