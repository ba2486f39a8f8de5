#include "adapters/http/page_cache.h"

#include <doctest/doctest.h>

#include <memory>
#include <string>

using pulse::http::PageCache;

namespace {
std::shared_ptr<const std::string> body(size_t n, char c) {
  return std::make_shared<const std::string>(n, c);
}
}  // namespace

TEST_CASE("page cache: a page is served only at the version it was read at") {
  PageCache cache(1 << 20);
  CHECK(cache.get("a", 7) == nullptr);
  cache.put("a", 7, body(10, 'x'));
  REQUIRE(cache.get("a", 7) != nullptr);
  CHECK(*cache.get("a", 7) == std::string(10, 'x'));
  CHECK(cache.get("a", 8) == nullptr);  // the read models moved on
  CHECK(cache.get("b", 7) == nullptr);
  CHECK(cache.hits() == 2);

  // A slower request that read older views does not replace a newer page.
  cache.put("a", 9, body(10, 'y'));
  cache.put("a", 8, body(10, 'z'));
  CHECK(cache.get("a", 8) == nullptr);
  REQUIRE(cache.get("a", 9) != nullptr);
  CHECK(cache.get("a", 9)->front() == 'y');
  CHECK(cache.bytes() == 11);  // one entry: the body and its key
}

TEST_CASE("page cache: bounded by bytes, least recently used out first") {
  PageCache cache(8 * 1000);  // bodies over 1,000 bytes are not kept
  cache.put("big", 1, body(1001, 'b'));
  CHECK(cache.get("big", 1) == nullptr);
  for (int i = 0; i < 8; ++i) cache.put(std::to_string(i), 1, body(900, 'p'));
  CHECK(cache.get("0", 1) != nullptr);  // now the most recent
  cache.put("8", 1, body(900, 'p'));    // over the budget: "1" was used least recently
  CHECK(cache.bytes() <= 8 * 1000);
  CHECK(cache.get("1", 1) == nullptr);
  CHECK(cache.get("0", 1) != nullptr);
  CHECK(cache.get("8", 1) != nullptr);
}

TEST_CASE("page cache: a cache of 0 bytes is disabled and keeps nothing") {
  PageCache off(0);
  CHECK_FALSE(off.enabled());
  off.put("a", 1, body(10, 'x'));
  CHECK(off.get("a", 1) == nullptr);
  CHECK(off.bytes() == 0);
  CHECK(PageCache(1).enabled());
}
