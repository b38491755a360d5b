# Channel: the zero-allocation test interposes malloc, which the sanitizers
# own, so it exists only in plain builds.
if(FERRY_BUILD_TESTS AND FERRY_SANITIZE STREQUAL "")
  ferry_add_test_file(${PROJECT_SOURCE_DIR}/tests/alloc/chan_alloc.c LABEL unit)
endif()
