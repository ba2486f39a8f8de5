// GET /openapi.yaml and GET /reference: the API's contract and its interactive reference, where
// a user tries every endpoint live (Scalar's API client, against this server). Both are
// embedded in the binary at build time (reference/assets.cmake): schemas/openapi.yaml and
// Scalar's standalone bundle from npm, so the reference works with no network at all.
#include <string_view>

#include "adapters/http/routes.h"

// Defined by the generated reference_assets.cpp (.incbin of the files).
extern "C" {
extern const char pulse_asset_openapi_yaml[];
extern const char pulse_asset_openapi_yaml_end[];
extern const char pulse_asset_reference_js[];
extern const char pulse_asset_reference_js_end[];
}

namespace pulse::http {
namespace {

std::string_view asset(const char* begin, const char* end) {
  return std::string_view(begin, static_cast<size_t>(end - begin));
}

// Relative URLs, so the page also works behind a proxy that mounts Pulse under a prefix: the
// document, the script, and the server requests are sent to (the directory of /reference).
// Nothing is fetched from elsewhere: no web fonts, no telemetry, no AI agent, no CORS proxy
// (requests go to this same origin).
constexpr std::string_view kReferencePage = R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pulse API reference</title>
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<div id="reference"></div>
<script src="reference/scalar.standalone.js"></script>
<script>
  Scalar.createApiReference("#reference", {
    url: "openapi.yaml",
    servers: [{ url: new URL(".", window.location.href).href.replace(/\/$/, ""),
                description: "This server" }],
    authentication: { preferredSecurityScheme: "bearer" },
    withDefaultFonts: false,
    telemetry: false,
    agent: { disabled: true },
    hideClientButton: false,
    showDeveloperTools: "never",
    documentDownloadType: "yaml",
    defaultHttpClient: { targetKey: "shell", clientKey: "curl" }
  });
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
  server.Get("/reference/scalar.standalone.js",
             [](const httplib::Request&, httplib::Response& res) {
               serve_asset(res, asset(pulse_asset_reference_js, pulse_asset_reference_js_end),
                           "text/javascript; charset=utf-8");
             });
}

}  // namespace pulse::http
