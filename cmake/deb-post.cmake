# SPDX-License-Identifier: MIT
# CPack runs this on the built Debian packages (CPACK_POST_BUILD_SCRIPTS, set
# in cmake/parts/package.cmake; CPACK_PACKAGE_FILES lists them). CPack's DEB
# generator gives any package with a shared object under usr/lib a postinst
# and a postrm that run ldconfig, whatever the package asks; Debian policy
# wants dpkg's ldconfig trigger instead (lintian: maintscript-calls-ldconfig),
# which the runtime package has. So a package whose maintainer scripts do
# nothing but that is rebuilt without them (dpkg-deb, the same files, owners
# root). A script that does anything else stops the build.
find_program(dpkg_deb dpkg-deb REQUIRED)
foreach(deb IN LISTS CPACK_PACKAGE_FILES)
  if(NOT deb MATCHES "\\.deb$")
    continue()
  endif()
  set(dir "${deb}.raw")
  file(REMOVE_RECURSE "${dir}")
  execute_process(COMMAND ${dpkg_deb} --raw-extract "${deb}" "${dir}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "deb-post.cmake: dpkg-deb --raw-extract ${deb} failed")
  endif()
  set(removed FALSE)
  foreach(script postinst postrm)
    if(NOT EXISTS "${dir}/DEBIAN/${script}")
      continue()
    endif()
    file(STRINGS "${dir}/DEBIAN/${script}" lines)
    foreach(line IN LISTS lines)
      if(NOT line MATCHES [[^(#!/bin/sh|set -e|if \[ "\$1" = "(configure|remove)" \]; then|[	 ]*ldconfig|fi|[	 ]*)$]])
        message(FATAL_ERROR "deb-post.cmake: ${deb}: ${script} does more than run ldconfig: ${line}")
      endif()
    endforeach()
    file(REMOVE "${dir}/DEBIAN/${script}")
    set(removed TRUE)
  endforeach()
  if(removed)
    execute_process(COMMAND ${dpkg_deb} --root-owner-group -Zgzip --build "${dir}" "${deb}"
      OUTPUT_QUIET RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "deb-post.cmake: dpkg-deb --build ${deb} failed")
    endif()
  endif()
  file(REMOVE_RECURSE "${dir}")
endforeach()
