# SPDX-License-Identifier: MIT
# RCU hash table (ferry_lfht): the allocation-failure test and the benchmark
# against liburcu's cds_lfht.

# tests/alloc/rcuhash_alloc.c interposes malloc, which the sanitizers own:
# plain builds only.
if(FERRY_BUILD_TESTS AND FERRY_SANITIZE STREQUAL "")
  ferry_add_test_file(${PROJECT_SOURCE_DIR}/tests/alloc/rcuhash_alloc.c LABEL unit)
endif()

# bench/rcuhash.c against liburcu's cds_lfht (urcu-memb), linked statically.
if(FERRY_BUILD_BENCH AND FERRY_SANITIZE STREQUAL "")
  find_path(FERRY_URCU_LFHT_INCLUDE urcu/rculfhash.h)
  find_library(FERRY_URCU_CDS NAMES liburcu-cds.a urcu-cds)
  find_library(FERRY_URCU_MEMB_LIB NAMES liburcu-memb.a urcu-memb)
  find_library(FERRY_URCU_COMMON_LIB NAMES liburcu-common.a urcu-common)
  if(FERRY_URCU_LFHT_INCLUDE AND FERRY_URCU_CDS AND FERRY_URCU_MEMB_LIB AND FERRY_URCU_COMMON_LIB)
    ferry_add_bench(rcuhash SOURCES ${PROJECT_SOURCE_DIR}/bench/rcuhash.c
      ${PROJECT_SOURCE_DIR}/bench/peers/rcuhash_liburcu.c
      LIBS ${FERRY_URCU_CDS} ${FERRY_URCU_MEMB_LIB} ${FERRY_URCU_COMMON_LIB}
      INCLUDES ${FERRY_URCU_LFHT_INCLUDE})
  else()
    message(STATUS "rcuhash: liburcu not found (scripts/deps.sh bench), bench/rcuhash is built without it")
    ferry_add_bench(rcuhash SOURCES ${PROJECT_SOURCE_DIR}/bench/rcuhash.c)
    if(TARGET bench_rcuhash)
      target_compile_definitions(bench_rcuhash PRIVATE FERRY_BENCH_NO_URCU=1)
    endif()
  endif()
endif()
