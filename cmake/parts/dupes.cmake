# SPDX-License-Identifier: MIT
# ferry-dupes (apps/dupes/): the duplicate-file finder built on ferry's
# channels, its man page, and its tests (tests/dupes/). It needs SQLite,
# libxxhash and libb2 (scripts/deps.sh build installs them).

option(FERRY_BUILD_DUPES "Build ferry-dupes (needs libsqlite3-dev, libxxhash-dev, libb2-dev)"
       ${PROJECT_IS_TOP_LEVEL})

if(FERRY_BUILD_DUPES)
  find_path(FERRY_SQLITE_INCLUDE sqlite3.h)
  find_library(FERRY_SQLITE_LIB sqlite3)
  find_path(FERRY_XXHASH_INCLUDE xxhash.h)
  find_library(FERRY_XXHASH_LIB xxhash)
  find_path(FERRY_B2_INCLUDE blake2.h)
  find_library(FERRY_B2_LIB b2)
  if(FERRY_SQLITE_INCLUDE AND FERRY_SQLITE_LIB AND FERRY_XXHASH_INCLUDE AND FERRY_XXHASH_LIB
     AND FERRY_B2_INCLUDE AND FERRY_B2_LIB)
    set(FERRY_DUPES_OK ON)
  else()
    set(FERRY_DUPES_OK OFF)
    message(STATUS "ferry-dupes not built: install libsqlite3-dev libxxhash-dev libb2-dev "
                   "(scripts/deps.sh build)")
  endif()
endif()

if(FERRY_BUILD_DUPES AND FERRY_DUPES_OK)
  file(GLOB dupes_srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/apps/dupes/*.c)
  list(REMOVE_ITEM dupes_srcs ${PROJECT_SOURCE_DIR}/apps/dupes/main.c)
  set(dupes_libs ${FERRY_SQLITE_LIB} ${FERRY_XXHASH_LIB} ${FERRY_B2_LIB})
  set(dupes_defs FERRY_VERSION="${PROJECT_VERSION}")

  # Everything but main(), so that the unit tests link the same code.
  add_library(ferry_dupes_core STATIC ${dupes_srcs})
  target_include_directories(ferry_dupes_core PUBLIC ${PROJECT_SOURCE_DIR}/apps/dupes
    ${FERRY_SQLITE_INCLUDE} ${FERRY_XXHASH_INCLUDE} ${FERRY_B2_INCLUDE})
  target_compile_definitions(ferry_dupes_core PUBLIC ${dupes_defs})
  target_link_libraries(ferry_dupes_core PUBLIC ferry_static ${dupes_libs} Threads::Threads)

  add_executable(ferry-dupes ${PROJECT_SOURCE_DIR}/apps/dupes/main.c)
  target_link_libraries(ferry-dupes PRIVATE ferry_dupes_core)
  set_target_properties(ferry-dupes PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/apps)
  # The program's own Debian package (cmake/parts/package.cmake).
  install(TARGETS ferry-dupes RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT dupes)
  install(FILES ${PROJECT_SOURCE_DIR}/apps/dupes/ferry-dupes.1
          DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT dupes)

  if(FERRY_BUILD_TESTS)
    include(${PROJECT_SOURCE_DIR}/tests/dupes/tests.cmake)
  endif()
elseif(FERRY_BUILD_DUPES AND FERRY_BUILD_TESTS)
  # Loud, not silent: the suite must not pass without the program's tests.
  add_test(NAME unit.dupes.dependencies_missing
    COMMAND sh -c "echo 'ferry-dupes was not built: run scripts/deps.sh build (libsqlite3-dev libxxhash-dev libb2-dev)'; exit 1")
  set_tests_properties(unit.dupes.dependencies_missing PROPERTIES LABELS unit)
endif()
