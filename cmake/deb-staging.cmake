# SPDX-License-Identifier: MIT
# CPack runs this on the Debian packages' staging trees before it builds the
# packages (CPACK_PRE_BUILD_SCRIPTS, set in cmake/parts/package.cmake): what
# Debian policy asks of a package and `make install` does not do.
#   - manual pages compressed (gzip -9n: no name or time in the header, so
#     the package is reproducible); a link page's ".so man3/ferry_chan.3"
#     still finds the compressed page;
#   - usr/share/doc/PACKAGE/copyright (the license) and changelog.gz in each
#     package;
#   - objects stripped as dh_strip strips them (CPACK_STRIP_FILES strips only
#     programs and shared objects, and leaves .comment): libferry.a without
#     debug information (its symbols kept, to link with), and no .comment or
#     .note section anywhere;
#   - every directory 0755, copyright and changelog.gz 0644, whatever the
#     umask CPack ran under (it makes usr/ itself with it) and the mode of
#     the source's LICENSE (0444 in a read-only source tree).
# Run by CPack, which passes the CPACK_* variables. With one package per
# component (CPACK_DEB_COMPONENT_INSTALL) each component has its own tree,
# CPACK_TEMPORARY_DIRECTORY/COMPONENT/usr/..., and its package name in
# CPACK_DEBIAN_<COMPONENT>_PACKAGE_NAME; without components the one tree is
# CPACK_TEMPORARY_DIRECTORY/usr/....
# The shared library's ldconfig trigger and shlibs file come from
# CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA instead of ldconfig in
# maintainer scripts.
function(ferry_deb_strip root)
  set(strip "${CPACK_FERRY_STRIP}")
  if(NOT strip)
    find_program(strip strip REQUIRED)
  endif()
  file(GLOB_RECURSE files "${root}/*")
  foreach(f ${files})
    if(IS_SYMLINK "${f}")
      continue()
    endif()
    file(READ "${f}" magic LIMIT 4 HEX)
    if(magic STREQUAL "213c6172")        # "!<ar": a static library
      set(how --strip-debug --enable-deterministic-archives)
    elseif(magic STREQUAL "7f454c46")    # ELF: CPack has stripped it already
      set(how)
    else()
      continue()
    endif()
    execute_process(COMMAND "${strip}" ${how} --remove-section=.comment --remove-section=.note "${f}"
      RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "deb-staging.cmake: ${strip} ${f} failed")
    endif()
  endforeach()
endfunction()

function(ferry_deb_stage root package)
  if(NOT IS_DIRECTORY "${root}")
    message(FATAL_ERROR "deb-staging.cmake: no staging tree at ${root}")
  endif()
  file(GLOB pages "${root}/share/man/man*/*.[1-8]")
  if(pages)
    execute_process(COMMAND gzip -9nf ${pages} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "deb-staging.cmake: gzip of the manual pages failed")
    endif()
  endif()
  if(CPACK_STRIP_FILES)
    ferry_deb_strip("${root}")
  endif()
  set(doc "${root}/share/doc/${package}")
  file(MAKE_DIRECTORY "${doc}")
  file(COPY_FILE "${CPACK_RESOURCE_FILE_LICENSE}" "${doc}/copyright")
  # A native package's changelog.gz is in Debian's changelog format: one
  # entry for this version of the source package (ferry) that points to the
  # project's CHANGELOG.md, which the development package installs (its
  # date from SOURCE_DATE_EPOCH when that is set).
  string(TIMESTAMP when "%a, %d %b %Y %H:%M:%S +0000" UTC)
  file(WRITE "${doc}/changelog" "${CPACK_DEBIAN_PACKAGE_SOURCE} (${CPACK_PACKAGE_VERSION}) unstable; urgency=medium

  * Release ${CPACK_PACKAGE_VERSION}: see /usr/share/doc/ferry/CHANGELOG.md (libferry-dev).

 -- ${CPACK_PACKAGE_CONTACT}  ${when}
")
  execute_process(COMMAND gzip -9nf "${doc}/changelog" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "deb-staging.cmake: gzip of the changelog failed")
  endif()
  file(CHMOD "${doc}/copyright" "${doc}/changelog.gz"
    PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  # The staging tree is CPack's, made for this package: all of it is ours.
  file(GLOB_RECURSE dirs LIST_DIRECTORIES true "${root}/*")
  foreach(d "${root}" ${dirs})
    if(IS_DIRECTORY "${d}" AND NOT IS_SYMLINK "${d}")
      file(CHMOD "${d}" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
           WORLD_READ WORLD_EXECUTE)
    endif()
  endforeach()
endfunction()

if(CPACK_DEB_COMPONENT_INSTALL)
  if(NOT CPACK_COMPONENTS_ALL)
    message(FATAL_ERROR "deb-staging.cmake: components asked for, none listed (CPACK_COMPONENTS_ALL)")
  endif()
  foreach(component IN LISTS CPACK_COMPONENTS_ALL)
    string(TOUPPER "${component}" upper)
    set(package "${CPACK_DEBIAN_${upper}_PACKAGE_NAME}")
    if(package STREQUAL "")
      message(FATAL_ERROR "deb-staging.cmake: component ${component} has no package name (CPACK_DEBIAN_${upper}_PACKAGE_NAME)")
    endif()
    ferry_deb_stage("${CPACK_TEMPORARY_DIRECTORY}/${component}${CPACK_PACKAGING_INSTALL_PREFIX}" "${package}")
  endforeach()
else()
  ferry_deb_stage("${CPACK_TEMPORARY_DIRECTORY}${CPACK_PACKAGING_INSTALL_PREFIX}" "${CPACK_PACKAGE_NAME}")
endif()
