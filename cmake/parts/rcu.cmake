# SPDX-License-Identifier: MIT
# RCU: extra test runs and the benchmark (its model: cmake/parts/models.cmake).

if(FERRY_BUILD_TESTS)
  # Re-run cases of a test program with an environment variable set:
  # fence mode (no membarrier: readers run full fences) and strict mode (one
  # grace period per callback, at once).
  function(ferry_rcu_rerun target label timeout tag env)
    if(NOT TARGET ${target})
      return()
    endif()
    string(REGEX REPLACE "^[a-z]+_" "" base ${target})
    foreach(c ${ARGN})
      add_test(NAME ${label}.${base}.${tag}.${c} COMMAND ${target} ${c})
      set_tests_properties(${label}.${base}.${tag}.${c} PROPERTIES LABELS ${label}
        TIMEOUT ${timeout} ENVIRONMENT "FERRY_TEST_SCALE=${FERRY_TEST_SCALE};${env}")
    endforeach()
  endfunction()
  ferry_rcu_rerun(torture_rcu torture 600 fences FERRY_RCU_NO_MEMBARRIER=1
    memb_call memb_synchronize)
  ferry_rcu_rerun(torture_rcu torture 600 strict FERRY_RCU_STRICT=1 memb_call qsbr_call)
  ferry_rcu_rerun(unit_rcu unit 60 fences FERRY_RCU_NO_MEMBARRIER=1
    call_runs_after_grace_period_in_order call_batches_callbacks
    poll_completes_without_synchronize synchronize_waits_for_reader membarrier_state_is_reported)
  ferry_rcu_rerun(unit_rcu unit 60 strict FERRY_RCU_STRICT=1
    call_runs_after_grace_period_in_order callback_may_requeue_its_head)
endif()

# tests/alloc/rcu_worker_alloc.c interposes malloc, which the sanitizers own:
# plain builds only.
if(FERRY_BUILD_TESTS AND FERRY_SANITIZE STREQUAL "")
  ferry_add_test_file(${PROJECT_SOURCE_DIR}/tests/alloc/rcu_worker_alloc.c LABEL unit)
endif()

# bench/rcu.c against liburcu (urcu-memb, urcu-qsbr, urcu-bp), linked
# statically.
if(FERRY_BUILD_BENCH AND FERRY_SANITIZE STREQUAL "")
  find_path(FERRY_URCU_INCLUDE urcu/urcu-memb.h)
  find_library(FERRY_URCU_MEMB NAMES liburcu-memb.a urcu-memb)
  find_library(FERRY_URCU_QSBR NAMES liburcu-qsbr.a urcu-qsbr)
  find_library(FERRY_URCU_BP NAMES liburcu-bp.a urcu-bp)
  find_library(FERRY_URCU_COMMON NAMES liburcu-common.a urcu-common)
  if(FERRY_URCU_INCLUDE AND FERRY_URCU_MEMB AND FERRY_URCU_QSBR AND FERRY_URCU_BP AND FERRY_URCU_COMMON)
    ferry_add_bench(rcu SOURCES ${PROJECT_SOURCE_DIR}/bench/rcu.c
      ${PROJECT_SOURCE_DIR}/bench/peers/rcu_liburcu_memb.c
      ${PROJECT_SOURCE_DIR}/bench/peers/rcu_liburcu_qsbr.c
      ${PROJECT_SOURCE_DIR}/bench/peers/rcu_liburcu_bp.c
      LIBS ${FERRY_URCU_MEMB} ${FERRY_URCU_QSBR} ${FERRY_URCU_BP} ${FERRY_URCU_COMMON}
      INCLUDES ${FERRY_URCU_INCLUDE})
  else()
    message(STATUS "rcu: liburcu not found (scripts/deps.sh bench), bench/rcu is built without it")
    ferry_add_bench(rcu SOURCES ${PROJECT_SOURCE_DIR}/bench/rcu.c)
    if(TARGET bench_rcu)
      target_compile_definitions(bench_rcu PRIVATE FERRY_BENCH_NO_URCU=1)
    endif()
  endif()
endif()
