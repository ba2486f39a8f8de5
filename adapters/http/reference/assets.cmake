# GET /openapi.yaml and GET /reference: schemas/openapi.yaml and Redoc's standalone bundle are
# embedded in pulse_http (an .incbin in a generated source), so the installed binary needs
# no file at run time and the reference renders offline. Included from adapters/CMakeLists.txt.
#
# Redoc comes from the npm registry at build time (`npm pack`, once per build directory,
# checked against a pinned SHA-512). Offline builds: -DPULSE_REDOC_JS=/path/to/redoc.standalone.js
set(PULSE_REDOC_VERSION 2.5.4)
set(PULSE_REDOC_SHA512
    33a8d6846d6aa019c7e93166cc99ecb72099f3b1e6398fd4cc39bbf261e262284476557f61c4bda203a8d4d94496724c78bb32c4715edb215ce2c3631d3ac005)
set(PULSE_REDOC_JS "" CACHE FILEPATH
    "A local redoc.standalone.js for GET /reference (default: fetch redoc ${PULSE_REDOC_VERSION} from npm)")

if(PULSE_REDOC_JS)
  set(pulse_redoc_js ${PULSE_REDOC_JS})
else()
  set(pulse_redoc_js ${PROJECT_BINARY_DIR}/reference/redoc-${PULSE_REDOC_VERSION}.standalone.js)
  find_program(PULSE_NPM npm)
  add_custom_command(
    OUTPUT ${pulse_redoc_js}
    COMMAND ${CMAKE_COMMAND} -DNPM=${PULSE_NPM} -DVERSION=${PULSE_REDOC_VERSION}
            -DSHA512=${PULSE_REDOC_SHA512} -DOUT=${pulse_redoc_js}
            -P ${CMAKE_CURRENT_LIST_DIR}/fetch_redoc.cmake
    DEPENDS ${CMAKE_CURRENT_LIST_DIR}/fetch_redoc.cmake
    COMMENT "Fetching redoc ${PULSE_REDOC_VERSION} from the npm registry (GET /reference)"
    VERBATIM)
endif()

set(pulse_openapi_yaml ${PROJECT_SOURCE_DIR}/schemas/openapi.yaml)
set(pulse_assets_cpp ${CMAKE_CURRENT_BINARY_DIR}/reference_assets.cpp)
configure_file(${CMAKE_CURRENT_LIST_DIR}/assets.cpp.in ${pulse_assets_cpp} @ONLY)
set_source_files_properties(${pulse_assets_cpp} PROPERTIES
  OBJECT_DEPENDS "${pulse_openapi_yaml};${pulse_redoc_js}")
add_custom_target(pulse_reference_assets DEPENDS ${pulse_redoc_js})
target_sources(pulse_http PRIVATE ${pulse_assets_cpp})
add_dependencies(pulse_http pulse_reference_assets)
