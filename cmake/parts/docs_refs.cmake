# SPDX-License-Identifier: MIT
# The docs' links, anchors, quoted section names and file paths resolve
# (tests/docs/references.sh; a second, no build needed).
if(FERRY_BUILD_TESTS)
  add_test(NAME unit.docs.references
    COMMAND ${PROJECT_SOURCE_DIR}/tests/docs/references.sh ${PROJECT_SOURCE_DIR})
  set_tests_properties(unit.docs.references PROPERTIES LABELS unit TIMEOUT 60)
endif()
