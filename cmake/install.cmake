# Installing synscope as a Debian tool: the binary, its man page and shell completions (written
# by the binary from the same CLI definition as --help), the deploy/ files under share/synscope,
# and the exporter's systemd unit. `cpack -G DEB` in a build folder makes the package: stripped,
# its debug info in a separate -dbgsym package, its dependencies found by dpkg-shlibdeps.
include(GNUInstallDirs)

set(SYNSCOPE_GENERATED ${PROJECT_BINARY_DIR}/share)
add_custom_command(
  OUTPUT ${SYNSCOPE_GENERATED}/synscope.1.gz ${SYNSCOPE_GENERATED}/synscope.bash ${SYNSCOPE_GENERATED}/_synscope
         ${SYNSCOPE_GENERATED}/changelog.gz
  COMMAND ${CMAKE_COMMAND} -E make_directory ${SYNSCOPE_GENERATED}
  COMMAND sh -c "'$<TARGET_FILE:synscope>' manpage | gzip -9n > '${SYNSCOPE_GENERATED}/synscope.1.gz'"
  COMMAND sh -c "'$<TARGET_FILE:synscope>' completion bash > '${SYNSCOPE_GENERATED}/synscope.bash'"
  COMMAND sh -c "'$<TARGET_FILE:synscope>' completion zsh > '${SYNSCOPE_GENERATED}/_synscope'"
  COMMAND sh -c "gzip -9n < '${PROJECT_SOURCE_DIR}/docs/changelog.md' > '${SYNSCOPE_GENERATED}/changelog.gz'"
  DEPENDS synscope ${PROJECT_SOURCE_DIR}/docs/changelog.md
  COMMENT "man page and shell completions from synscope's own options"
  VERBATIM)
add_custom_target(synscope_share ALL DEPENDS ${SYNSCOPE_GENERATED}/synscope.1.gz ${SYNSCOPE_GENERATED}/synscope.bash
                                              ${SYNSCOPE_GENERATED}/_synscope)

# The installed unit names the binary without a folder: systemd looks in its fixed path
# (/usr/local/bin, then /usr/bin), so one unit serves the package and `cmake --install`.
file(READ ${PROJECT_SOURCE_DIR}/deploy/systemd/synscope-exporter.service _unit)
string(REPLACE "ExecStart=/usr/local/bin/synscope" "ExecStart=synscope" _unit "${_unit}")
file(WRITE ${SYNSCOPE_GENERATED}/synscope-exporter.service "${_unit}")

# Debian's copyright file (machine-readable format 1.0) from LICENSE: the licence text indented
# by one space, its empty lines written " .".
file(READ ${PROJECT_SOURCE_DIR}/LICENSE _licence)
string(STRIP "${_licence}" _licence)
string(REGEX REPLACE "^MIT License\n\n" "" _licence "${_licence}")
string(REPLACE "\n" "\n " _licence " ${_licence}")
string(REPLACE "\n \n" "\n .\n" _licence "${_licence}")
file(WRITE ${SYNSCOPE_GENERATED}/copyright
     "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: synscope\n\n"
     "Files: *\nCopyright: 2026 the synscope developers\nLicense: Expat\n${_licence}\n")

install(TARGETS synscope RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${SYNSCOPE_GENERATED}/synscope.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${SYNSCOPE_GENERATED}/synscope.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME synscope)
install(FILES ${SYNSCOPE_GENERATED}/_synscope DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES deploy/prometheus/alerts.yml deploy/prometheus/prometheus.yml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/synscope/prometheus)
install(FILES deploy/grafana/synscope-dashboard.json DESTINATION ${CMAKE_INSTALL_DATADIR}/synscope/grafana)
install(FILES ${SYNSCOPE_GENERATED}/synscope-exporter.service DESTINATION lib/systemd/system)
install(FILES README.md docs/exit-codes.md ${SYNSCOPE_GENERATED}/changelog.gz ${SYNSCOPE_GENERATED}/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME synscope)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "synscope developers <synscope@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "measure, serve, capture, monitor and tune TCP connection establishment")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "One binary for the TCP three-way handshake on Linux: handshake probes,\n load and a tuned server, capture analysis and live capture, sockets,\n counters and a live view, a Prometheus exporter, sysctl tuning with\n backups and restore, a checklist, and drills in network namespaces.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# dpkg-shlibdeps sees the linked libraries; libpcap is dlopen()ed (wire/libpcap.h), so it is named
# here, as "Depends" because analyze's filters and capture need it.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libpcap0.8 (>= 1.10)")
set(CPACK_DEBIAN_DEBUGINFO_PACKAGE ON)
# The debug info package takes the binary unstripped, splits its debug info off and strips it.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
