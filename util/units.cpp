#include "util/units.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <sstream>
#include <limits>

#include "util/error.h"
#include "util/text.h"

namespace moeplan {
namespace {

// Splits "80GiB" into 80 and "GiB"; throws when the numeric part is malformed.
double leading_number(const std::string& text, const std::string& what, std::string* suffix) {
  std::size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  if (start == text.size()) fail(what, ": expected a number, got an empty value");
  const char* begin = text.c_str() + start;
  char* end = nullptr;
  const double value = std::strtod(begin, &end);
  if (end == begin) fail(what, ": ", quoted_excerpt(text), " is not a number");
  // strtod accepts "nan", "inf" and hex floats: a user typing those made a mistake.
  for (const char* p = begin; p < end; ++p) {
    if (std::isalpha(static_cast<unsigned char>(*p)) && *p != 'e' && *p != 'E')
      fail(what, ": ", quoted_excerpt(text), " is not a finite number");
  }
  if (!std::isfinite(value)) fail(what, ": ", quoted_excerpt(text), " is not a finite number");
  std::string rest(end);
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back()))) rest.pop_back();
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front()))) rest.erase(0, 1);
  *suffix = rest;
  return value;
}

double require_positive(double value, const std::string& text, const std::string& what) {
  if (!(value > 0)) fail(what, ": must be positive, got ", quoted_excerpt(text));
  if (!std::isfinite(value)) fail(what, ": ", quoted_excerpt(text), " is too large");
  return value;
}

}  // namespace

double parse_number(const std::string& text, const std::string& what) {
  std::string suffix;
  const double value = leading_number(text, what, &suffix);
  if (!suffix.empty()) fail(what, ": ", quoted_excerpt(text), " is not a number");
  return value;
}

double parse_positive(const std::string& text, const std::string& what) {
  return require_positive(parse_number(text, what), text, what);
}

double parse_count(const std::string& text, const std::string& what) {
  std::string suffix;
  double value = leading_number(text, what, &suffix);
  if (suffix == "K" || suffix == "k") value *= 1e3;
  else if (suffix == "M") value *= 1e6;
  else if (suffix == "B" || suffix == "G") value *= 1e9;
  else if (suffix == "T") value *= 1e12;
  else if (!suffix.empty())
    fail(what, ": unknown suffix ", quoted_excerpt(suffix), " in ", quoted_excerpt(text),
         " (use K, M, B or T)");
  return require_positive(value, text, what);
}

double parse_bytes(const std::string& text, const std::string& what) {
  std::string suffix;
  double value = leading_number(text, what, &suffix);
  std::string unit;
  for (char c : suffix) unit += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  struct Unit {
    const char* name;
    double scale;
  };
  static const Unit units[] = {
      {"", 1},          {"B", 1},           {"KB", 1e3},        {"MB", 1e6},
      {"GB", 1e9},      {"TB", 1e12},       {"KIB", 1024.0},    {"MIB", 1048576.0},
      {"GIB", 1073741824.0}, {"TIB", 1099511627776.0}, {"K", 1024.0}, {"M", 1048576.0},
      {"G", 1073741824.0},   {"T", 1099511627776.0}};
  for (const auto& u : units) {
    if (unit == u.name) return require_positive(value * u.scale, text, what);
  }
  fail(what, ": unknown unit ", quoted_excerpt(suffix), " in ", quoted_excerpt(text),
       " (use GiB, GB, TiB, MiB, ...)");
}

std::int64_t parse_positive_int(const std::string& text, const std::string& what) {
  const double value = parse_positive(text, what);
  if (value != std::floor(value) || value > 9.0e18)
    fail(what, ": expected a positive whole number, got ", quoted_excerpt(text));
  return static_cast<std::int64_t>(value);
}

std::string format_sci(double value, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*e", digits - 1, value);
  return buf;
}

std::string format_count(double value) {
  const char* suffix = "";
  double scaled = value;
  if (std::fabs(value) >= 1e12) scaled = value / 1e12, suffix = "T";
  else if (std::fabs(value) >= 1e9) scaled = value / 1e9, suffix = "B";
  else if (std::fabs(value) >= 1e6) scaled = value / 1e6, suffix = "M";
  else if (std::fabs(value) >= 1e3) scaled = value / 1e3, suffix = "K";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3g%s", scaled, suffix);
  return buf;
}

std::string format_bytes(double bytes) {
  static const char* names[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int i = 0;
  while (std::fabs(bytes) >= 1024.0 && i < 5) bytes /= 1024.0, ++i;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f %s", bytes, names[i]);
  return buf;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(seconds + 0.5);
  std::ostringstream o;
  if (s >= 3600)
    o << s / 3600 << "h" << std::setw(2) << std::setfill('0') << (s / 60) % 60 << "m";
  else if (s >= 60)
    o << s / 60 << "m" << std::setw(2) << std::setfill('0') << s % 60 << "s";
  else
    o << s << "s";
  return o.str();
}

}  // namespace moeplan
