# /app: the dashboard. Its script is bundled at build time by esbuild from src/ and the npm
# packages pinned by package-lock.json (`npm ci` once per build directory, into the build
# directory), then embedded in pulse_http with index.html and app.css (an .incbin in a
# generated source): the binary serves it with no Node and no network at run time.
# Included from adapters/CMakeLists.txt. Offline builds: -DPULSE_DASHBOARD_JS=/path/to/app.js
# (a bundle built elsewhere from the same sources).
set(PULSE_DASHBOARD_JS "" CACHE FILEPATH
    "A prebuilt dashboard bundle (default: build it with esbuild from npm at build time)")
set(pulse_dashboard_dir ${CMAKE_CURRENT_LIST_DIR})
file(GLOB pulse_dashboard_sources CONFIGURE_DEPENDS ${pulse_dashboard_dir}/src/*.js)

if(PULSE_DASHBOARD_JS)
  set(pulse_dashboard_js ${PULSE_DASHBOARD_JS})
else()
  set(pulse_dashboard_js ${PROJECT_BINARY_DIR}/dashboard/app.js)
  find_program(PULSE_NPM npm)
  find_program(PULSE_NODE node)
  add_custom_command(
    OUTPUT ${pulse_dashboard_js}
    COMMAND ${CMAKE_COMMAND} -DNPM=${PULSE_NPM} -DNODE=${PULSE_NODE} -DSRC=${pulse_dashboard_dir}
            -DWORK=${PROJECT_BINARY_DIR}/dashboard -DOUT=${pulse_dashboard_js}
            -P ${pulse_dashboard_dir}/build.cmake
    DEPENDS ${pulse_dashboard_dir}/build.cmake ${pulse_dashboard_dir}/package.json
            ${pulse_dashboard_dir}/package-lock.json ${pulse_dashboard_sources}
    COMMENT "Bundling the dashboard (esbuild, npm packages pinned by package-lock.json)"
    VERBATIM)
endif()

set(pulse_dashboard_html ${pulse_dashboard_dir}/index.html)
set(pulse_dashboard_css ${pulse_dashboard_dir}/app.css)
set(pulse_dashboard_cpp ${CMAKE_CURRENT_BINARY_DIR}/dashboard_assets.cpp)
configure_file(${pulse_dashboard_dir}/assets.cpp.in ${pulse_dashboard_cpp} @ONLY)
set_source_files_properties(${pulse_dashboard_cpp} PROPERTIES
  OBJECT_DEPENDS "${pulse_dashboard_js};${pulse_dashboard_html};${pulse_dashboard_css}")
add_custom_target(pulse_dashboard_assets DEPENDS ${pulse_dashboard_js})
target_sources(pulse_http PRIVATE ${pulse_dashboard_cpp})
add_dependencies(pulse_http pulse_dashboard_assets)
