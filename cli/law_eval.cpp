// moeplan law eval: Eq. 6 (or a dense law) at given N, D, S, term by term, with domain warnings.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "planner/law_source.h"
#include "util/error.h"
#include "util/text.h"
#include "util/units.h"

namespace moeplan::cli {
namespace {

std::string fixed(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", x);
  return buf;
}

}  // namespace

int run_law_eval(const std::vector<std::string>& args) {
  CommandSpec spec;
  spec.usage =
      "moeplan law eval [--law NAME|FILE] --params N --tokens D [--sparsity S] [--budget C] "
      "[--format table|json]";
  spec.description =
      "Evaluates a scaling law at total parameters N, training tokens D and sparsity S\n"
      "(Abnar et al. 2025, Eq. 6: L = a/N^alpha + b/D^beta + c/(1-S)^lambda\n"
      "+ d/((1-S)^delta N^gamma) + e): the loss, each of its five terms, the bootstrap interval\n"
      "when the law has one, and every quantity outside the law's fitted domain.";
  spec.options.add_options()("law", po::value<std::string>()->default_value("abnar2025"),
                             "law preset or law JSON file")(
      "params", po::value<std::string>(), "total parameters N (embeddings included), e.g. 2e9")(
      "tokens", po::value<std::string>(), "training tokens D, e.g. 4e10")(
      "sparsity", po::value<std::string>(), "sparsity S = 1 - K/E in [0, 1) (default 0)")(
      "budget", po::value<std::string>(), "budget C in FLOPs, only for the domain check")(
      "format", po::value<std::string>()->default_value("table"), "table | json")(
      "output,o", po::value<std::string>(), "write to FILE (atomically) instead of stdout");
  const auto vm = parse_command(spec, args);
  if (!vm) return 0;
  const std::string format = (*vm)["format"].as<std::string>();
  if (format != "table" && format != "json")
    fail("--format must be table or json, got ", quoted_excerpt(format));
  const std::string output = vm->count("output") ? (*vm)["output"].as<std::string>() : "";
  check_output(output);
  if (!vm->count("params")) fail("--params N is required");
  if (!vm->count("tokens")) fail("--tokens D is required");
  const double n = parse_count((*vm)["params"].as<std::string>(), "--params");
  const double d = parse_count((*vm)["tokens"].as<std::string>(), "--tokens");
  double s = 0;
  if (vm->count("sparsity")) {
    const std::string t = (*vm)["sparsity"].as<std::string>();
    s = parse_number(t, "--sparsity");
    if (s < 0 || s >= 1) fail("--sparsity must be in [0, 1), got ", quoted_excerpt(t));
  }
  std::optional<double> budget;
  if (vm->count("budget")) budget = parse_positive((*vm)["budget"].as<std::string>(), "--budget");
  const law::ScalingLaw law = planner::load_law((*vm)["law"].as<std::string>());
  const bool dense = law.form == law::LawForm::kDense;
  const law::LossTerms t = law::loss_terms(law, n, d, s);
  const auto interval = law::predicted_loss_interval(law, n, d, s);
  std::vector<law::DomainWarning> warnings;
  for (auto& w : law::domain_warnings(law, budget.value_or(0), n, d, s))
    if (budget || w.quantity != "budget_flops") warnings.push_back(w);

  std::string text;
  if (format == "json") {
    nlohmann::json j = {{"schema_version", 1},
                        {"law", law.name},
                        {"form", law::form_name(law.form)},
                        {"total_params", n},
                        {"tokens", d},
                        {"sparsity", dense ? 0.0 : s},
                        {"predicted_loss", t.total()},
                        {"terms",
                         {{"params", t.params},
                          {"data", t.data},
                          {"sparsity", t.sparsity},
                          {"interaction", t.interaction},
                          {"irreducible", t.irreducible}}}};
    if (budget) j["budget_flops"] = *budget;
    if (interval)
      j["predicted_loss_interval"] = {
          {"level", 0.9}, {"low", interval->lo}, {"high", interval->hi}};
    nlohmann::json list = nlohmann::json::array();
    for (const auto& w : warnings)
      list.push_back({{"quantity", w.quantity},
                      {"value", w.value},
                      {"fitted", {w.fitted.lo, w.fitted.hi}},
                      {"message", w.message}});
    j["domain_warnings"] = list;
    if (dense && s != 0) j["notes"] = {"the law is dense: sparsity is ignored"};
    text = j.dump(2) + "\n";
  } else {
    std::ostringstream o;
    o << "law " << law.name << " at N = " << format_sci(n) << ", D = " << format_sci(d);
    if (!dense) o << ", S = " << s;
    o << "\n  loss                      " << fixed(t.total());
    if (interval)
      o << "  (90% bootstrap " << fixed(interval->lo) << " - " << fixed(interval->hi) << ")";
    o << "\n  a/N^alpha                 " << fixed(t.params) << "\n  b/D^beta                  "
      << fixed(t.data);
    if (!dense)
      o << "\n  c/(1-S)^lambda            " << fixed(t.sparsity) << "\n  d/((1-S)^delta N^gamma)   "
        << fixed(t.interaction);
    o << "\n  e                         " << fixed(t.irreducible) << "\n";
    if (dense && s != 0) o << "note: the law is dense: sparsity is ignored\n";
    for (const auto& w : warnings) o << "warning: " << w.message << "\n";
    text = o.str();
  }
  emit_output(output, text);
  return 0;
}

}  // namespace moeplan::cli
