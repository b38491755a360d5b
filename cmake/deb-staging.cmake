# SPDX-License-Identifier: MIT
# CPack runs this on the Debian package's staging tree before it builds the
# package (CPACK_PRE_BUILD_SCRIPTS, set in cmake/parts/package.cmake): what
# Debian policy asks of a package and `make install` does not do.
#   - manual pages compressed (gzip -9n: no name or time in the header, so
#     the package is reproducible); a link page's ".so man3/ferry_chan.3"
#     still finds the compressed page;
#   - usr/share/doc/ferry/copyright (the license) and changelog.gz.
# Run by CPack, which passes the CPACK_* variables.
# The shared library's ldconfig trigger and shlibs file come from
# CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA instead of ldconfig in maintainer scripts.
set(root "${CPACK_TEMPORARY_DIRECTORY}${CPACK_PACKAGING_INSTALL_PREFIX}")
if(NOT IS_DIRECTORY "${root}/share")
  message(FATAL_ERROR "deb-staging.cmake: no staging tree at ${root}")
endif()
file(GLOB pages "${root}/share/man/man*/*.[1-8]")
if(pages)
  execute_process(COMMAND gzip -9nf ${pages} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "deb-staging.cmake: gzip of the manual pages failed")
  endif()
endif()
set(doc "${root}/share/doc/${CPACK_PACKAGE_NAME}")
file(COPY_FILE "${CPACK_RESOURCE_FILE_LICENSE}" "${doc}/copyright")
# A native package's changelog.gz is in Debian's changelog format: one
# entry for this version that points to the project's CHANGELOG.md (its date
# from SOURCE_DATE_EPOCH when that is set).
string(TIMESTAMP when "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(WRITE "${doc}/changelog" "${CPACK_PACKAGE_NAME} (${CPACK_PACKAGE_VERSION}) unstable; urgency=medium

  * Release ${CPACK_PACKAGE_VERSION}: see /usr/share/doc/${CPACK_PACKAGE_NAME}/CHANGELOG.md.

 -- ${CPACK_PACKAGE_CONTACT}  ${when}
")
execute_process(COMMAND gzip -9nf "${doc}/changelog" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "deb-staging.cmake: gzip of the changelog failed")
endif()
