# The Debian package (scripts/package.sh builds it from the `release` preset; README "Packages").
#   /usr/bin/sharekeeper, /usr/bin/sharekeeper-emulator
#   /usr/lib/systemd/system/sharekeeper.service   deploy/systemd's unit, ExecStart pointed at /usr/bin
#   /usr/share/doc/sharekeeper/                   docs/, README.md, examples/ (configs and the quickstart
#                                                 seed), deploy/ram/ (the RAM policy sharekeeper needs)
# Depends are derived by dpkg-shlibdeps from what the two binaries link, plus ca-certificates (TLS to
# the Alibaba Cloud endpoints). The maintainer scripts (cmake/debian/) never enable or start the
# service: it needs the admin's config and credentials first. The unit runs with DynamicUser=yes, so
# no system user is created.
include(GNUInstallDirs)

# `cpack` builds only what it installs (the two binaries), not the tests and benchmarks of `all`.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)

install(TARGETS sharekeeper sharekeeper-emulator RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The unit of deploy/systemd, with the binary where the package puts it. Checked here so that a change
# to the unit's ExecStart cannot silently ship a unit pointing at nothing.
file(READ ${PROJECT_SOURCE_DIR}/deploy/systemd/sharekeeper.service sharekeeper_unit)
string(REPLACE "ExecStart=/usr/local/bin/sharekeeper "
               "ExecStart=${CPACK_PACKAGING_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/sharekeeper "
               sharekeeper_unit "${sharekeeper_unit}")
if(NOT sharekeeper_unit MATCHES "ExecStart=${CPACK_PACKAGING_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/sharekeeper ")
  message(FATAL_ERROR "deploy/systemd/sharekeeper.service: no 'ExecStart=/usr/local/bin/sharekeeper ' to point at the packaged binary")
endif()
string(PREPEND sharekeeper_unit
  "# Installed by the sharekeeper package, which neither enables nor starts it. Before\n"
  "# `systemctl enable --now sharekeeper`: put the config in /etc/sharekeeper (examples in\n"
  "# /usr/share/doc/sharekeeper/examples) and the admin token in /etc/credstore.encrypted (below).\n")
file(WRITE ${PROJECT_BINARY_DIR}/packaging/sharekeeper.service "${sharekeeper_unit}")
install(FILES ${PROJECT_BINARY_DIR}/packaging/sharekeeper.service DESTINATION lib/systemd/system)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/deploy/ram/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/ram)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sharekeeper)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "sharekeeper developers <dev@sharekeeper.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "keeps encrypted ECS snapshot and image sharing on Alibaba Cloud equal to Git")
# The extended description; CPack puts CPACK_PACKAGE_DESCRIPTION_SUMMARY in front as the synopsis.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "sharekeeper creates and edits the RAM roles, trust policies, KMS permission
policies and attachments that encrypted snapshot and image shares need, as a
Git repository of YAML says, corrects drift and reports every grant in
Prometheus. Includes sharekeeper-emulator, a local Alibaba Cloud for trying it.")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "ca-certificates")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/cmake/debian/postinst ${PROJECT_SOURCE_DIR}/cmake/debian/prerm
    ${PROJECT_SOURCE_DIR}/cmake/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
include(CPack)
