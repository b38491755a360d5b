# SPDX-License-Identifier: MIT
# bench/chan: the channel benchmark. Static, release builds
# only (ferry_add_bench skips sanitizer builds). The moodycamel peer is built
# in when Debian's libconcurrentqueue-dev is installed, and skipped otherwise.
if(FERRY_BUILD_BENCH AND FERRY_SANITIZE STREQUAL "")
  find_path(FERRY_MOODYCAMEL_INCLUDE concurrentqueue/concurrentqueue.h)
  set(_chan_bench_sources ${PROJECT_SOURCE_DIR}/bench/chan.c ${PROJECT_SOURCE_DIR}/bench/chan_baseline.c)
  set(_chan_moodycamel OFF)
  if(FERRY_MOODYCAMEL_INCLUDE AND FERRY_HAVE_CXX)
    set(_chan_moodycamel ON)
    list(APPEND _chan_bench_sources ${PROJECT_SOURCE_DIR}/bench/peers/chan_moodycamel.cpp)
  else()
    message(STATUS "bench/chan: moodycamel peer skipped (needs C++ and libconcurrentqueue-dev)")
  endif()
  ferry_add_bench(chan SOURCES ${_chan_bench_sources})
  if(_chan_moodycamel)
    target_include_directories(bench_chan PRIVATE ${FERRY_MOODYCAMEL_INCLUDE})
    target_compile_definitions(bench_chan PRIVATE FERRY_BENCH_MOODYCAMEL=1)
    # The C++ runtime goes in statically too (the binary is -static).
    target_link_options(bench_chan PRIVATE -static-libstdc++ -static-libgcc)
  endif()
endif()
