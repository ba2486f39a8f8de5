#pragma once
// A strict parser of the Prometheus text exposition format 0.0.4, for tests: HELP/TYPE lines,
// metric and label names, label value escaping, float values, families not interleaved,
// no duplicate series, and histogram consistency (_bucket with `le` ascending up to +Inf,
// cumulative counts, +Inf bucket == _count, _sum present). Throws std::runtime_error with the
// line number on the first violation.
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace pulse::testing::prometheus {

struct Sample {
  std::string name;  // as written (with _bucket/_sum/_count)
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Family {
  std::string type = "untyped";
  std::string help;
  std::vector<Sample> samples;
};

inline double parse_float(const std::string& s) {
  if (s == "NaN") return NAN;
  if (s == "+Inf" || s == "Inf") return INFINITY;
  if (s == "-Inf") return -INFINITY;
  static const std::regex number(R"([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)");
  if (!std::regex_match(s, number)) throw std::runtime_error("not a float: '" + s + "'");
  return std::strtod(s.c_str(), nullptr);
}

inline std::map<std::string, Family> parse(const std::string& text) {
  static const std::regex metric_name(R"([a-zA-Z_:][a-zA-Z0-9_:]*)");
  static const std::regex label_name(R"([a-zA-Z_][a-zA-Z0-9_]*)");
  std::map<std::string, Family> families;
  std::set<std::string> closed;  // families whose samples ended (no interleaving)
  std::string current;           // the family of the previous sample
  std::set<std::string> series;
  size_t line_no = 0;
  auto fail = [&](const std::string& why) {
    throw std::runtime_error("line " + std::to_string(line_no) + ": " + why);
  };
  if (!text.empty() && text.back() != '\n') throw std::runtime_error("no final newline");
  // The family a sample name belongs to: histograms own their _bucket/_sum/_count.
  auto family_of = [&](const std::string& name) {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string sfx(suffix);
      if (name.size() > sfx.size() && name.ends_with(sfx)) {
        auto base = name.substr(0, name.size() - sfx.size());
        if (auto it = families.find(base);
            it != families.end() &&
            (it->second.type == "histogram" || it->second.type == "summary"))
          return base;
      }
    }
    return name;
  };
  size_t pos = 0;
  while (pos < text.size()) {
    const auto eol = text.find('\n', pos);
    const std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::smatch m;
      static const std::regex help(R"(# HELP ([^ ]+) ?(.*))");
      static const std::regex type(R"(# TYPE ([^ ]+) (counter|gauge|histogram|summary|untyped))");
      if (std::regex_match(line, m, help)) {
        const auto name = m[1].str();
        if (!std::regex_match(name, metric_name)) fail("bad metric name in HELP: " + name);
        auto& f = families[name];
        if (!f.help.empty()) fail("second HELP for " + name);
        // Only \\ and \n are escapes in HELP text.
        const auto doc = m[2].str();
        for (size_t i = 0; i < doc.size(); ++i)
          if (doc[i] == '\\' && (i + 1 >= doc.size() || (doc[i + 1] != '\\' && doc[i + 1] != 'n')))
            fail("bad escape in HELP of " + name);
          else if (doc[i] == '\\')
            ++i;
        f.help = doc.empty() ? " " : doc;
      } else if (line.starts_with("# TYPE")) {
        if (!std::regex_match(line, m, type)) fail("bad TYPE line: " + line);
        const auto name = m[1].str();
        if (!std::regex_match(name, metric_name)) fail("bad metric name in TYPE: " + name);
        auto& f = families[name];
        if (!f.samples.empty()) fail("TYPE after samples of " + name);
        if (f.type != "untyped") fail("second TYPE for " + name);
        f.type = m[2].str();
      }
      continue;  // other comments are allowed
    }
    // name{labels} value [timestamp]
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    Sample s;
    s.name = line.substr(0, i);
    if (!std::regex_match(s.name, metric_name)) fail("bad metric name: '" + s.name + "'");
    std::string key;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (true) {
        if (i >= line.size()) fail("unterminated labels");
        if (line[i] == '}') {
          ++i;
          break;
        }
        size_t j = i;
        while (j < line.size() && line[j] != '=') ++j;
        const auto lname = line.substr(i, j - i);
        if (!std::regex_match(lname, label_name)) fail("bad label name: '" + lname + "'");
        if (j + 1 >= line.size() || line[j + 1] != '"') fail("label value not quoted");
        std::string value;
        size_t k = j + 2;
        for (;; ++k) {
          if (k >= line.size()) fail("unterminated label value");
          if (line[k] == '"') break;
          if (line[k] == '\\') {
            if (k + 1 >= line.size()) fail("dangling escape");
            const char e = line[++k];
            if (e == '\\')
              value += '\\';
            else if (e == '"')
              value += '"';
            else if (e == 'n')
              value += '\n';
            else
              fail(std::string("bad escape \\") + e);
          } else {
            value += line[k];
          }
        }
        if (s.labels.count(lname)) fail("duplicate label " + lname);
        s.labels[lname] = value;
        i = k + 1;
        if (i < line.size() && line[i] == ',')
          ++i;
        else if (i < line.size() && line[i] != '}')
          fail("expected , or } after a label");
      }
    }
    if (i >= line.size() || line[i] != ' ') fail("expected a space before the value");
    const auto rest = line.substr(i + 1);
    const auto space = rest.find(' ');
    s.value = parse_float(rest.substr(0, space));
    if (space != std::string::npos) {
      static const std::regex ts(R"(-?\d+)");
      if (!std::regex_match(rest.substr(space + 1), ts)) fail("bad timestamp");
    }
    const auto fam = family_of(s.name);
    if (fam != current) {
      if (closed.count(fam)) fail("samples of " + fam + " are interleaved with another family");
      if (!current.empty()) closed.insert(current);
      current = fam;
    }
    for (const auto& [k, v] : s.labels) key += k + "=" + v + ",";
    if (!series.insert(s.name + "{" + key + "}").second) fail("duplicate series " + s.name);
    families[fam].samples.push_back(std::move(s));
  }
  // Histograms: per label set (without le), buckets ascending up to +Inf, cumulative, and
  // consistent with _count; _sum present.
  for (const auto& [name, f] : families) {
    if (f.type != "histogram") continue;
    struct Series {
      std::vector<std::pair<double, double>> buckets;
      std::optional<double> sum, count;
    };
    std::map<std::map<std::string, std::string>, Series> by_labels;
    for (const auto& s : f.samples) {
      auto labels = s.labels;
      if (s.name == name + "_bucket") {
        if (!labels.count("le")) throw std::runtime_error(name + "_bucket without le");
        const double le = parse_float(labels.at("le"));
        labels.erase("le");
        by_labels[labels].buckets.emplace_back(le, s.value);
      } else if (s.name == name + "_sum") {
        by_labels[labels].sum = s.value;
      } else if (s.name == name + "_count") {
        by_labels[labels].count = s.value;
      } else {
        throw std::runtime_error("histogram " + name + " has a sample " + s.name);
      }
    }
    for (const auto& [labels, ser] : by_labels) {
      if (ser.buckets.empty() || !std::isinf(ser.buckets.back().first))
        throw std::runtime_error(name + ": last bucket is not +Inf");
      for (size_t k = 1; k < ser.buckets.size(); ++k) {
        if (!(ser.buckets[k].first > ser.buckets[k - 1].first))
          throw std::runtime_error(name + ": le not ascending");
        if (ser.buckets[k].second < ser.buckets[k - 1].second)
          throw std::runtime_error(name + ": bucket counts not cumulative");
      }
      if (!ser.sum || !ser.count) throw std::runtime_error(name + ": _sum or _count missing");
      if (*ser.count != ser.buckets.back().second)
        throw std::runtime_error(name + ": +Inf bucket differs from _count");
    }
  }
  return families;
}

}  // namespace pulse::testing::prometheus
