# SPDX-License-Identifier: MIT
# Examples of the channel's async API: an epoll loop and a libuv
# loop driving ferry channels. Each example checks its own output, so the
# tests simply run them (also in the sanitizer builds: they are plain C, which
# gives the async path ASan and TSan coverage).

ferry_add_example(epoll_pipeline SOURCES ${PROJECT_SOURCE_DIR}/examples/epoll_pipeline.c)

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(UV QUIET IMPORTED_TARGET libuv)
endif()
if(UV_FOUND)
  ferry_add_example(uv_pipeline SOURCES ${PROJECT_SOURCE_DIR}/examples/uv_pipeline.c LIBS PkgConfig::UV)
elseif(FERRY_BUILD_EXAMPLES)
  message(STATUS "libuv not found through pkg-config (install libuv1-dev): "
                 "examples/uv_pipeline.c is not built or tested")
endif()

if(FERRY_BUILD_EXAMPLES AND FERRY_BUILD_TESTS)
  set(ferry_chan_examples epoll_pipeline)
  if(UV_FOUND)
    list(APPEND ferry_chan_examples uv_pipeline)
  endif()
  foreach(ex ${ferry_chan_examples})
    add_test(NAME example.${ex} COMMAND example_${ex})
    set_tests_properties(example.${ex} PROPERTIES LABELS unit TIMEOUT 60)
  endforeach()
endif()
