#pragma once
// Expected failures are values: an Errc, a message for the client, and details.
#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "domain/time.h"

namespace pulse {

enum class Errc {
  validation,      // 400
  unauthorized,    // 401
  forbidden,       // 403
  not_found,       // 404
  conflict,        // 409
  rate_limited,    // 429
  quota_exceeded,  // 429
  unavailable,     // 503
  internal,        // 500
};

std::string_view to_string(Errc code);
bool errc_from_string(std::string_view s, Errc& out);

// A monthly allowance as it stood when a request exceeded it (Errc::quota_exceeded): the API
// shows it as the error's limit, remaining and resetAt fields and as X-Quota-* headers.
struct QuotaState {
  int64_t limit = 0;
  int64_t remaining = 0;
  TimePoint reset_at;  // when the allowance starts again: the next month, UTC
  auto operator<=>(const QuotaState&) const = default;
  template <class Self, class F>
  static void fields(Self& s, F&& f) {
    f("limit", s.limit), f("remaining", s.remaining), f("resetAt", s.reset_at);
  }
};

struct Error {
  Errc code = Errc::internal;
  std::string message;                 // the documented "error" field
  std::string details;                 // the documented "details" field
  std::optional<QuotaState> quota;     // for quota_exceeded: the allowance's numbers
  std::optional<int64_t> retry_after;  // seconds, for a throttled request (Retry-After)
};

inline Error validation_error(std::string message, std::string details = {}) {
  return Error{Errc::validation, std::move(message), std::move(details)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit on purpose
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> v_;
};

struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() {
  return Unit{};
}

}  // namespace pulse
