#include "domain/json_writer.h"

#include <doctest/doctest.h>

#include <limits>
#include <optional>
#include <string>

namespace pulse {
namespace {

TEST_CASE("JsonWriter writes nested objects and arrays with commas in the right places") {
  JsonWriter w;
  w.begin_object()
      .field("id", "cmp_1")
      .field("count", 3)
      .field("ok", true)
      .key("tags")
      .begin_array()
      .value("a")
      .value(int64_t{-9007199254740993})
      .begin_object()
      .end_object()
      .begin_array()
      .end_array()
      .null()
      .end_array()
      .key("nested")
      .begin_object()
      .field("x", false)
      .key("y")
      .begin_object()
      .field("z", uint32_t{4000000000})
      .end_object()
      .end_object()
      .end_object();
  CHECK(w.str() == R"({"id":"cmp_1","count":3,"ok":true,"tags":["a",-9007199254740993,{},[],null],)"
                   R"("nested":{"x":false,"y":{"z":4000000000}}})");
}

TEST_CASE("JsonWriter empty containers and top-level values") {
  CHECK(JsonWriter().begin_object().end_object().str() == "{}");
  CHECK(JsonWriter().begin_array().end_array().str() == "[]");
  CHECK(JsonWriter().value("x").str() == R"("x")");
  CHECK(JsonWriter().value(std::string("s")).str() == R"("s")");
  CHECK(JsonWriter().value(7).str() == "7");
  CHECK(JsonWriter().null().str() == "null");
  JsonWriter w;
  w.begin_array()
      .begin_array()
      .value(1)
      .end_array()
      .begin_array()
      .value(2)
      .value(3)
      .end_array()
      .end_array();
  CHECK(w.take() == "[[1],[2,3]]");
}

TEST_CASE("JsonWriter optional fields write null when empty") {
  const std::optional<std::string> name = "Ada";
  const std::optional<std::string> none;
  const std::optional<int64_t> n = 42;
  const std::optional<int64_t> no_n;
  JsonWriter w;
  w.begin_object()
      .field("name", name)
      .field("none", none)
      .field("n", n)
      .field("no_n", no_n)
      .end_object();
  CHECK(w.str() == R"({"name":"Ada","none":null,"n":42,"no_n":null})");
}

TEST_CASE("JsonWriter raw inserts pre-encoded JSON as one value") {
  JsonWriter w;
  w.begin_object()
      .key("a")
      .raw(R"({"b":[1,2]})")
      .field("c", 1)
      .key("d")
      .begin_array()
      .raw("true")
      .raw("2")
      .end_array()
      .end_object();
  CHECK(w.str() == R"({"a":{"b":[1,2]},"c":1,"d":[true,2]})");
}

TEST_CASE("JsonWriter doubles are shortest round-trip; non-finite become null") {
  auto one = [](double d) { return JsonWriter().value(d).take(); };
  CHECK(one(0.1) == "0.1");
  CHECK(one(1.5) == "1.5");
  CHECK(one(-2.25) == "-2.25");
  CHECK(one(1.0) == "1");
  CHECK(one(0.30000000000000004) == "0.30000000000000004");
  CHECK(one(1e300) == "1e+300");
  CHECK(one(std::numeric_limits<double>::infinity()) == "null");
  CHECK(one(-std::numeric_limits<double>::infinity()) == "null");
  CHECK(one(std::numeric_limits<double>::quiet_NaN()) == "null");
  JsonWriter w;
  w.begin_array().value(0.5).value(std::numeric_limits<double>::quiet_NaN()).value(2.5).end_array();
  CHECK(w.str() == "[0.5,null,2.5]");
}

TEST_CASE("strings and keys are escaped per RFC 8259") {
  auto quoted = [](std::string_view s) {
    std::string out = "prefix:";
    append_json_string(out, s);
    return out;
  };
  CHECK(quoted("plain") == R"(prefix:"plain")");
  CHECK(quoted("") == R"(prefix:"")");
  CHECK(quoted("say \"hi\"") == R"(prefix:"say \"hi\"")");
  CHECK(quoted("C:\\dir") == R"(prefix:"C:\\dir")");
  CHECK(quoted("a\nb\rc\td\be\ff") == R"(prefix:"a\nb\rc\td\be\ff")");
  CHECK(quoted(std::string_view("\x00\x01\x1f\x7f", 4)) == "prefix:\"\\u0000\\u0001\\u001f\x7f\"");
  CHECK(quoted("/") == R"(prefix:"/")");
  // UTF-8 passes through unchanged.
  CHECK(quoted("héllo € 😀") == "prefix:\"héllo € 😀\"");

  JsonWriter w;
  w.begin_object().field("k\"ey\n", "v\\al").end_object();
  CHECK(w.str() == R"({"k\"ey\n":"v\\al"})");
}

TEST_CASE("invalid UTF-8 is written as U+FFFD, so the output is always valid JSON") {
  auto quoted = [](std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
  };
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(quoted("\xFF") == "\"" + fffd + "\"");                        // a path segment's %FF
  CHECK(quoted("ab\xC3") == "\"ab" + fffd + "\"");                    // cut short at the end
  CHECK(quoted("\xC3\x28x") == "\"" + fffd + "(x\"");                 // a bad continuation
  CHECK(quoted("\xC0\xAF") == "\"" + fffd + fffd + "\"");             // overlong '/'
  CHECK(quoted("\xED\xA0\x80") == "\"" + fffd + fffd + fffd + "\"");  // a surrogate
  CHECK(quoted("\xF4\x90\x80\x80") == "\"" + fffd + fffd + fffd + fffd + "\"");  // > U+10FFFF
  // Long runs take the 8-byte path: the bad byte is found wherever it sits.
  CHECK(quoted("0123456789abcdef\xFE"
               "0123456789") == "\"0123456789abcdef" + fffd + "0123456789\"");
  CHECK(quoted("0123456789abcdef日本") == "\"0123456789abcdef日本\"");
  JsonWriter w;
  w.begin_object().field("\xFF", "ok\x80").end_object();
  CHECK(w.str() == "{\"" + fffd + "\":\"ok" + fffd + "\"}");
}

}  // namespace
}  // namespace pulse
