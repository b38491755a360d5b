# SPDX-License-Identifier: MIT
# bench/peers: the C and C++ binaries of the channel peer suite
# (scripts/bench-peers.sh; the Rust and Go ones come from bench/peers/build.sh):
#   chan_ferry       ferry's channel, bounded or unbounded
#   chan_ring        the pthread mutex + condvar ring (bench/chan_baseline.c)
#   chan_moodycamel  moodycamel::BlockingConcurrentQueue (when Debian's
#                    libconcurrentqueue-dev is installed; skipped otherwise)
#   handoff_probe    the round trip of a cache line between two CPUs: the
#                    machine state each result comes from (the runner runs it
#                    around every measurement)
#   select_ferry     ferry's select, for the select cases. HOOK (issue 14): built
#                    once bench/peers/select_ferry.c exists; until then the runner
#                    skips ferry's select cases.
# Static (they are carried to machines without the toolchain), release builds
# only, in <build>/bench-peers/ (not bench/: scripts/bench.sh runs everything
# there without arguments).
if(FERRY_BUILD_BENCH AND FERRY_SANITIZE STREQUAL "")
  function(ferry_add_peer name)
    add_executable(peer_${name} ${ARGN})
    set_target_properties(peer_${name} PROPERTIES OUTPUT_NAME ${name}
      RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bench-peers)
    target_include_directories(peer_${name} PRIVATE ${PROJECT_SOURCE_DIR}/bench ${PROJECT_SOURCE_DIR}/bench/peers)
    target_compile_options(peer_${name} PRIVATE -O2)
    target_link_libraries(peer_${name} PRIVATE ferry_static Threads::Threads)
    target_link_options(peer_${name} PRIVATE -static)
  endfunction()

  ferry_add_peer(chan_ferry ${PROJECT_SOURCE_DIR}/bench/peers/chan_ferry.c)
  ferry_add_peer(chan_ring ${PROJECT_SOURCE_DIR}/bench/peers/chan_ring.c ${PROJECT_SOURCE_DIR}/bench/chan_baseline.c)
  ferry_add_peer(handoff_probe ${PROJECT_SOURCE_DIR}/bench/peers/handoff_probe.c)
  set(_peer_targets peer_chan_ferry peer_chan_ring peer_handoff_probe)

  find_path(FERRY_MOODYCAMEL_INCLUDE concurrentqueue/blockingconcurrentqueue.h)
  if(FERRY_MOODYCAMEL_INCLUDE)
    ferry_add_peer(chan_moodycamel ${PROJECT_SOURCE_DIR}/bench/peers/chan_moodycamel.cpp)
    target_include_directories(peer_chan_moodycamel PRIVATE ${FERRY_MOODYCAMEL_INCLUDE})
    target_compile_definitions(peer_chan_moodycamel PRIVATE FERRY_PEER_MAIN=1)
    target_link_options(peer_chan_moodycamel PRIVATE -static-libstdc++ -static-libgcc)
    list(APPEND _peer_targets peer_chan_moodycamel)
  else()
    message(STATUS "bench/peers: chan_moodycamel skipped (install libconcurrentqueue-dev)")
  endif()

  # HOOK (issue 14): ferry's side of the select benchmark. Write
  # bench/peers/select_ferry.c with the contract of select_go / select_crossbeam
  # ("select_ferry K CAP N", RESULT line) and it is built and run.
  if(EXISTS ${PROJECT_SOURCE_DIR}/bench/peers/select_ferry.c)
    ferry_add_peer(select_ferry ${PROJECT_SOURCE_DIR}/bench/peers/select_ferry.c)
    list(APPEND _peer_targets peer_select_ferry)
  endif()

  # `cmake --build <dir> --target bench_peers` builds just these.
  add_custom_target(bench_peers DEPENDS ${_peer_targets})
endif()

