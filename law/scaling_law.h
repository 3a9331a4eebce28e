#pragma once
// The parametric scaling laws as data, and their evaluation.
//   sparse (Abnar et al. 2025, Eq. 6):  L(N,D,S) = a/N^α + b/D^β + c/(1-S)^λ + d/((1-S)^δ N^γ) + e
//   dense  (Hoffmann et al. 2022, Eq. 5 of the paper): L(N,D) = a/N^α + b/D^β + e
// N: total parameters (embeddings included, paper A.2); D: training tokens; S = (E-K)/E (Eq. 7).
#include <optional>
#include <string>
#include <vector>

namespace moeplan::law {

enum class LawForm { kSparse, kDense };

std::string form_name(LawForm form);  // "abnar2025" / "chinchilla"

struct Coefficients {
  double a = 0, b = 0, c = 0, d = 0, e = 0;
  double alpha = 0, beta = 0, lambda = 0, delta = 0, gamma = 0;
};

struct Range {
  double lo = 0, hi = 0;
  bool contains(double x) const { return x >= lo && x <= hi; }
};

// The region the coefficients were fitted on; a prediction outside it is an extrapolation.
struct FittedDomain {
  std::optional<Range> budget_flops;
  std::optional<Range> total_params;
  std::optional<Range> sparsity;
  std::optional<Range> tokens;
};

struct ScalingLaw {
  std::string name;         // "abnar2025", or the file it came from
  std::string description;  // one line: paper, table, data set
  LawForm form = LawForm::kSparse;
  Coefficients coefficients;
  FittedDomain domain;
  std::string dataset;    // e.g. "RedPajama v1"
  std::string tokenizer;  // e.g. "GPT-NeoX (50432)"
  // Bootstrap refits (law fit --bootstrap); empty for the published presets.
  std::vector<Coefficients> bootstrap;
};

// The five additive terms of Eq. 6 (sparsity terms are zero for the dense form).
struct LossTerms {
  double params = 0;       // a / N^α
  double data = 0;         // b / D^β
  double sparsity = 0;     // c / (1-S)^λ
  double interaction = 0;  // d / ((1-S)^δ N^γ)
  double irreducible = 0;  // e
  double total() const { return params + data + sparsity + interaction + irreducible; }
};

LossTerms loss_terms(const Coefficients& coefficients, LawForm form, double total_params,
                     double tokens, double sparsity);
LossTerms loss_terms(const ScalingLaw& law, double total_params, double tokens, double sparsity);
double predict_loss(const ScalingLaw& law, double total_params, double tokens, double sparsity);

// Percentile interval of the prediction over the law's bootstrap refits (e.g. level 0.9 gives the
// 5th and 95th percentiles); nullopt when the law carries no bootstrap samples.
std::optional<Range> predicted_loss_interval(const ScalingLaw& law, double total_params,
                                             double tokens, double sparsity, double level = 0.9);

// One quantity outside the fitted domain, for the report's warnings.
struct DomainWarning {
  std::string quantity;  // "budget_flops", "total_params", "sparsity", "tokens"
  double value = 0;
  Range fitted;
  std::string message;  // human sentence naming the quantity, its value and the fitted range
};

// Every quantity outside the law's fitted domain, term by term.
std::vector<DomainWarning> domain_warnings(const ScalingLaw& law, double budget_flops,
                                           double total_params, double tokens, double sparsity);

// Throws moeplan::Error when coefficients are not finite or the form needs a missing one.
void validate(const ScalingLaw& law);

}  // namespace moeplan::law
