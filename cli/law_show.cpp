// moeplan law show NAME|FILE: a law's form, coefficients, fitted domain and provenance.
#include <cstdio>
#include <sstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "law/law_json.h"
#include "law/presets.h"
#include "planner/law_source.h"
#include "util/error.h"
#include "util/text.h"
#include "util/units.h"

namespace moeplan::cli {
namespace {

std::string formula(law::LawForm form) {
  return form == law::LawForm::kSparse
             ? "L(N,D,S) = a/N^alpha + b/D^beta + c/(1-S)^lambda + d/((1-S)^delta N^gamma) + e"
             : "L(N,D) = a/N^alpha + b/D^beta + e";
}

std::string number(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

std::string range(const std::optional<law::Range>& r, bool scientific) {
  if (!r) return "not stated";
  auto show = [&](double x) { return scientific ? format_sci(x) : number(x); };
  std::string text = "[";
  text.append(show(r->lo)).append(", ").append(show(r->hi)).append("]");
  return text;
}

std::string law_table(const law::ScalingLaw& law, const std::string& source) {
  std::ostringstream s;
  const auto& k = law.coefficients;
  s << "law          " << law.name << "\n";
  if (!law.description.empty()) s << "description  " << law.description << "\n";
  s << "source       " << source << "\n"
    << "form         " << law::form_name(law.form) << ": " << formula(law.form) << "\n"
    << "dataset      " << (law.dataset.empty() ? "not stated" : law.dataset) << "\n"
    << "tokenizer    " << (law.tokenizer.empty() ? "not stated" : law.tokenizer) << "\n\n"
    << "coefficients\n"
    << "  a      " << number(k.a) << "\n  alpha  " << number(k.alpha) << "\n"
    << "  b      " << number(k.b) << "\n  beta   " << number(k.beta) << "\n";
  if (law.form == law::LawForm::kSparse)
    s << "  c      " << number(k.c) << "\n  lambda " << number(k.lambda) << "\n"
      << "  d      " << number(k.d) << "\n  delta  " << number(k.delta) << "\n"
      << "  gamma  " << number(k.gamma) << "\n";
  s << "  e      " << number(k.e) << "\n\n"
    << "fitted domain\n"
    << "  budget C     " << range(law.domain.budget_flops, true) << "\n"
    << "  total N      " << range(law.domain.total_params, true) << "\n"
    << "  tokens D     " << range(law.domain.tokens, true) << "\n";
  if (law.form == law::LawForm::kSparse)
    s << "  sparsity S   " << range(law.domain.sparsity, false) << "\n";
  s << "\nbootstrap refits: " << law.bootstrap.size() << "\n";
  return s.str();
}

}  // namespace

int run_law_show(const std::vector<std::string>& args) {
  CommandSpec spec;
  spec.usage = "moeplan law show NAME|FILE [--format table|json] [-o FILE]";
  spec.description =
      "Prints a scaling law: its form, coefficients, fitted domain, data set, tokenizer and\n"
      "where it comes from. NAME is a compiled-in preset (abnar2025, hoffmann2022, epoch2024);\n"
      "FILE a law JSON file (a preset copy or the output of 'moeplan law fit').";
  spec.options.add_options()("law", po::value<std::string>(), "law preset or law JSON file")(
      "format", po::value<std::string>()->default_value("table"), "table | json")(
      "output,o", po::value<std::string>(), "write to FILE (atomically) instead of stdout");
  spec.positional.add("law", 1);
  const auto vm = parse_command(spec, args);
  if (!vm) return 0;
  if (!vm->count("law"))
    fail("name a law: moeplan law show NAME|FILE (presets: abnar2025, hoffmann2022, epoch2024)");
  const std::string format = (*vm)["format"].as<std::string>();
  if (format != "table" && format != "json")
    fail("--format must be table or json, got ", quoted_excerpt(format));
  const std::string output = vm->count("output") ? (*vm)["output"].as<std::string>() : "";
  check_output(output);
  const std::string name = (*vm)["law"].as<std::string>();
  const law::ScalingLaw law = planner::load_law(name);
  std::string source = law::is_preset(name) ? "preset (compiled in from presets/laws/" : "file ";
  source.append(name).append(law::is_preset(name) ? ".json)" : "");
  std::string text;
  if (format == "json") {
    nlohmann::json j = law::law_to_json(law);
    j["source"] = source;
    j["formula"] = formula(law.form);
    text = j.dump(2) + "\n";
  } else {
    text = law_table(law, source);
  }
  emit_output(output, text);
  return 0;
}

}  // namespace moeplan::cli
