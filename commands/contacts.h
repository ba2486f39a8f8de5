#pragma once
// Contact lists: stateless validation of contacts and CSV imports (the HTTP layer's part), and
// the decider's part (lists exist; contacts are facts the projector merges by phone).
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/decider.h"
#include "domain/contacts.h"
#include "domain/phone.h"
#include "domain/result.h"

namespace pulse::commands {

inline constexpr size_t kMaxContactField = 200;  // bytes, per field

struct RawContact {
  std::string phone;
  std::string first_name;
  std::string last_name;
  std::string name;
  std::string email;
  std::map<std::string, std::string> fields;
};

// A contact with its phone in E.164, classified (country, type) by `phones`, or why not
// (details name the bad field). Numbers that can't receive SMS are refused.
Result<Contact> make_contact(const RawContact& raw, const PhoneParser& phones);

// A list name: 1..200 bytes, not blank.
Status check_list_name(std::string_view name);

struct ImportRejection {
  int64_t row = 0;    // the line of the file the record starts on (the header is line 1)
  std::string phone;  // as written (invalid UTF-8 replaced by U+FFFD)
  std::string error;
};

// A CSV file checked as a whole: the good rows (duplicates inside the file rejected, the first
// one kept) and the rejected ones. A file that is not readable CSV or has no phone column is
// an error, and nothing of it is imported.
struct ImportPlan {
  std::vector<int64_t> rows;  // the row of each contact
  std::vector<Contact> contacts;
  std::vector<ImportRejection> rejected;
};
Result<ImportPlan> plan_import(std::string_view csv, const PhoneParser& phones);

Result<std::vector<Event>> decide_contacts(const OrgState& org, const CommandEnvelope& cmd);
// Applies a contact event; `at` is its time (an import's last progress).
void evolve_contacts(OrgState& org, const Event& event, TimePoint at);

// The imports that staged nothing for config.gateway.import_timeout by `at`: discarded by the
// clock (their request died).
std::vector<Event> abandoned_imports(const DeciderConfig& config, const OrgState& org,
                                     TimePoint at);
// When the earliest open import times out, if any.
std::optional<TimePoint> next_import_timeout(const DeciderConfig& config, const OrgState& org);

}  // namespace pulse::commands
