// GET /openapi.yaml and GET /reference: the API's contract and its interactive reference.
// Both are embedded in the binary at build time (reference/assets.cmake): schemas/openapi.yaml
// and Redoc's standalone bundle from npm, so the reference renders with no network at all.
#include <string_view>

#include "adapters/http/routes.h"

// Defined by the generated reference_assets.cpp (.incbin of the files).
extern "C" {
extern const char pulse_asset_openapi_yaml[];
extern const char pulse_asset_openapi_yaml_end[];
extern const char pulse_asset_redoc_js[];
extern const char pulse_asset_redoc_js_end[];
}

namespace pulse::http {
namespace {

std::string_view asset(const char* begin, const char* end) {
  return std::string_view(begin, static_cast<size_t>(end - begin));
}

// Relative URLs, so the page also works behind a proxy that mounts Pulse under a prefix.
constexpr std::string_view kReferencePage = R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pulse API reference</title>
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<div id="redoc"></div>
<script src="reference/redoc.standalone.js"></script>
<script>
  Redoc.init("openapi.yaml", {
    expandResponses: "200,201",
    hideHostname: true,
    jsonSampleExpandLevel: 3,
    pathInMiddlePanel: true,
    sortPropsAlphabetically: false
  }, document.getElementById("redoc"));
</script>
</body>
</html>
)";

void serve_asset(httplib::Response& res, std::string_view body, const char* type) {
  res.status = 200;
  res.set_content(body.data(), body.size(), type);
  // Built into the binary: cacheable, but a new build may change it, so not for long.
  res.set_header("Cache-Control", "public, max-age=3600");
}

}  // namespace

void add_docs_routes(Router& server, const Context&) {
  server.Get("/openapi.yaml", [](const httplib::Request&, httplib::Response& res) {
    serve_asset(res, asset(pulse_asset_openapi_yaml, pulse_asset_openapi_yaml_end),
                "application/yaml");
  });
  server.Get("/reference", [](const httplib::Request&, httplib::Response& res) {
    serve_asset(res, kReferencePage, "text/html; charset=utf-8");
  });
  // The page's URLs are relative to /reference: /reference/ sends the browser there (a
  // relative Location, so a proxy's prefix is kept).
  server.Get("/reference/", [](const httplib::Request&, httplib::Response& res) {
    res.status = 308;
    res.set_header("Location", "../reference");
  });
  server.Get("/reference/redoc.standalone.js", [](const httplib::Request&, httplib::Response& res) {
    serve_asset(res, asset(pulse_asset_redoc_js, pulse_asset_redoc_js_end),
                "text/javascript; charset=utf-8");
  });
}

}  // namespace pulse::http
