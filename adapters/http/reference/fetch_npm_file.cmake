# cmake -DNPM=… -DPACKAGE=… -DVERSION=… -DSHA512=… -DFILE=… -DOUT=… -DHINT=… -P fetch_npm_file.cmake
# Downloads a package's tarball with `npm pack` (no dependencies, no install scripts), checks its
# SHA-512 and extracts one file of it (FILE, a path inside the tarball's package/) to OUT.
set(hint "GET /reference embeds a file of the npm package ${PACKAGE}@${VERSION}, fetched from \
the npm registry at build time. Make the npm registry reachable, or configure with ${HINT}.")
if(NOT NPM)
  message(FATAL_ERROR "npm was not found. ${hint}")
endif()
get_filename_component(out_dir ${OUT} DIRECTORY)
string(REGEX REPLACE "^@" "" flat ${PACKAGE})
string(REPLACE "/" "-" flat ${flat})
set(work ${out_dir}/${flat}-${VERSION}.work)
file(REMOVE_RECURSE ${work})
file(MAKE_DIRECTORY ${work})
execute_process(
  COMMAND ${NPM} pack ${PACKAGE}@${VERSION} --silent --pack-destination ${work}
  WORKING_DIRECTORY ${work}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 300)
file(GLOB tgz ${work}/*.tgz)
if(NOT rc EQUAL 0 OR NOT tgz)
  message(FATAL_ERROR "npm pack ${PACKAGE}@${VERSION} failed (${rc}): ${err}\n${hint}")
endif()
file(SHA512 ${tgz} got)
if(NOT got STREQUAL SHA512)
  message(FATAL_ERROR "${tgz} has SHA-512 ${got}, expected ${SHA512}. ${hint}")
endif()
file(ARCHIVE_EXTRACT INPUT ${tgz} DESTINATION ${work} PATTERNS package/${FILE} package/package.json)
# The package's manifest names its licence (MIT for Scalar): kept beside the file.
file(COPY_FILE ${work}/package/package.json ${out_dir}/${flat}-package.json)
file(COPY_FILE ${work}/package/${FILE} ${OUT})
file(REMOVE_RECURSE ${work})
