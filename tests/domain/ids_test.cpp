#include "domain/ids.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <vector>

namespace pulse {
namespace {

TEST_CASE("make_id encodes time then entropy in lower-case Crockford base32") {
  CHECK(make_id("cmp", from_unix_ms(0), 0) == "cmp_0000000000000000");
  CHECK(make_id("msg", from_unix_ms(1), 31) == "msg_000000000100000z");
  // 32 = "10" in base32; 1024 = "100".
  CHECK(make_id("org", from_unix_ms(32), 1024) == "org_0000000010000100");
  // Only the low 30 bits of entropy are used.
  CHECK(make_id("org", from_unix_ms(0), (uint64_t{1} << 30) | 5) == "org_0000000000000005");
  CHECK(make_id("org", from_unix_ms(0), (uint64_t{1} << 30) - 1) == "org_0000000000zzzzzz");
  // The largest time that fits in 50 bits.
  CHECK(make_id("wh", from_unix_ms((int64_t{1} << 50) - 1), 0) == "wh_zzzzzzzzzz000000");
  const std::string id = make_id(id_prefix::campaign, from_unix_ms(1775041203123), 0x2a5f3c1);
  CHECK(id.size() == 4 + 16);
  CHECK(is_valid_id(id_prefix::campaign, id));
}

TEST_CASE("ids sort by time") {
  std::vector<std::string> ids;
  std::vector<int64_t> times = {0, 1, 31, 32, 1000, 1775041203123, 1775041203124, 4102444799999};
  for (size_t i = 0; i < times.size(); ++i) {
    // Entropy deliberately decreasing, so only the time part can make the order right.
    ids.push_back(make_id("msg", from_unix_ms(times[i]), 0x3fffffff - i));
  }
  CHECK(std::is_sorted(ids.begin(), ids.end()));
  for (size_t i = 0; i < times.size(); ++i) CHECK(id_time(ids[i]) == from_unix_ms(times[i]));
}

TEST_CASE("derive_id appends the index to the parent's body") {
  const std::string parent = make_id("cmp", from_unix_ms(1775041203123), 12345);
  const std::string body = parent.substr(4);
  CHECK(derive_id("msg", parent, 0) == "msg_" + body + "0000");
  CHECK(derive_id("msg", parent, 33) == "msg_" + body + "0011");
  CHECK(derive_id("msg", parent, (1u << 20) - 1) == "msg_" + body + "zzzz");

  std::set<std::string> seen;
  for (uint32_t i = 0; i < 5000; ++i) {
    const std::string child = derive_id("msg", parent, i);
    CHECK(is_valid_id("msg", child));
    seen.insert(child);
  }
  CHECK(seen.size() == 5000);
  // Children keep the parent's time, and derive again once more (a 24-character body).
  const std::string child = derive_id("msg", parent, 7);
  CHECK(id_time(child) == from_unix_ms(1775041203123));
  const std::string grandchild = derive_id("dvc", child, 9);
  CHECK(grandchild.size() == 4 + 24);
  CHECK(is_valid_id("dvc", grandchild));
}

TEST_CASE("is_valid_id") {
  const std::string id = make_id("cmp", from_unix_ms(1775041203123), 99);
  CHECK(is_valid_id("cmp", id));
  CHECK_FALSE(is_valid_id("msg", id));
  CHECK_FALSE(is_valid_id("cm", id));
  CHECK_FALSE(is_valid_id("cmp", "CMP_" + id.substr(4)));
  std::string upper = id;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK_FALSE(is_valid_id("cmp", "cmp_" + upper.substr(4)));
  CHECK_FALSE(is_valid_id("cmp", "cmp_0000000000000"));              // 13 characters
  CHECK_FALSE(is_valid_id("cmp", "cmp_000000000000000"));            // 15 characters
  CHECK(is_valid_id("cmp", "cmp_0000000000000000"));                 // 16
  CHECK(is_valid_id("cmp", "cmp_000000000000000000000000"));         // 24
  CHECK_FALSE(is_valid_id("cmp", "cmp_0000000000000000000000000"));  // 25
  // i, l, o and u are not in the alphabet.
  CHECK_FALSE(is_valid_id("cmp", "cmp_000000000000000i"));
  CHECK_FALSE(is_valid_id("cmp", "cmp_000000000000000l"));
  CHECK_FALSE(is_valid_id("cmp", "cmp_000000000000000o"));
  CHECK_FALSE(is_valid_id("cmp", "cmp_000000000000000u"));
  CHECK_FALSE(is_valid_id("cmp", "cmp-0000000000000000"));
  CHECK_FALSE(is_valid_id("cmp", "cmp_"));
  CHECK_FALSE(is_valid_id("cmp", ""));
  CHECK_FALSE(is_valid_id("cmp", "cmp_00000000_0000000"));
}

TEST_CASE("id_time rejects what is not an id") {
  CHECK(id_time("cmp_0000000010000100") == from_unix_ms(32));
  CHECK_FALSE(id_time("").has_value());
  CHECK_FALSE(id_time("0000000010000100").has_value());
  CHECK_FALSE(id_time("_0000000010000100").has_value());
  CHECK_FALSE(id_time("cmp_00000000100").has_value());
  CHECK_FALSE(id_time("cmp_000000001000010U").has_value());
}

}  // namespace
}  // namespace pulse