# Smoke tests (label unit): each binary moves a few items in every shape and
# checks its count and sum, rejects bad arguments, and the runner produces its
# table from them (the Rust and Go binaries are not built here).
if(FERRY_BUILD_BENCH AND FERRY_BUILD_TESTS AND FERRY_SANITIZE STREQUAL "")
  foreach(p ${_peer_targets})
    string(REGEX REPLACE "^peer_" "" name ${p})
    if(name MATCHES "^(select_|handoff_probe)")
      continue()
    endif()
    foreach(shape "1 1 1 4096" "4 4 1 4096" "8 8 16 64" "4 1 256 unbounded" "1 1 256 1024")
      string(REPLACE " " "_" tag "${shape}")
      separate_arguments(args UNIX_COMMAND "${shape} 19200")
      add_test(NAME unit.peers.${name}.${tag} COMMAND ${p} ${args})
      set_tests_properties(unit.peers.${name}.${tag} PROPERTIES LABELS unit TIMEOUT 60
        PASS_REGULAR_EXPRESSION "^RESULT [0-9.]+ 19200\n$")
    endforeach()
    add_test(NAME unit.peers.${name}.bad_args COMMAND ${p} 1 1 0 4096 100)
    set_tests_properties(unit.peers.${name}.bad_args PROPERTIES LABELS unit WILL_FAIL TRUE)
    add_test(NAME unit.peers.${name}.bad_pin COMMAND ${p} 1 1 1 4096 100)
    set_tests_properties(unit.peers.${name}.bad_pin PROPERTIES LABELS unit WILL_FAIL TRUE
      ENVIRONMENT "PEER_PIN=bogus")
  endforeach()
  add_test(NAME unit.peers.runner
    COMMAND ${PROJECT_SOURCE_DIR}/scripts/bench-peers-run.sh ${PROJECT_BINARY_DIR}/bench-peers
            --rounds 2 --n 4000 --filter "^(spsc|mpmc8x8)-b(1|256)-" --out ${PROJECT_BINARY_DIR}/peers-runner-test)
  set_tests_properties(unit.peers.runner PROPERTIES LABELS unit TIMEOUT 120
    PASS_REGULAR_EXPRESSION "\\| mpmc8x8-b256-unbounded \\| [0-9.]+ \\([0-9.]+\\) \\|")
  # Pinned, beside a busy loop (tests/bench/peers_runner_busy.sh).
  add_test(NAME unit.peers.runner_pinned_busy
    COMMAND ${PROJECT_SOURCE_DIR}/tests/bench/peers_runner_busy.sh ${PROJECT_SOURCE_DIR}/scripts/bench-peers-run.sh
            ${PROJECT_BINARY_DIR}/bench-peers ${PROJECT_BINARY_DIR}/peers-runner-busy-test)
  set_tests_properties(unit.peers.runner_pinned_busy PROPERTIES LABELS unit TIMEOUT 120)
  # A chan_ferry from another revision (tests/bench/peers_at.sh).
  add_test(NAME unit.peers.build_at_revision
    COMMAND ${PROJECT_SOURCE_DIR}/tests/bench/peers_at.sh ${PROJECT_SOURCE_DIR}/scripts/bench-peers-at.sh
            ${PROJECT_BINARY_DIR}/peers-at-test)
  set_tests_properties(unit.peers.build_at_revision PROPERTIES LABELS unit TIMEOUT 300 SKIP_RETURN_CODE 77)
  add_test(NAME unit.peers.handoff_probe COMMAND peer_handoff_probe 5)
  set_tests_properties(unit.peers.handoff_probe PROPERTIES LABELS unit TIMEOUT 60
    PASS_REGULAR_EXPRESSION "^PROBE ([0-9]+\\.[0-9]|-)\n$")
  foreach(bad 0 10001 x 5x "")
    add_test(NAME unit.peers.handoff_probe_bad_ms_${bad} COMMAND peer_handoff_probe "${bad}")
    set_tests_properties(unit.peers.handoff_probe_bad_ms_${bad} PROPERTIES LABELS unit WILL_FAIL TRUE)
  endforeach()
  # The machine state around every run (tests/bench/peers_runner_probe.sh),
  # and the summary on a made-up raw.txt (tests/bench/peers_summary.sh).
  add_test(NAME unit.peers.runner_probe
    COMMAND ${PROJECT_SOURCE_DIR}/tests/bench/peers_runner_probe.sh ${PROJECT_SOURCE_DIR}/scripts/bench-peers-run.sh
            ${PROJECT_BINARY_DIR}/bench-peers ${PROJECT_BINARY_DIR}/peers-runner-probe-test)
  set_tests_properties(unit.peers.runner_probe PROPERTIES LABELS unit TIMEOUT 120)
  add_test(NAME unit.peers.summary
    COMMAND ${PROJECT_SOURCE_DIR}/tests/bench/peers_summary.sh ${PROJECT_SOURCE_DIR}/bench/peers/summary.awk
            ${PROJECT_BINARY_DIR}/peers-summary-test)
  set_tests_properties(unit.peers.summary PROPERTIES LABELS unit TIMEOUT 60)
  add_test(NAME unit.peers.runner_bad_pin
    COMMAND ${PROJECT_SOURCE_DIR}/scripts/bench-peers-run.sh ${PROJECT_BINARY_DIR}/bench-peers --pin bogus)
  set_tests_properties(unit.peers.runner_bad_pin PROPERTIES LABELS unit WILL_FAIL TRUE)
endif()
