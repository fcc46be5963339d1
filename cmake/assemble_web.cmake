# assemble_web.cmake -DSRC=web -DUPLOT=node_modules/uplot/dist -DFONTS=node_modules -DOUT=build/web
# Copy the console's files, uPlot's ES module and stylesheet, and the fonts
# (Vazirmatn; Noto Sans's Cyrillic subset) into OUT (fresh each time, so a
# file deleted from web/ is gone from OUT too).
file(REMOVE_RECURSE ${OUT})
file(COPY ${SRC}/ DESTINATION ${OUT})
if(EXISTS ${UPLOT}/uPlot.esm.js)
  file(COPY ${UPLOT}/uPlot.esm.js ${UPLOT}/uPlot.min.css DESTINATION ${OUT}/vendor)
else()
  message(WARNING "uPlot is not installed (run scripts/deps.sh): the console's charts will be missing")
endif()
set(SB_FONT_FILES
    ${FONTS}/vazirmatn/fonts/webfonts/Vazirmatn-Regular.woff2
    ${FONTS}/vazirmatn/fonts/webfonts/Vazirmatn-Bold.woff2
    ${FONTS}/vazirmatn/OFL.txt
    ${FONTS}/@fontsource/noto-sans/files/noto-sans-cyrillic-400-normal.woff2
    ${FONTS}/@fontsource/noto-sans/files/noto-sans-cyrillic-600-normal.woff2)
set(SB_FONTS_OK TRUE)
foreach(f ${SB_FONT_FILES})
  if(NOT EXISTS ${f})
    set(SB_FONTS_OK FALSE)
  endif()
endforeach()
if(SB_FONTS_OK)
  file(COPY ${SB_FONT_FILES} DESTINATION ${OUT}/vendor/fonts)
else()
  message(WARNING "the fonts are not installed (run scripts/deps.sh): pages fall back to system fonts")
endif()
