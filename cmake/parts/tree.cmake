# SPDX-License-Identifier: MIT
# Checks over the repository's files (docs/design.md, "License" and "The
# repository stands alone"): every file carries its SPDX line, and nothing
# cites documents outside the repository.
if(FERRY_BUILD_TESTS)
  add_test(NAME unit.tree.standalone
    COMMAND ${PROJECT_SOURCE_DIR}/tests/tree/standalone.sh ${PROJECT_SOURCE_DIR})
  add_test(NAME unit.tree.spdx
    COMMAND ${PROJECT_SOURCE_DIR}/tests/tree/spdx.sh ${PROJECT_SOURCE_DIR})
  set_tests_properties(unit.tree.standalone unit.tree.spdx PROPERTIES LABELS unit TIMEOUT 60)
endif()

# The version, written once in project(), agrees with every place that names
# it by hand (CHANGELOG.md, section-1 pages, README, docs) and with what the
# build generates from it (tests/docs/version.sh; a second).
if(FERRY_BUILD_TESTS)
  add_test(NAME unit.docs.version
    COMMAND ${PROJECT_SOURCE_DIR}/tests/docs/version.sh ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}
            ${PROJECT_VERSION} ${FERRY_SOVERSION})
  set_tests_properties(unit.docs.version PROPERTIES LABELS unit TIMEOUT 60)
endif()
