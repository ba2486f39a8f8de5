// CSV records for contact imports: quoting, line ends, line numbers, and what makes a record or
// the whole file unreadable.
#include "domain/csv.h"

#include <doctest/doctest.h>

using namespace pulse;

TEST_CASE("records, quoted fields across lines, and the line each record starts on") {
  auto r = parse_csv("a,b\r\n\"x\"\"y\",\"multi\nline\"\n\n,\nlast");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 4);
  CHECK((*r)[0].fields == std::vector<std::string>{"a", "b"});
  CHECK((*r)[1].fields == std::vector<std::string>{"x\"y", "multi\nline"});
  CHECK((*r)[1].line == 2);
  CHECK((*r)[2].line == 5);  // the blank line 4 is left out
  CHECK((*r)[2].fields == std::vector<std::string>{"", ""});
  CHECK((*r)[3].fields == std::vector<std::string>{"last"});
  CHECK((*r)[3].line == 6);
}

TEST_CASE("a stray quote spoils its record only; an unclosed quote spoils the file") {
  auto r = parse_csv("p,n\n1,Al\"ice\n2,\"Bob\"x\n3,ok\n");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 4);
  CHECK_FALSE((*r)[1].error.empty());
  CHECK_FALSE((*r)[2].error.empty());
  CHECK((*r)[3].error.empty());
  auto bad = parse_csv("p,n\n1,\"open\n2,x\n");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "Unbalanced quotes");
  CHECK(bad.error().details == "the quoted field opened on line 2 is never closed");
}

TEST_CASE("UTF-8: a BOM is skipped, UTF-16 and NUL bytes are not text") {
  auto r = parse_csv("\xEF\xBB\xBFphone\n+1\n");
  REQUIRE(r.ok());
  CHECK((*r)[0].fields[0] == "phone");
  CHECK_FALSE(parse_csv(std::string_view("\xFF\xFEp\0", 4)).ok());
  CHECK_FALSE(parse_csv(std::string_view("ph\0one", 6)).ok());
  CHECK(valid_utf8("Zoë 日本 🙂"));
  CHECK_FALSE(valid_utf8("\xC3\x28"));
  CHECK_FALSE(valid_utf8("\xC0\xAF"));      // overlong
  CHECK_FALSE(valid_utf8("\xED\xA0\x80"));  // a surrogate
  CHECK(sanitize_utf8("a\xC3\x28z") == "a\xEF\xBF\xBD(z");
}
