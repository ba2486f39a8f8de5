# Builds the dashboard's bundle: cmake -DNPM=… -DNODE=… -DSRC=<this folder> -DWORK=<dir>
# -DOUT=<app.js> -P build.cmake. Installs the locked packages into WORK (not the source tree),
# once per lock file, then runs esbuild on SRC/src/main.js (its bin: the native binary, or the
# node launcher when the install script did not run).
if(NOT NPM OR NOT NODE)
  message(FATAL_ERROR "npm and node are needed to build the dashboard (Debian: apt-get install "
                      "nodejs npm), or pass -DPULSE_DASHBOARD_JS=<prebuilt app.js>")
endif()
file(MAKE_DIRECTORY ${WORK})
file(SHA256 ${SRC}/package-lock.json lock_hash)
set(stamp ${WORK}/node_modules/.pulse-lock-${lock_hash})
if(NOT EXISTS ${stamp})
  configure_file(${SRC}/package.json ${WORK}/package.json COPYONLY)
  configure_file(${SRC}/package-lock.json ${WORK}/package-lock.json COPYONLY)
  execute_process(
    COMMAND ${NPM} ci --no-audit --no-fund --loglevel=error
    WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "npm ci failed for the dashboard (${rc})")
  endif()
  file(TOUCH ${stamp})
endif()
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env NODE_PATH=${WORK}/node_modules
          ${WORK}/node_modules/.bin/esbuild ${SRC}/src/main.js --bundle
          --minify --format=esm --target=es2020 --legal-comments=none --outfile=${OUT}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "esbuild failed to bundle the dashboard (${rc})")
endif()
