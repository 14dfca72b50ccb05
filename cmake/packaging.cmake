# SPDX-License-Identifier: MIT
# Install layout and the Debian package.  Included by the top-level
# CMakeLists.txt (after GNUInstallDirs and the shim's own install rule, which
# puts libsdadopt.so in CMAKE_INSTALL_LIBDIR/sdadopt).
#
#   cmake -S . -B build-pkg -DCMAKE_INSTALL_PREFIX=/usr
#   cmake --build build-pkg && (cd build-pkg && cpack -G DEB)
#
# With the /usr prefix on Debian, GNUInstallDirs gives the multiarch libdir
# (lib/x86_64-linux-gnu); the example units and the launcher name the shim's
# private directory in it.
#
#   bin/sdadopt                          the launcher (launcher/), shim path built in
#   LIBDIR/sdadopt/libsdadopt.so         the shim (shim/CMakeLists.txt)
#   share/man/man1/sdadopt.1.gz          man pages (gzip -9n when gzip exists)
#   share/man/man7/libsdadopt.7.gz
#   share/doc/sdadopt/                   README.md, guide.md, troubleshooting.md,
#                                        copyright, changelog.Debian.gz,
#                                        examples/NAME/NAME.{socket,service}
#   share/lintian/overrides/sdadopt      cmake/debian/lintian-overrides
#
# Why LIBDIR/sdadopt/ and no SONAME: the shim is a preload module (an
# add_library MODULE), loaded by path through LD_PRELOAD and never linked
# against.  A SONAME, the libsdadopt.so.N symlinks, shlibs and ldconfig are
# for shared libraries that programs link with; a module belongs in a private
# directory, as Debian's fakeroot installs /usr/lib/<triplet>/libfakeroot/.
# The directory stays under the multiarch libdir (not /usr/libexec, which is
# for programs, nor /usr/lib/sdadopt) because the module is built for one
# architecture: another architecture's shim has its own directory.
#
# The Debian version is the latest entry of cmake/debian/changelog, for
# example 0.1.0-1: upstream version (project()) and Debian revision.  A
# packaging fix adds an entry with the next revision; a new upstream version
# needs an entry with revision 1 (configure warns when they do not match).

set(_sda_src ${PROJECT_SOURCE_DIR})
set(_sda_out ${PROJECT_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${_sda_out}/man)

if(CMAKE_INSTALL_PREFIX STREQUAL "/usr" AND EXISTS /etc/debian_version
   AND NOT CMAKE_INSTALL_LIBDIR MATCHES "^lib/[^/]+-linux-gnu[^/]*$"
   AND NOT CMAKE_CROSSCOMPILING)
  message(WARNING "CMAKE_INSTALL_LIBDIR is '${CMAKE_INSTALL_LIBDIR}', not the Debian multiarch "
                  "directory (lib/<triplet>); the example units name "
                  "/usr/lib/x86_64-linux-gnu/sdadopt/libsdadopt.so")
endif()
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "sdadopt: install prefix ${CMAKE_INSTALL_PREFIX}; for the Debian package "
                 "configure with -DCMAKE_INSTALL_PREFIX=/usr (multiarch libdir)")
endif()

# --- the launcher -----------------------------------------------------------
# launcher/CMakeLists.txt builds and installs bin/sdadopt (a C program) with
# the shim's installed path compiled in; tests/operator/deb.sh checks that
# it names the file the package has.
set(SDADOPT_INSTALL_SHIMDIR "${CMAKE_INSTALL_LIBDIR}/sdadopt")

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

