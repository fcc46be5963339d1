# web.cmake - the served web directory: web/ (the staff console, the customer
# web chat and web/i18n, the catalogs both use) plus uPlot's built files and
# the fonts (Vazirmatn, Noto Sans Cyrillic) from node_modules (installed by
# scripts/deps.sh from package.json), assembled into ${CMAKE_BINARY_DIR}/web.
# `socialbank serve --web BUILD/web` serves it; nothing from npm is committed.
file(GLOB_RECURSE SB_WEB_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/web/*)
set(SB_WEB_DIR ${CMAKE_BINARY_DIR}/web)
set(SB_UPLOT_DIST ${CMAKE_SOURCE_DIR}/node_modules/uplot/dist)
set(SB_WEB_STAMP ${CMAKE_BINARY_DIR}/web.stamp)
set(SB_WEB_DEPENDS ${SB_WEB_FILES} ${CMAKE_SOURCE_DIR}/cmake/assemble_web.cmake)
if(EXISTS ${SB_UPLOT_DIST}/uPlot.esm.js)
  list(APPEND SB_WEB_DEPENDS ${SB_UPLOT_DIST}/uPlot.esm.js ${SB_UPLOT_DIST}/uPlot.min.css)
endif()
if(EXISTS ${CMAKE_SOURCE_DIR}/node_modules/vazirmatn/package.json)
  list(APPEND SB_WEB_DEPENDS ${CMAKE_SOURCE_DIR}/node_modules/vazirmatn/package.json
       ${CMAKE_SOURCE_DIR}/node_modules/@fontsource/noto-sans/package.json)
endif()
add_custom_command(
  OUTPUT ${SB_WEB_STAMP}
  COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR}/web -DUPLOT=${SB_UPLOT_DIST} -DFONTS=${CMAKE_SOURCE_DIR}/node_modules -DOUT=${SB_WEB_DIR}
          -P ${CMAKE_SOURCE_DIR}/cmake/assemble_web.cmake
  COMMAND ${CMAKE_COMMAND} -E touch ${SB_WEB_STAMP}
  DEPENDS ${SB_WEB_DEPENDS}
  COMMENT "Assembling the web directory (console, chat, uPlot, fonts)")
add_custom_target(web ALL DEPENDS ${SB_WEB_STAMP})
