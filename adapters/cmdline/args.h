#pragma once
// Command-line flags as pulse's sub-commands take them ("--name value", "--name=value", and
// valueless flags), shared by the CLI, the benchmark and the gateway simulator.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/result.h"

namespace pulse::cmdline {

struct Args {
  std::map<std::string, std::string> values;
  std::vector<std::string> flags;
  bool has(const std::string& k) const;
  std::string get(const std::string& k, const std::string& fallback = {}) const;
};

// "--name value", "--name=value", and the valueless flags pulse knows. Prints what is wrong
// and returns nullopt on a malformed command line.
std::optional<Args> parse_args(int argc, char** argv, int first);
// Prints "pulse: <message>: <details>" and returns 1.
int fail(const Error& e);
std::optional<int> parse_int(const std::string& s);

}  // namespace pulse::cmdline
