# install.cmake - what `cmake --install` puts where a system expects it:
#   PREFIX/bin/socialbank                      the binary (migrations are embedded in it)
#   PREFIX/share/socialbank/web/               the assembled web directory (console, chat, uPlot)
#   PREFIX/share/socialbank/models/default.sbm the default classifier model
#   PREFIX/lib/systemd/system/socialbank.service  the sandboxed unit (dist/socialbank.service.in)
#   PREFIX/lib/sysusers.d/socialbank.conf      its system user
#   PREFIX/share/doc/socialbank/OPERATIONS.md  how to run it
# `serve` finds the web directory and the model under PREFIX/share/socialbank
# by itself (relative to its own binary, so a DESTDIR or another prefix works).
include(GNUInstallDirs)
install(TARGETS socialbank RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${SB_WEB_DIR}/ DESTINATION ${CMAKE_INSTALL_DATADIR}/socialbank/web)
if(TARGET default_model)
  install(FILES ${SB_DEFAULT_MODEL} DESTINATION ${CMAKE_INSTALL_DATADIR}/socialbank/models)
endif()
# The unit names the installed binary: made at install time, so that
# `cmake --install --prefix P` puts P (not the configured prefix) in ExecStart.
install(CODE "
  set(SB_UNIT_BINARY \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/socialbank\")
  configure_file(\"${CMAKE_SOURCE_DIR}/dist/socialbank.service.in\" \"${CMAKE_BINARY_DIR}/dist/socialbank.service\" @ONLY)
")
install(FILES ${CMAKE_BINARY_DIR}/dist/socialbank.service DESTINATION lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/dist/socialbank.sysusers DESTINATION lib/sysusers.d RENAME socialbank.conf)
install(FILES ${CMAKE_SOURCE_DIR}/dist/socialbank.env DESTINATION ${CMAKE_INSTALL_DATADIR}/socialbank/examples)
install(FILES ${CMAKE_SOURCE_DIR}/docs/OPERATIONS.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
