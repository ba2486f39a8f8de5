#pragma once
// RFC 4180 CSV for contact imports: comma separated, fields optionally in double quotes ("" is
// a quote inside them, and they may span lines), CRLF or LF line ends, a leading UTF-8 BOM
// skipped. Pure: no I/O.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/result.h"
#include "domain/text.h"  // valid_utf8, sanitize_utf8

namespace pulse {

struct CsvRecord {
  int64_t line = 0;  // the line the record starts on (1: the first line of the file)
  std::vector<std::string> fields;
  std::string error;  // a problem of this record only (a stray quote); empty when none
};

// The records of `text`, blank lines left out. A file that can't be read as CSV text is an
// error (Errc::validation): NUL bytes or a UTF-16 byte order mark (not UTF-8 text), or a quoted
// field that is never closed (unbalanced quotes). Invalid UTF-8 inside a field is left for the
// caller to judge per record (see valid_utf8).
Result<std::vector<CsvRecord>> parse_csv(std::string_view text);

}  // namespace pulse
