# assemble_web.cmake -DSRC=web -DUPLOT=node_modules/uplot/dist -DOUT=build/web
# Copy the console's files and uPlot's ES module and stylesheet into OUT
# (fresh each time, so a file deleted from web/ is gone from OUT too).
file(REMOVE_RECURSE ${OUT})
file(COPY ${SRC}/ DESTINATION ${OUT})
if(EXISTS ${UPLOT}/uPlot.esm.js)
  file(COPY ${UPLOT}/uPlot.esm.js ${UPLOT}/uPlot.min.css DESTINATION ${OUT}/vendor)
else()
  message(WARNING "uPlot is not installed (run scripts/deps.sh): the console's charts will be missing")
endif()
