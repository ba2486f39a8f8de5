#include "domain/template.h"

#include <doctest/doctest.h>

#include <string>

namespace pulse {
namespace {

Template parse(std::string_view text) {
  auto r = parse_template(text);
  REQUIRE_MESSAGE(r.ok(), r.error().details);
  return *r;
}

std::string parse_error(std::string_view text) {
  auto r = parse_template(text);
  REQUIRE(!r.ok());
  CHECK(r.error().code == Errc::validation);
  CHECK(r.error().message == "Invalid message template");
  return r.error().details;
}

TEST_CASE("parse_template splits literals and variables") {
  const Template t = parse("Hi {{firstName}}, your code is {{ code }}.");
  REQUIRE(t.parts.size() == 5);
  CHECK_FALSE(t.parts[0].is_var);
  CHECK(t.parts[0].text == "Hi ");
  CHECK(t.parts[1].is_var);
  CHECK(t.parts[1].text == "firstName");
  CHECK(t.parts[2].text == ", your code is ");
  CHECK(t.parts[3].is_var);
  CHECK(t.parts[3].text == "code");
  CHECK(t.parts[4].text == ".");
  CHECK(t.has_variables());
}

TEST_CASE("parse_template accepts the documented name characters") {
  for (const char* name : {"a", "_x", "first_name", "custom.plan", "order-id", "A1", "x.y-z_9"}) {
    CAPTURE(name);
    const Template t = parse(std::string("{{") + name + "}}");
    REQUIRE(t.parts.size() == 1);
    CHECK(t.parts[0].is_var);
    CHECK(t.parts[0].text == name);
  }
  const Template spaced = parse("{{\t name  }}");
  REQUIRE(spaced.parts.size() == 1);
  CHECK(spaced.parts[0].text == "name");
}

TEST_CASE("text without variables is one literal part") {
  const Template t = parse("Sale ends { today } } and }} tomorrow {x}");
  REQUIRE(t.parts.size() == 1);
  CHECK_FALSE(t.parts[0].is_var);
  CHECK(t.parts[0].text == "Sale ends { today } } and }} tomorrow {x}");
  CHECK_FALSE(t.has_variables());
  CHECK(parse("").parts.empty());
  CHECK_FALSE(parse("").has_variables());
}

TEST_CASE("adjacent variables") {
  const Template t = parse("{{a}}{{b}}");
  REQUIRE(t.parts.size() == 2);
  CHECK(t.parts[0].text == "a");
  CHECK(t.parts[1].text == "b");
  CHECK(render(t, {{"a", "1"}, {"b", "2"}}) == "12");
}

TEST_CASE("parse_template reports errors with a 1-based character position") {
  CHECK(parse_error("Hi {{firstName") == "unclosed '{{' at character 4");
  CHECK(parse_error("{{") == "unclosed '{{' at character 1");
  CHECK(parse_error("{{a}} then {{b") == "unclosed '{{' at character 12");
  // Positions count characters, not bytes.
  CHECK(parse_error("héllo {{x") == "unclosed '{{' at character 7");
  CHECK(parse_error("Hi {{}}") == "empty variable name at character 4");
  CHECK(parse_error("Hi {{   }}") == "empty variable name at character 4");
  CHECK(parse_error("{{first name}}") == "invalid variable name 'first name' at character 1");
  CHECK(parse_error("x{{1st}}") == "invalid variable name '1st' at character 2");
  CHECK(parse_error("{{.a}}") == "invalid variable name '.a' at character 1");
  CHECK(parse_error("{{a$}}") == "invalid variable name 'a$' at character 1");
  CHECK(parse_error("{{{a}}}") == "invalid variable name '{a' at character 1");
}

TEST_CASE("render substitutes variables; missing ones render empty") {
  const Template t = parse("Hi {{firstName}} {{lastName}}! Plan: {{custom.plan}}");
  const TemplateVars vars = {{"firstName", "Ada"}, {"lastName", "Lovelace"}, {"unused", "x"}};
  CHECK(render(t, vars) == "Hi Ada Lovelace! Plan: ");
  CHECK(render(t, {}) == "Hi  ! Plan: ");
  // Values are inserted verbatim, never parsed as templates themselves.
  CHECK(render(parse("{{a}}"), {{"a", "{{b}}"}, {"b", "no"}}) == "{{b}}");
  CHECK(render(parse("plain {text}"), {}) == "plain {text}");
  CHECK(render(parse(""), {}).empty());
}

}  // namespace
}  // namespace pulse