# --- the shim: what strip leaves, as dh_strip removes it ---------------------
# CPACK_STRIP_FILES (and `cmake --install --strip`) run plain strip, which
# keeps .comment (the compiler's version string); dh_strip also removes it.
# This rule runs after the shim's own install rule (CMP0082).
find_program(SDADOPT_OBJCOPY NAMES ${CMAKE_OBJCOPY} objcopy)
if(SDADOPT_OBJCOPY)
  install(CODE "
    if(CMAKE_INSTALL_DO_STRIP)
      set(_sda_shim \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${SDADOPT_INSTALL_SHIMDIR}/libsdadopt.so\")
      execute_process(COMMAND \"${SDADOPT_OBJCOPY}\" --remove-section=.comment --remove-section=.note
                              \"\${_sda_shim}\" RESULT_VARIABLE _sda_rc)
      if(NOT _sda_rc EQUAL 0)
        message(FATAL_ERROR \"objcopy --remove-section=.comment \${_sda_shim}: \${_sda_rc}\")
      endif()
    endif()")
endif()
# the same for the launcher (installed by launcher/CMakeLists.txt, before this)
if(SDADOPT_OBJCOPY)
  install(CODE "
    if(CMAKE_INSTALL_DO_STRIP)
      set(_sda_ln \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/sdadopt\")
      execute_process(COMMAND \"${SDADOPT_OBJCOPY}\" --remove-section=.comment
                              \"\${_sda_ln}\" RESULT_VARIABLE _sda_rc)
      if(NOT _sda_rc EQUAL 0)
        message(FATAL_ERROR \"objcopy --remove-section=.comment \${_sda_ln}: \${_sda_rc}\")
      endif()
    endif()")
endif()

# --- documentation: copyright, Debian changelog, lintian overrides -------------
# debian/copyright in the machine-readable format, from LICENSE: its
# "Copyright (c) YEARS HOLDER" line and the permission notice after it.  The
# text is the one DEP-5 calls Expat (SPDX: MIT, as in every source file).
file(READ ${_sda_src}/LICENSE _sda_license)
if(NOT _sda_license MATCHES "\nCopyright \\(c\\) ([^\n]+)\n\n(.+)$")
  message(FATAL_ERROR "LICENSE: no 'Copyright (c) YEARS HOLDER' line followed by the license text")
endif()
set(_sda_copyright_notice "${CMAKE_MATCH_1}")
string(STRIP "${CMAKE_MATCH_2}" _sda_license_text)
string(REGEX REPLACE "\n[ \t]*\n" "\n.\n" _sda_license_text "${_sda_license_text}")
string(REPLACE "\n" "\n " _sda_license_text " ${_sda_license_text}")
file(WRITE ${_sda_out}/copyright
"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: sdadopt
Comment: Expat is the license SPDX calls MIT (SPDX-License-Identifier: MIT).

Files: *
Copyright: ${_sda_copyright_notice}
License: Expat
${_sda_license_text}
")

# changelog.Debian.gz (the version has a Debian revision: not a native
# package); its latest entry is the package's version
file(STRINGS ${_sda_src}/cmake/debian/changelog _sda_chl_top LIMIT_COUNT 1)
if(NOT _sda_chl_top MATCHES "^sdadopt \\(([^)-]+)-([^)-]+)\\) ")
  message(FATAL_ERROR "cmake/debian/changelog: the first line is not 'sdadopt (UPSTREAM-REVISION) ...'")
endif()
set(SDADOPT_DEB_UPSTREAM "${CMAKE_MATCH_1}")
set(SDADOPT_DEB_REVISION "${CMAKE_MATCH_2}")
if(NOT SDADOPT_DEB_UPSTREAM STREQUAL PROJECT_VERSION)
  message(WARNING "cmake/debian/changelog: the latest entry is ${SDADOPT_DEB_UPSTREAM}-${SDADOPT_DEB_REVISION}, "
                  "but the project is ${PROJECT_VERSION}: add an entry for ${PROJECT_VERSION}-1")
endif()
set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${_sda_src}/LICENSE ${_sda_src}/cmake/debian/changelog)
if(SDADOPT_GZIP)
  add_custom_command(
    OUTPUT ${_sda_out}/changelog.Debian.gz
    COMMAND ${CMAKE_COMMAND} -E copy ${_sda_src}/cmake/debian/changelog ${_sda_out}/changelog.Debian
    COMMAND ${SDADOPT_GZIP} -9nf ${_sda_out}/changelog.Debian
    DEPENDS ${_sda_src}/cmake/debian/changelog
    COMMENT "gzip changelog.Debian"
    VERBATIM)
  add_custom_target(sdadopt_changelog ALL DEPENDS ${_sda_out}/changelog.Debian.gz)
  install(FILES ${_sda_out}/changelog.Debian.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})
else()
  install(FILES ${_sda_src}/cmake/debian/changelog DESTINATION ${CMAKE_INSTALL_DOCDIR}
          RENAME changelog.Debian)
endif()
install(FILES ${_sda_src}/cmake/debian/lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/lintian/overrides RENAME sdadopt)

# --- documentation and examples ----------------------------------------------------
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
set(CPACK_DEBIAN_PACKAGE_RELEASE ${SDADOPT_DEB_REVISION})   # Version: 0.1.0-1
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
# systemd-socket-activate for `sdadopt --activator ssa` (the builtin activator needs nothing)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "systemd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build/" "/build-[^/]*/")
include(CPack)
