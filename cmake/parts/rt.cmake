# SPDX-License-Identifier: MIT
# Real-time toolkit: the LD_PRELOAD checker, its tests, the audio
# example and the rt benchmark.

option(FERRY_RTSAN "Make ferry_rt_enter/exit drive clang's RealtimeSanitizer (clang >= 19)" OFF)
set(FERRY_RTSAN_ACTIVE OFF)
if(FERRY_RTSAN)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang" OR CMAKE_C_COMPILER_VERSION VERSION_LESS 19)
    message(FATAL_ERROR "FERRY_RTSAN needs clang >= 19 (with libclang_rt.rtsan)")
  endif()
  set(FERRY_RTSAN_ACTIVE ON)
  target_compile_definitions(ferry_objects PRIVATE FERRY_RTSAN=1)
  # Programs linking libferry statically get the RTSan runtime: with
  # -fsanitize=realtime where the driver knows it (clang >= 20), else by
  # linking clang 19's runtime archive whole (its preinit entry runs
  # __rtsan_init). Shared-library users link the runtime into their program.
  include(CheckCSourceCompiles)
  set(CMAKE_REQUIRED_LINK_OPTIONS -fsanitize=realtime)
  check_c_source_compiles("int main(void) { return 0; }" FERRY_HAVE_FSANITIZE_REALTIME)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
  if(FERRY_HAVE_FSANITIZE_REALTIME)
    target_link_options(ferry_static INTERFACE -fsanitize=realtime)
  else()
    execute_process(COMMAND ${CMAKE_C_COMPILER} -print-resource-dir
      OUTPUT_VARIABLE rtsan_res OUTPUT_STRIP_TRAILING_WHITESPACE)
    find_file(FERRY_RTSAN_RUNTIME NAMES libclang_rt.rtsan-x86_64.a libclang_rt.rtsan.a
      PATHS ${rtsan_res}/lib/linux ${rtsan_res}/lib/x86_64-pc-linux-gnu ${rtsan_res}/lib/x86_64-unknown-linux-gnu
      NO_DEFAULT_PATH)
    if(NOT FERRY_RTSAN_RUNTIME)
      message(FATAL_ERROR "FERRY_RTSAN: libclang_rt.rtsan not found under ${rtsan_res}")
    endif()
    target_link_options(ferry_static INTERFACE
      -Wl,--whole-archive ${FERRY_RTSAN_RUNTIME} -Wl,--no-whole-archive)
    target_link_libraries(ferry_static INTERFACE ${CMAKE_DL_LIBS} m rt)
  endif()
endif()

