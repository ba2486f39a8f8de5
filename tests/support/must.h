#pragma once
// A test's setup step that must succeed: its value, or the test stops with the error.
#include <doctest/doctest.h>

#include <utility>

#include "domain/result.h"

namespace pulse::testing {

template <class T>
T must(Result<T> r) {
  if (!r) FAIL(r.error().message << ": " << r.error().details);
  return std::move(r).value();
}

}  // namespace pulse::testing
