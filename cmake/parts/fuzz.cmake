# SPDX-License-Identifier: MIT
# The channel API fuzzer (tests/fuzz/, see docs/testing.md): libFuzzer with
# AddressSanitizer and UBSan, so it is built with clang whatever compiler the
# rest of the build uses; only in release builds (the sanitizer builds bring
# their own runtimes, and one run per suite is enough). The test runs the
# corpus, then fuzzes for FERRY_FUZZ_SECONDS with a fixed seed.

set(FERRY_FUZZ_SECONDS 25 CACHE STRING "Seconds of fuzzing in torture.fuzz.chan, after the corpus")

if(FERRY_BUILD_TESTS AND FERRY_SANITIZE STREQUAL "" AND CMAKE_BUILD_TYPE STREQUAL "Release")
  find_program(FERRY_FUZZ_CLANG NAMES clang clang-14)
  set(fuzz_ok OFF)
  if(FERRY_FUZZ_CLANG)
    # Does this clang have the libFuzzer runtime (Debian: libclang-rt-14-dev)?
    set(probe ${PROJECT_BINARY_DIR}/fuzz/probe.c)
    file(WRITE ${probe} "#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n")
    execute_process(COMMAND ${FERRY_FUZZ_CLANG} -fsanitize=fuzzer,address,undefined ${probe}
                      -o ${PROJECT_BINARY_DIR}/fuzz/probe
                    RESULT_VARIABLE probe_rc OUTPUT_QUIET ERROR_QUIET)
    if(probe_rc EQUAL 0)
      set(fuzz_ok ON)
    endif()
  endif()
  if(fuzz_ok)
    set(dir ${PROJECT_SOURCE_DIR}/tests/fuzz)
    set(fuzz_srcs ${dir}/chan_fuzz.c ${dir}/chan_model.c)
    set(fuzz_bin ${PROJECT_BINARY_DIR}/fuzz/chan_fuzz)
    file(GLOB fuzz_private_headers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/*.h)
    # The library's sources are compiled into the fuzzer (with FERRY_DEBUG's
    # checks), so that libFuzzer sees their coverage.
    add_custom_command(OUTPUT ${fuzz_bin}
      COMMAND ${FERRY_FUZZ_CLANG} -std=c11 -g -O1 -Wall -Wextra -Werror
              -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
              -D_GNU_SOURCE -DFERRY_DEBUG=1
              -I${PROJECT_SOURCE_DIR}/include -I${PROJECT_BINARY_DIR}/include -I${PROJECT_SOURCE_DIR}/src
              ${FERRY_SOURCES} ${fuzz_srcs} -lpthread -o ${fuzz_bin}
      DEPENDS ${FERRY_SOURCES} ${fuzz_srcs} ${dir}/chan_model.h ${FERRY_HEADERS} ${fuzz_private_headers}
      COMMENT "Building the channel fuzzer with ${FERRY_FUZZ_CLANG} (libFuzzer, ASan, UBSan)"
      VERBATIM)
    add_custom_target(chan_fuzz ALL DEPENDS ${fuzz_bin})
    add_test(NAME torture.fuzz.chan
      COMMAND sh ${dir}/run.sh ${fuzz_bin} ${dir}/corpus ${PROJECT_BINARY_DIR}/fuzz ${FERRY_FUZZ_SECONDS})
    set_tests_properties(torture.fuzz.chan PROPERTIES LABELS "torture;fuzz" TIMEOUT 300
      PASS_REGULAR_EXPRESSION "chan_fuzz: PASS")
  else()
    message(STATUS "fuzz: no clang with libFuzzer (scripts/deps.sh test installs it), torture.fuzz.chan is not registered")
  endif()
endif()
