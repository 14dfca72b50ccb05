# SPDX-License-Identifier: MIT
# Install layout and the Debian package.  Included by the top-level
# CMakeLists.txt (after GNUInstallDirs and the shim's own install rule, which
# puts libsdadopt.so in CMAKE_INSTALL_LIBDIR).
#
#   cmake -S . -B build-pkg -DCMAKE_INSTALL_PREFIX=/usr
#   cmake --build build-pkg && (cd build-pkg && cpack -G DEB)
#
# With the /usr prefix on Debian, GNUInstallDirs gives the multiarch libdir
# (lib/x86_64-linux-gnu), the path the example units and the launcher use.
#
#   bin/sdadopt                          the launcher, shim path filled in
#   LIBDIR/libsdadopt.so                 the shim (shim/CMakeLists.txt)
#   share/man/man1/sdadopt.1.gz          man pages (gzip -9n when gzip exists)
#   share/man/man7/libsdadopt.7.gz
#   share/doc/sdadopt/                   README.md, guide.md, troubleshooting.md,
#                                        copyright, examples/NAME/NAME.{socket,service}

set(_sda_src ${PROJECT_SOURCE_DIR})
set(_sda_out ${PROJECT_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${_sda_out}/man)

if(CMAKE_INSTALL_PREFIX STREQUAL "/usr" AND EXISTS /etc/debian_version
   AND NOT CMAKE_INSTALL_LIBDIR MATCHES "^lib/[^/]+-linux-gnu[^/]*$"
   AND NOT CMAKE_CROSSCOMPILING)
  message(WARNING "CMAKE_INSTALL_LIBDIR is '${CMAKE_INSTALL_LIBDIR}', not the Debian multiarch "
                  "directory (lib/<triplet>); the example units name /usr/lib/x86_64-linux-gnu/libsdadopt.so")
endif()
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "sdadopt: install prefix ${CMAKE_INSTALL_PREFIX}; for the Debian package "
                 "configure with -DCMAKE_INSTALL_PREFIX=/usr (multiarch libdir)")
endif()

# --- the launcher: fill in the version and where the shim is installed -----
file(RELATIVE_PATH _sda_bin_to_lib "${CMAKE_INSTALL_FULL_BINDIR}" "${CMAKE_INSTALL_FULL_LIBDIR}")
set(SDADOPT_INSTALLED_SHIM "${CMAKE_INSTALL_FULL_LIBDIR}/libsdadopt.so")
file(READ ${_sda_src}/scripts/sdadopt _sda_launcher)
string(REPLACE "@SDADOPT_VERSION@" "${PROJECT_VERSION}" _sda_launcher "${_sda_launcher}")
string(REPLACE "@SDADOPT_INSTALLED_SHIM@" "${SDADOPT_INSTALLED_SHIM}" _sda_launcher "${_sda_launcher}")
string(REPLACE "@SDADOPT_SHIM_FROM_BINDIR@" "${_sda_bin_to_lib}/libsdadopt.so" _sda_launcher "${_sda_launcher}")
set(_sda_old "")
if(EXISTS ${_sda_out}/sdadopt)
  file(READ ${_sda_out}/sdadopt _sda_old)
endif()
if(NOT _sda_old STREQUAL _sda_launcher)
  file(WRITE ${_sda_out}/sdadopt "${_sda_launcher}")
endif()
file(CHMOD ${_sda_out}/sdadopt PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
     GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${_sda_src}/scripts/sdadopt)
install(PROGRAMS ${_sda_out}/sdadopt DESTINATION ${CMAKE_INSTALL_BINDIR})

# --- man pages ----------------------------------------------------------------
find_program(SDADOPT_GZIP gzip)
set(_sda_man_outputs)
foreach(_page sdadopt.1 libsdadopt.7)
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" _sec ${_page})
  if(SDADOPT_GZIP)
    add_custom_command(
      OUTPUT ${_sda_out}/man/${_page}.gz
      COMMAND ${CMAKE_COMMAND} -E copy ${_sda_src}/docs/man/${_page} ${_sda_out}/man/${_page}
      COMMAND ${SDADOPT_GZIP} -9nf ${_sda_out}/man/${_page}
      DEPENDS ${_sda_src}/docs/man/${_page}
      COMMENT "gzip man page ${_page}"
      VERBATIM)
    list(APPEND _sda_man_outputs ${_sda_out}/man/${_page}.gz)
    install(FILES ${_sda_out}/man/${_page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${_sec})
  else()
    install(FILES ${_sda_src}/docs/man/${_page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${_sec})
  endif()
endforeach()
if(_sda_man_outputs)
  add_custom_target(sdadopt_man ALL DEPENDS ${_sda_man_outputs})
endif()

# --- documentation and examples ----------------------------------------------------
file(WRITE ${_sda_out}/copyright
"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: sdadopt

Files: *
Copyright: the sdadopt contributors
License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a
 copy of this software and associated documentation files (the \"Software\"),
 to deal in the Software without restriction, including without limitation
 the rights to use, copy, modify, merge, publish, distribute, sublicense,
 and/or sell copies of the Software, and to permit persons to whom the
 Software is furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included
 in all copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS
 OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
 MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT.
 IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY
 CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT,
 TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE
 SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
")
install(FILES ${_sda_src}/README.md ${_sda_src}/docs/guide.md ${_sda_src}/docs/troubleshooting.md
              ${_sda_out}/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${_sda_src}/docs/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
        FILES_MATCHING PATTERN "*.socket" PATTERN "*.service" PATTERN "*.conf" PATTERN "README*")

# --- CPack: the Debian package -----------------------------------------------------
set(SDADOPT_DEB_MAINTAINER "sdadopt maintainers <maintainers@sdadopt.invalid>"
    CACHE STRING "Maintainer field of the Debian package")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sdadopt)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "sdadopt")
set(CPACK_PACKAGE_CONTACT "${SDADOPT_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "LD_PRELOAD shim: legacy servers adopt systemd socket-activated sockets")
set(CPACK_PACKAGE_DESCRIPTION
"libsdadopt.so lets an unmodified server use the listening sockets that
systemd socket activation (or systemd-socket-activate, or podman) passes
it: when the server bind()s an address an inherited socket serves, the
shim hands it that socket instead.  The sdadopt launcher preloads the
shim, sets its options, activates sockets for local use and explains what
the shim did.")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_STRIP_FILES TRUE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_NAME sdadopt)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${SDADOPT_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# close_range, closefrom: glibc 2.34 (the shim's highest symbol version)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6 (>= 2.34)")
# systemd-socket-activate for `sdadopt --activator ssa`; perl-base is Essential
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "systemd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build/" "/build-[^/]*/")
include(CPack)
