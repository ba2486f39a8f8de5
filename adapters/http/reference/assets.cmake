# GET /openapi.yaml and GET /reference: schemas/openapi.yaml and Scalar's API reference (its
# standalone browser bundle) are embedded in pulse_http (an .incbin in a generated source), so
# the installed binary needs no file at run time and the reference renders offline. Included
# from adapters/CMakeLists.txt.
#
# Scalar comes from the npm registry at build time (`npm pack`, once per build directory,
# checked against a pinned SHA-512). Offline builds: -DPULSE_SCALAR_JS=/path/to/standalone.js
set(PULSE_SCALAR_VERSION 1.76.4)
set(PULSE_SCALAR_SHA512
    6c7495bf8f78cae353701ce67d947779885c90e4e2bb72fa2099af33691d2b3055996aa6f898441db61cef276cbfb1414acdef4d6f6c0b3d342dad9d1605b156)
set(PULSE_SCALAR_JS "" CACHE FILEPATH
    "A local dist/browser/standalone.js of @scalar/api-reference for GET /reference (default: fetch ${PULSE_SCALAR_VERSION} from npm)")

if(PULSE_SCALAR_JS)
  set(pulse_reference_js ${PULSE_SCALAR_JS})
else()
  set(pulse_reference_js ${PROJECT_BINARY_DIR}/reference/scalar-${PULSE_SCALAR_VERSION}.standalone.js)
  find_program(PULSE_NPM npm)
  add_custom_command(
    OUTPUT ${pulse_reference_js}
    COMMAND ${CMAKE_COMMAND} -DNPM=${PULSE_NPM} -DPACKAGE=@scalar/api-reference
            -DVERSION=${PULSE_SCALAR_VERSION} -DSHA512=${PULSE_SCALAR_SHA512}
            -DFILE=dist/browser/standalone.js -DOUT=${pulse_reference_js}
            "-DHINT=-DPULSE_SCALAR_JS=/path/to/standalone.js"
            -P ${CMAKE_CURRENT_LIST_DIR}/fetch_npm_file.cmake
    DEPENDS ${CMAKE_CURRENT_LIST_DIR}/fetch_npm_file.cmake
    COMMENT "Fetching @scalar/api-reference ${PULSE_SCALAR_VERSION} from the npm registry (GET /reference)"
    VERBATIM)
endif()

set(pulse_openapi_yaml ${PROJECT_SOURCE_DIR}/schemas/openapi.yaml)
set(pulse_assets_cpp ${CMAKE_CURRENT_BINARY_DIR}/reference_assets.cpp)
configure_file(${CMAKE_CURRENT_LIST_DIR}/assets.cpp.in ${pulse_assets_cpp} @ONLY)
set_source_files_properties(${pulse_assets_cpp} PROPERTIES
  OBJECT_DEPENDS "${pulse_openapi_yaml};${pulse_reference_js}")
add_custom_target(pulse_reference_assets DEPENDS ${pulse_reference_js})
target_sources(pulse_http PRIVATE ${pulse_assets_cpp})
add_dependencies(pulse_http pulse_reference_assets)
