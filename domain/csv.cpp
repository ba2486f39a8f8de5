#include "domain/csv.h"

#include "fmt/format.h"

namespace pulse {
namespace {

// The length of the valid UTF-8 sequence at s[i], or 0.
size_t utf8_len(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  uint32_t cp = 0;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const auto d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (d & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are invalid.
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
      (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
    return 0;
  return n;
}

}  // namespace

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto n = utf8_len(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto n = utf8_len(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

Result<std::vector<CsvRecord>> parse_csv(std::string_view text) {
  if (text.starts_with("\xFF\xFE") || text.starts_with("\xFE\xFF"))
    return validation_error("The file is not UTF-8 text",
                            "it starts with a UTF-16 byte order mark; save it as CSV UTF-8");
  if (text.find('\0') != std::string_view::npos)
    return validation_error("The file is not UTF-8 text",
                            "it contains NUL bytes; save it as CSV UTF-8");
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);

  std::vector<CsvRecord> out;
  CsvRecord rec;
  std::string field;
  int64_t line = 1;
  rec.line = 1;
  bool in_quotes = false;
  bool quoted = false;  // the current field was quoted (and closed)
  int64_t quote_line = 0;
  bool any = false;  // the record has any character
  auto end_field = [&] {
    rec.fields.push_back(std::move(field));
    field.clear();
    quoted = false;
  };
  auto end_record = [&] {
    end_field();
    const bool blank = !any;
    if (!blank) out.push_back(std::move(rec));
    rec = CsvRecord{};
    any = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
          quoted = true;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == ',') {
      any = true;
      end_field();
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_record();
      ++line;
      rec.line = line;
    } else if (c == '"') {
      any = true;
      if (field.empty() && !quoted) {
        in_quotes = true;
        quote_line = line;
      } else if (rec.error.empty()) {
        rec.error = "stray quote: a field with a quote must be quoted, with the quote doubled";
        field += c;
      } else {
        field += c;
      }
    } else {
      any = true;
      if (quoted && rec.error.empty())
        rec.error = "stray quote: text after the closing quote of a field";
      field += c;
    }
  }
  if (in_quotes)
    return validation_error(
        "Unbalanced quotes",
        fmt::format("the quoted field opened on line {} is never closed", quote_line));
  if (any || !field.empty()) end_record();
  return out;
}

}  // namespace pulse
