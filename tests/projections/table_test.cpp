#include "projections/table.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace pulse::projections {
namespace {

// Values are their own bytes: the scan loop without a JSON codec.
struct Text {
  std::string s;
};
Result<Text> decode_text(std::string_view b) {
  return Text{std::string(b)};
}
std::string encode_text(const Text& t) {
  return t.s;
}
using TextCodec = CodecSet<Text>;

TextCodec text_codec() {
  TextCodec c;
  c.of<Text>() = CodecFor<Text>{&encode_text, &decode_text};
  return c;
}

std::vector<std::string> texts(const ScanPage<Text>& page) {
  std::vector<std::string> out;
  for (const auto& t : page.values) out.push_back(t.s);
  return out;
}

bool all(std::string_view, const Text&) {
  return true;
}

MemoryKv sample() {
  MemoryKv kv;
  for (const auto* k : {"a/1", "b/1", "b/2", "b/3", "b/4", "c/1"}) kv.put(k, k);
  return kv;
}

TEST_CASE("scan_page: forward and reverse, after a start, within a limit") {
  auto kv = sample();
  const auto codec = text_codec();
  const Prefix<Text> b{"b/"};
  auto page = scan_page(kv, codec, b, ScanRange{}, all);
  REQUIRE(page.ok());
  CHECK(texts(*page) == std::vector<std::string>{"b/1", "b/2", "b/3", "b/4"});
  CHECK(page->complete);

  ScanRange r;
  r.reverse = true;
  page = scan_page(kv, codec, b, r, all);
  CHECK(texts(*page) == std::vector<std::string>{"b/4", "b/3", "b/2", "b/1"});

  r.start = "b/3";  // strictly before it
  r.limit = 1;
  page = scan_page(kv, codec, b, r, all);
  CHECK(texts(*page) == std::vector<std::string>{"b/2"});
  CHECK_FALSE(page->complete);
  CHECK(page->last_key == "b/2");

  ScanRange from;
  from.start = "b/2";
  from.after = false;  // the start itself included
  from.end = "b/3";
  page = scan_page(kv, codec, b, from, all);
  CHECK(texts(*page) == std::vector<std::string>{"b/2", "b/3"});
  CHECK(page->complete);
}

TEST_CASE("scan_page: a filter, a bound on the entries visited, an error from the filter") {
  auto kv = sample();
  const auto codec = text_codec();
  const Prefix<Text> b{"b/"};
  ScanRange r;
  r.max_visited = 3;
  auto page = scan_page(kv, codec, b, r,
                        [](std::string_view key, const Text&) { return key.back() != '2'; });
  REQUIRE(page.ok());
  CHECK(texts(*page) == std::vector<std::string>{"b/1", "b/3"});
  CHECK_FALSE(page->complete);
  CHECK(page->last_key == "b/3");

  auto failed = scan_page(kv, codec, b, ScanRange{}, [](std::string_view, const Text&) {
    return Result<bool>(Error{Errc::internal, "x", "y"});
  });
  CHECK_FALSE(failed.ok());
}

TEST_CASE("MemoryKv: erase, erase_prefix, and a reverse scan from past the prefix") {
  auto kv = sample();
  kv.erase("b/1");
  CHECK_FALSE(kv.get("b/1")->has_value());
  CHECK(kv.get("b/2")->value() == "b/2");
  ScanRange r;
  r.reverse = true;
  r.start = "b/9";
  r.after = false;
  auto page = scan_page(kv, text_codec(), Prefix<Text>{"b/"}, r, all);
  CHECK(texts(*page) == std::vector<std::string>{"b/4", "b/3", "b/2"});
  REQUIRE(kv.erase_prefix("b/").ok());
  CHECK(kv.data().size() == 2);
}

}  // namespace
}  // namespace pulse::projections
