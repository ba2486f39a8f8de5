#pragma once
// Markers a record's fields() list may give a field, beside its JSON name, for the codec.
// Without a marker a field must be present (an optional may be null or absent).
namespace pulse::field {

// Added by a later version: a record written before it lacks the field (or holds null) and
// reads as the member's default.
struct Defaulted {};
inline constexpr Defaulted defaulted{};

// An optional written only when it holds a value: absent, rather than null, otherwise.
struct OmitEmpty {};
inline constexpr OmitEmpty omit_empty{};

}  // namespace pulse::field
