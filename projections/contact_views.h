#pragma once
// Read models of contact lists. Included by read_model.h (ReadModelTx uses them).
#include <cstdint>
#include <map>
#include <string>

#include "domain/contacts.h"
#include "domain/ids.h"
#include "domain/time.h"

namespace pulse::projections {

struct ContactListView {
  static constexpr std::string_view kType = "ContactListView";
  static constexpr int kVersion = 1;
  ContactListId id;
  std::string name;
  int32_t contact_count = 0;
  TimePoint created_at;
  TimePoint updated_at;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("id", s.id), f("name", s.name), f("contactCount", s.contact_count),
        f("createdAt", s.created_at), f("updatedAt", s.updated_at);
  }
  auto operator<=>(const ContactListView&) const = default;
};

// One contact of a list, keyed by (list, phone).
struct ContactView {
  static constexpr std::string_view kType = "ContactView";
  static constexpr int kVersion = 2;  // v2: the contact's country and phoneType
  Contact contact;
  TimePoint created_at;
  TimePoint updated_at;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("contact", s.contact), f("createdAt", s.created_at), f("updatedAt", s.updated_at);
  }
  auto operator<=>(const ContactView&) const = default;
};

}  // namespace pulse::projections
