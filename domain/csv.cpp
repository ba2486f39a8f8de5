#include "domain/csv.h"

#include "fmt/format.h"

namespace pulse {

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
