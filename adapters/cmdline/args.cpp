#include "adapters/cmdline/args.h"

#include <algorithm>

#include "fmt/format.h"

namespace pulse::cmdline {

bool Args::has(const std::string& k) const {
  return values.count(k) || std::find(flags.begin(), flags.end(), k) != flags.end();
}

std::string Args::get(const std::string& k, const std::string& fallback) const {
  auto it = values.find(k);
  return it == values.end() ? fallback : it->second;
}

namespace {

const std::vector<std::string> kBoolFlags = {"--quiet",     "--allow-private-webhooks",
                                             "--verify",    "--quick",
                                             "--follow",    "--swap",
                                             "--read-only", "--check-args"};

}  // namespace

std::optional<Args> parse_args(int argc, char** argv, int first) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (!s.starts_with("--")) {
      fmt::print(stderr, "pulse: unexpected argument '{}'\n", s);
      return std::nullopt;
    }
    if (auto eq = s.find('='); eq != std::string::npos) {
      a.values[s.substr(0, eq)] = s.substr(eq + 1);
    } else if (std::find(kBoolFlags.begin(), kBoolFlags.end(), s) != kBoolFlags.end()) {
      a.flags.push_back(s);
    } else if (i + 1 < argc) {
      a.values[s] = argv[++i];
    } else {
      fmt::print(stderr, "pulse: {} needs a value\n", s);
      return std::nullopt;
    }
  }
  return a;
}

int fail(const Error& e) {
  fmt::print(stderr, "pulse: {}: {}\n", e.message, e.details);
  return 1;
}

std::optional<int> parse_int(const std::string& s) {
  try {
    size_t used = 0;
    int v = std::stoi(s, &used);
    if (used != s.size()) return std::nullopt;
    return v;
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace pulse::cmdline
