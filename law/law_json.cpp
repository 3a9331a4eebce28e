#include "law/law_json.h"

#include <cmath>

#include "util/error.h"
#include "util/json_text.h"
#include "util/text.h"

namespace moeplan::law {
namespace {

double number_at(const nlohmann::json& object, const char* key, const std::string& where) {
  if (!object.contains(key)) fail(where, ": missing coefficient '", key, "'");
  const auto& v = object.at(key);
  if (!v.is_number()) fail(where, ": '", key, "' must be a number");
  const double x = v.get<double>();
  if (!std::isfinite(x)) fail(where, ": '", key, "' must be finite");
  return x;
}

std::optional<Range> range_at(const nlohmann::json& domain, const char* key,
                              const std::string& where) {
  if (!domain.contains(key)) return std::nullopt;
  const auto& v = domain.at(key);
  if (!v.is_array() || v.size() != 2 || !v[0].is_number() || !v[1].is_number())
    fail(where, ": domain '", key, "' must be [low, high]");
  Range r{v[0].get<double>(), v[1].get<double>()};
  if (!(r.lo <= r.hi)) fail(where, ": domain '", key, "' has low > high");
  return r;
}

Coefficients coefficients_from_json(const nlohmann::json& c, LawForm form,
                                    const std::string& where) {
  if (!c.is_object()) fail(where, ": 'coefficients' must be an object");
  Coefficients k;
  k.a = number_at(c, "a", where);
  k.b = number_at(c, "b", where);
  k.e = number_at(c, "e", where);
  k.alpha = number_at(c, "alpha", where);
  k.beta = number_at(c, "beta", where);
  if (form == LawForm::kSparse) {
    k.c = number_at(c, "c", where);
    k.d = number_at(c, "d", where);
    k.lambda = number_at(c, "lambda", where);
    k.delta = number_at(c, "delta", where);
    k.gamma = number_at(c, "gamma", where);
  }
  return k;
}

nlohmann::json range_json(const Range& r) { return nlohmann::json::array({r.lo, r.hi}); }

}  // namespace

nlohmann::json coefficients_to_json(const Coefficients& k, LawForm form) {
  nlohmann::json c = {{"a", k.a}, {"b", k.b}, {"e", k.e}, {"alpha", k.alpha}, {"beta", k.beta}};
  if (form == LawForm::kSparse) {
    c["c"] = k.c;
    c["d"] = k.d;
    c["lambda"] = k.lambda;
    c["delta"] = k.delta;
    c["gamma"] = k.gamma;
  }
  return c;
}

// The string at `key`, or `fallback` when absent; another type is an error (json.value would
// throw a type_error, not moeplan::Error).
static std::string optional_string(const nlohmann::json& json, const char* key,
                                   const std::string& fallback, const std::string& where) {
  if (!json.contains(key)) return fallback;
  if (!json.at(key).is_string()) fail(where, ": '", key, "' must be a string");
  return json.at(key).get<std::string>();
}

ScalingLaw law_from_json(const nlohmann::json& json, const std::string& origin) {
  const std::string where = "law " + quoted_excerpt(origin);
  if (!json.is_object()) fail(where, ": expected a JSON object");
  ScalingLaw law;
  law.name = optional_string(json, "name", origin, where);
  law.description = optional_string(json, "description", "", where);
  law.dataset = optional_string(json, "dataset", "", where);
  law.tokenizer = optional_string(json, "tokenizer", "", where);
  const std::string form = optional_string(json, "form", "", where);
  if (form == "abnar2025" || form == "sparse") law.form = LawForm::kSparse;
  else if (form == "chinchilla" || form == "dense") law.form = LawForm::kDense;
  else
    fail(where, ": 'form' must be \"abnar2025\" or \"chinchilla\", got ", quoted_excerpt(form));
  if (!json.contains("coefficients")) fail(where, ": missing 'coefficients'");
  law.coefficients = coefficients_from_json(json.at("coefficients"), law.form, where);
  if (json.contains("domain")) {
    const auto& d = json.at("domain");
    if (!d.is_object()) fail(where, ": 'domain' must be an object");
    law.domain.budget_flops = range_at(d, "budget_flops", where);
    law.domain.total_params = range_at(d, "total_params", where);
    law.domain.sparsity = range_at(d, "sparsity", where);
    law.domain.tokens = range_at(d, "tokens", where);
  }
  if (json.contains("bootstrap")) {
    const auto& samples = json.at("bootstrap");
    if (!samples.is_array()) fail(where, ": 'bootstrap' must be an array of coefficient objects");
    for (const auto& s : samples)
      law.bootstrap.push_back(coefficients_from_json(s, law.form, where + " bootstrap"));
  }
  validate(law);
  return law;
}

ScalingLaw law_from_json_text(const std::string& text, const std::string& origin) {
  return law_from_json(parse_json_text(text, "law " + quoted_excerpt(origin)), origin);
}

nlohmann::json law_to_json(const ScalingLaw& law) {
  nlohmann::json j;
  j["schema_version"] = kLawSchemaVersion;
  j["name"] = law.name;
  j["form"] = form_name(law.form);
  if (!law.description.empty()) j["description"] = law.description;
  if (!law.dataset.empty()) j["dataset"] = law.dataset;
  if (!law.tokenizer.empty()) j["tokenizer"] = law.tokenizer;
  j["coefficients"] = coefficients_to_json(law.coefficients, law.form);
  nlohmann::json domain = nlohmann::json::object();
  if (law.domain.budget_flops) domain["budget_flops"] = range_json(*law.domain.budget_flops);
  if (law.domain.total_params) domain["total_params"] = range_json(*law.domain.total_params);
  if (law.domain.sparsity) domain["sparsity"] = range_json(*law.domain.sparsity);
  if (law.domain.tokens) domain["tokens"] = range_json(*law.domain.tokens);
  j["domain"] = domain;
  if (!law.bootstrap.empty()) {
    j["bootstrap"] = nlohmann::json::array();
    for (const auto& k : law.bootstrap) j["bootstrap"].push_back(coefficients_to_json(k, law.form));
  }
  return j;
}

}  // namespace moeplan::law
