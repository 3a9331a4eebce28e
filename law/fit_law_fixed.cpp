#include "law/fit_law_fixed.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>
#include <utility>

#include "law/fit_law.h"
#include "util/error.h"
#include "util/text.h"
#include "util/units.h"

namespace moeplan::law {
namespace {

bool is_scale(const std::string& name) {
  return name == "a" || name == "b" || name == "c" || name == "d" || name == "e";
}

std::string joined(const std::vector<std::string>& names) {
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  return list;
}

std::vector<std::string> names_of(LawForm form) {
  std::vector<std::string> names;
  for (const auto& [name, value] : named_coefficients(Coefficients{}, form)) names.push_back(name);
  return names;
}

FixedCoefficient parse_one(const std::string& item, LawForm form) {
  const auto equals = item.find('=');
  if (equals == std::string::npos)
    fail("--fix: expected NAME=VALUE (e.g. e=1.6), got ", quoted_excerpt(item));
  const std::string name = item.substr(0, equals);
  const auto names = names_of(form);
  FixedCoefficient fixed;
  fixed.index = -1;
  for (std::size_t k = 0; k < names.size(); ++k)
    if (names[k] == name) fixed.index = static_cast<int>(k);
  if (fixed.index < 0) {
    const auto sparse = names_of(LawForm::kSparse);
    if (std::find(sparse.begin(), sparse.end(), name) != sparse.end())
      fail("--fix: the ", form_name(form), " form has no coefficient '", name, "' (it has ",
           joined(names), ")");
    fail("--fix: ", unknown_name_message("coefficient", name, names));
  }
  fixed.name = name;
  fixed.value = parse_number(item.substr(equals + 1), "--fix " + name);
  if ((is_scale(name) || name == "alpha" || name == "beta") && !(fixed.value > 0))
    fail("--fix: ", name, " must be > 0, got ", fixed.value);
  return fixed;
}

}  // namespace

FixedCoefficients parse_fixed_coefficients(const std::vector<std::string>& items, LawForm form) {
  FixedCoefficients fixed;
  for (const auto& argument : items) {
    std::istringstream in(argument);
    std::string item;
    while (std::getline(in, item, ',')) {
      if (item.empty()) continue;
      const FixedCoefficient one = parse_one(item, form);
      if (is_fixed(fixed, one.index)) fail("--fix: ", one.name, " is given twice");
      fixed.push_back(one);
    }
  }
  if (static_cast<int>(fixed.size()) >= parameter_count(form))
    fail("--fix: every coefficient of the ", form_name(form), " form is fixed; nothing to fit");
  return fixed;
}

double fixed_theta(const FixedCoefficient& fixed) {
  return is_scale(fixed.name) ? std::log(fixed.value) : fixed.value;
}

bool is_fixed(const FixedCoefficients& fixed, int index) {
  for (const auto& f : fixed)
    if (f.index == index) return true;
  return false;
}

bool is_fixed(const FixedCoefficients& fixed, const std::string& name) {
  for (const auto& f : fixed)
    if (f.name == name) return true;
  return false;
}

int free_parameter_count(LawForm form, const FixedCoefficients& fixed) {
  return parameter_count(form) - static_cast<int>(fixed.size());
}

Bounds pin_bounds(Bounds bounds, const FixedCoefficients& fixed) {
  for (const auto& f : fixed) bounds.lower[f.index] = bounds.upper[f.index] = fixed_theta(f);
  return bounds;
}

StartGrid pin_grid(StartGrid grid, const FixedCoefficients& fixed) {
  for (const auto& f : fixed) grid.axes[f.index] = {fixed_theta(f)};
  return grid;
}

std::vector<Theta> pin_starts(const std::vector<Theta>& starts, const FixedCoefficients& fixed) {
  if (fixed.empty()) return starts;
  std::vector<Theta> pinned;
  std::set<Theta> seen;
  for (Theta start : starts) {
    for (const auto& f : fixed) start[f.index] = fixed_theta(f);
    if (seen.insert(start).second) pinned.push_back(start);
  }
  return pinned;
}

void set_fixed(Coefficients& k, const FixedCoefficients& fixed) {
  const std::pair<const char*, double*> fields[] = {{"a", &k.a},         {"alpha", &k.alpha},
                                                    {"b", &k.b},         {"beta", &k.beta},
                                                    {"c", &k.c},         {"lambda", &k.lambda},
                                                    {"d", &k.d},         {"delta", &k.delta},
                                                    {"gamma", &k.gamma}, {"e", &k.e}};
  for (const auto& f : fixed)
    for (const auto& [name, field] : fields)
      if (f.name == name) *field = f.value;
}

}  // namespace moeplan::law