# Interposers and static links do not mix with the sanitizers' runtimes.
if(FERRY_SANITIZE STREQUAL "")
  add_library(ferry_rtcheck SHARED ${PROJECT_SOURCE_DIR}/tools/rtcheck/rtcheck.c)
  set_target_properties(ferry_rtcheck PROPERTIES
    OUTPUT_NAME ferry-rtcheck PREFIX lib
    LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tools
    C_VISIBILITY_PRESET hidden)
  # How the tests preload it. LD_PRELOAD splits its list at spaces and
  # colons, with no way to quote one, so in a build tree whose path has
  # either the tests name the library relative to their working directory
  # (the build tree's top, where ctest runs them: a name with a slash is a
  # path from the current directory); elsewhere by its absolute path.
  if(PROJECT_BINARY_DIR MATCHES "[ \t:]")
    set(FERRY_RTCHECK_PRELOAD "tools/$<TARGET_FILE_NAME:ferry_rtcheck>")
  else()
    set(FERRY_RTCHECK_PRELOAD "$<TARGET_FILE:ferry_rtcheck>")
  endif()
  # -O1 at least, and frame pointers, for readable backtraces.
  target_compile_options(ferry_rtcheck PRIVATE -fno-omit-frame-pointer)
  target_link_libraries(ferry_rtcheck PRIVATE ${CMAKE_DL_LIBS})
  # Installed in a directory of its own (it is loaded by path, never linked,
  # so it has no SONAME and no place among the libraries in LIBDIR), with
  # the ferry-rtcheck command that preloads it: ferry-rtcheck(1).
  install(TARGETS ferry_rtcheck LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/ferry COMPONENT dev)
  # The command finds the checker relative to itself, so an installed tree
  # can be moved (and DESTDIR staging works); the build tree's copy finds
  # the build's checker beside it.
  file(RELATIVE_PATH FERRY_RTCHECK_LIB ${CMAKE_INSTALL_FULL_BINDIR}
       ${CMAKE_INSTALL_FULL_LIBDIR}/ferry/libferry-rtcheck.so)
  configure_file(${PROJECT_SOURCE_DIR}/tools/rtcheck/ferry-rtcheck.in
                 ${PROJECT_BINARY_DIR}/rtcheck-install/ferry-rtcheck @ONLY)
  install(PROGRAMS ${PROJECT_BINARY_DIR}/rtcheck-install/ferry-rtcheck DESTINATION ${CMAKE_INSTALL_BINDIR}
          COMPONENT dev)
  install(FILES ${PROJECT_SOURCE_DIR}/tools/rtcheck/ferry-rtcheck.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
          COMPONENT dev)
  set(FERRY_RTCHECK_LIB libferry-rtcheck.so)
  configure_file(${PROJECT_SOURCE_DIR}/tools/rtcheck/ferry-rtcheck.in
                 ${PROJECT_BINARY_DIR}/tools/ferry-rtcheck @ONLY
                 FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endif()

if(FERRY_BUILD_TESTS AND FERRY_SANITIZE STREQUAL "" AND NOT FERRY_RTSAN_ACTIVE)
  # The checker's own tests: each case of tools/rtcheck/rtcheck_test.c runs
  # with the checker preloaded. clean_* cases must run without a report;
  # death_* cases must be caught with the checker's message.
  set(src ${PROJECT_SOURCE_DIR}/tools/rtcheck/rtcheck_test.c)
  add_executable(rtcheck_test ${src} ${PROJECT_SOURCE_DIR}/tests/harness/test.c)
  target_include_directories(rtcheck_test PRIVATE ${PROJECT_SOURCE_DIR}/tests/harness)
  target_link_libraries(rtcheck_test PRIVATE ferry_static Threads::Threads ${CMAKE_DL_LIBS})
  # clean_dlclose_of_a_copy loads and unloads a second copy of libferry.
  target_compile_definitions(rtcheck_test PRIVATE
    "FERRY_TEST_LIBFERRY_SO=\"$<TARGET_FILE:ferry_shared>\"")
  add_dependencies(rtcheck_test ferry_rtcheck ferry_shared)
  ferry_add_test_cases(rtcheck_test PREFIX unit.rtcheck LABEL unit TIMEOUT 60 NO_TIMING_SERIAL
    ENV "LD_PRELOAD=${FERRY_RTCHECK_PRELOAD}")
  # The ferry-rtcheck command turns its options into the checker's
  # settings (ferry-rtcheck(1)).
  add_test(NAME unit.rtcheck.command_options
    COMMAND ${PROJECT_BINARY_DIR}/tools/ferry-rtcheck --warn --once-per-site --all-syscalls --
            sh -c "echo \"settings \$FERRY_RTCHECK,\$FERRY_RTCHECK_SITES,\$FERRY_RTCHECK_SYSCALLS\"")
  set_tests_properties(unit.rtcheck.command_options PROPERTIES LABELS unit TIMEOUT 60
    PASS_REGULAR_EXPRESSION "settings warn,once,all")
  # A program whose calls glibc's headers rename has each caught:
  # _FORTIFY_SOURCE's __printf_chk, __read_chk, ..., 64-bit offsets'
  # openat64, preadv64, ..., and on a 32-bit target (the m32 job) 64-bit
  # time's __nanosleep64, ... (tools/rtcheck/rtcheck_renamed.c, which sets
  # the first two itself; tests/build/rtcheck_flags.sh runs it too, under
  # more flags). Optimizing, which _FORTIFY_SOURCE needs, in every build.
  add_executable(rtcheck_renamed ${PROJECT_SOURCE_DIR}/tools/rtcheck/rtcheck_renamed.c)
  target_compile_options(rtcheck_renamed PRIVATE -O2)
  if(CMAKE_SIZEOF_VOID_P EQUAL 4)
    target_compile_definitions(rtcheck_renamed PRIVATE _TIME_BITS=64)
  endif()
  target_link_libraries(rtcheck_renamed PRIVATE Threads::Threads ${CMAKE_DL_LIBS} rt)   # rt: mq_* before glibc 2.34
  add_dependencies(rtcheck_renamed ferry_rtcheck)
  add_test(NAME unit.rtcheck.renamed_calls COMMAND rtcheck_renamed)
  set_tests_properties(unit.rtcheck.renamed_calls PROPERTIES LABELS unit TIMEOUT 60
    ENVIRONMENT "LD_PRELOAD=${FERRY_RTCHECK_PRELOAD}")
endif()

ferry_add_example(audio_sim SOURCES ${PROJECT_SOURCE_DIR}/examples/audio_sim.c LIBS m)
set(_audio_run ${PROJECT_SOURCE_DIR}/tests/harness/exit_in.sh "0 3" $<TARGET_FILE:example_audio_sim> 1)
if(FERRY_BUILD_EXAMPLES AND FERRY_BUILD_TESTS)
  # Its exit status says: 0 clean, 1 bookkeeping wrong, 3 underruns. An
  # underrun (the refill thread was kept off its CPU for a whole ring of
  # periods, 43 ms) says how the machine scheduled the run, not whether the
  # code is right: on a shared virtual machine the host can stall a CPU that
  # long. So the test passes on 0 and 3 (and prints the underruns); what it
  # holds the example to is the exact bookkeeping, and under the checker a
  # real-time section that never allocates, locks or sleeps. It runs alone,
  # so that the suite's own load does not starve the refill thread.
  # (_audio_run, above: the under_rtsan test below uses it too.)
  if(FERRY_SANITIZE STREQUAL "" AND NOT FERRY_RTSAN_ACTIVE)
    add_test(NAME unit.audio_sim.under_rtcheck COMMAND ${_audio_run})
    set_tests_properties(unit.audio_sim.under_rtcheck PROPERTIES LABELS unit TIMEOUT 60
      ENVIRONMENT "LD_PRELOAD=${FERRY_RTCHECK_PRELOAD}" RUN_SERIAL TRUE)
  else()
    add_test(NAME unit.audio_sim.plain COMMAND ${_audio_run})
    set_tests_properties(unit.audio_sim.plain PROPERTIES LABELS unit TIMEOUT 60 RUN_SERIAL TRUE)
  endif()
endif()

# bench/rt: ferry's ring against ck_ring (header-only) and Boost.Lockfree's
# spsc_queue (header-only, C++), plus llq and defer costs.
if(FERRY_BUILD_BENCH AND FERRY_SANITIZE STREQUAL "")
  find_path(FERRY_CK_INCLUDE ck_ring.h)
  find_path(FERRY_BOOST_INCLUDE boost/lockfree/spsc_queue.hpp)
  set(rt_sources ${PROJECT_SOURCE_DIR}/bench/rt.c)
  set(rt_defs)
  if(FERRY_CK_INCLUDE)
    list(APPEND rt_sources ${PROJECT_SOURCE_DIR}/bench/peers/rt_ck.c)
    list(APPEND rt_defs FERRY_BENCH_HAVE_CK=1)
  endif()
  if(FERRY_BOOST_INCLUDE AND FERRY_HAVE_CXX)
    list(APPEND rt_sources ${PROJECT_SOURCE_DIR}/bench/peers/rt_boost.cpp)
    list(APPEND rt_defs FERRY_BENCH_HAVE_BOOST=1)
  endif()
  ferry_add_bench(rt SOURCES ${rt_sources})
  if(TARGET bench_rt)
    target_compile_definitions(bench_rt PRIVATE ${rt_defs})
  endif()
endif()

# With FERRY_RTSAN: the example runs clean under RTSan, and RTSan sees a
# malloc inside a ferry_rt_enter/exit section.
if(FERRY_RTSAN_ACTIVE AND FERRY_BUILD_TESTS)
  add_executable(rtsan_probe ${PROJECT_SOURCE_DIR}/tools/rtcheck/rtsan_probe.c)
  target_link_libraries(rtsan_probe PRIVATE ferry_static)
  add_test(NAME unit.rtsan.catches_malloc COMMAND rtsan_probe)
  set_tests_properties(unit.rtsan.catches_malloc PROPERTIES LABELS unit TIMEOUT 60
    PASS_REGULAR_EXPRESSION "Real-time violation: .*malloc")
  if(FERRY_BUILD_EXAMPLES)
    add_test(NAME unit.audio_sim.under_rtsan COMMAND ${_audio_run})
    set_tests_properties(unit.audio_sim.under_rtsan PROPERTIES LABELS unit TIMEOUT 60 RUN_SERIAL TRUE
      FAIL_REGULAR_EXPRESSION "Real-time violation")
  endif()
endif()
