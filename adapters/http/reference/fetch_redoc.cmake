# cmake -DNPM=… -DVERSION=… -DSHA512=… -DOUT=… -P fetch_redoc.cmake
# Downloads redoc's package tarball with `npm pack` (no dependencies, no install scripts),
# checks its SHA-512 and extracts bundles/redoc.standalone.js to OUT.
set(hint "GET /reference embeds Redoc's standalone bundle, fetched from the npm registry at build \
time. Make the npm registry reachable, or configure with \
-DPULSE_REDOC_JS=/path/to/redoc.standalone.js (redoc ${VERSION}).")
if(NOT NPM)
  message(FATAL_ERROR "npm was not found. ${hint}")
endif()
get_filename_component(out_dir ${OUT} DIRECTORY)
set(work ${out_dir}/redoc-${VERSION}.work)
file(REMOVE_RECURSE ${work})
file(MAKE_DIRECTORY ${work})
execute_process(
  COMMAND ${NPM} pack redoc@${VERSION} --silent --pack-destination ${work}
  WORKING_DIRECTORY ${work}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 300)
set(tgz ${work}/redoc-${VERSION}.tgz)
if(NOT rc EQUAL 0 OR NOT EXISTS ${tgz})
  message(FATAL_ERROR "npm pack redoc@${VERSION} failed (${rc}): ${err}\n${hint}")
endif()
file(SHA512 ${tgz} got)
if(NOT got STREQUAL SHA512)
  message(FATAL_ERROR "redoc-${VERSION}.tgz has SHA-512 ${got}, expected ${SHA512}. ${hint}")
endif()
file(ARCHIVE_EXTRACT INPUT ${tgz} DESTINATION ${work}
     PATTERNS package/bundles/redoc.standalone.js package/LICENSE)
file(COPY_FILE ${work}/package/LICENSE ${out_dir}/redoc-LICENSE)
file(COPY_FILE ${work}/package/bundles/redoc.standalone.js ${OUT})
file(REMOVE_RECURSE ${work})
