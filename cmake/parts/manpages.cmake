# SPDX-License-Identifier: MIT
# Manual pages: scripts/manpages.pl turns the public headers' comments into
# one section-3 page per header (ferry_chan(3), ...) and one link page per
# function, macro and type name, at build time, so that a function added to a
# header gets its page without anything else to do. Installed to
# share/man/man3 (`man ferry_send` after make install).
find_package(Perl)
if(NOT PERL_FOUND)
  message(STATUS "perl not found: manual pages are not generated")
  return()
endif()

set(FERRY_MAN_DIR ${PROJECT_BINARY_DIR}/man)
set(_man_stamp ${FERRY_MAN_DIR}/man3.stamp)
add_custom_command(OUTPUT ${_man_stamp}
  COMMAND ${PERL_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/manpages.pl
          --out ${FERRY_MAN_DIR} --version ${PROJECT_VERSION} ${FERRY_HEADERS}
  COMMAND ${CMAKE_COMMAND} -E touch ${_man_stamp}
  DEPENDS ${PROJECT_SOURCE_DIR}/scripts/manpages.pl ${FERRY_HEADERS}
  COMMENT "Manual pages from the public headers"
  VERBATIM)
add_custom_target(ferry_manpages ALL DEPENDS ${_man_stamp})
install(DIRECTORY ${FERRY_MAN_DIR}/man3 DESTINATION ${CMAKE_INSTALL_MANDIR} COMPONENT dev
  FILES_MATCHING PATTERN "*.3")

# Every public function and macro is documented in its header, the pages
# format without errors, and the check itself catches an undocumented one.
if(FERRY_BUILD_TESTS)
  add_test(NAME unit.docs.manpages
    COMMAND ${PROJECT_SOURCE_DIR}/tests/docs/manpages.sh ${PERL_EXECUTABLE}
            ${PROJECT_SOURCE_DIR} ${FERRY_MAN_DIR} ${FERRY_HEADERS})
  set_tests_properties(unit.docs.manpages PROPERTIES LABELS unit TIMEOUT 60)
  # Each page's SYNOPSIS, read back from the page, is its header's word for
  # word and compiles against it (tests/docs/synopsis.sh).
  add_test(NAME unit.docs.synopsis
    COMMAND ${PROJECT_SOURCE_DIR}/tests/docs/synopsis.sh ${PERL_EXECUTABLE}
            ${PROJECT_SOURCE_DIR} ${FERRY_MAN_DIR} ${CMAKE_C_COMPILER} $<TARGET_FILE:ferry_shared>
            ${FERRY_HEADERS})
  set_tests_properties(unit.docs.synopsis PROPERTIES LABELS unit TIMEOUT 60)
endif()
