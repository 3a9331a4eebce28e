#include "law/scaling_law.h"

#include <algorithm>
#include <cmath>

#include "law/percentile.h"
#include "util/error.h"
#include "util/text.h"
#include "util/units.h"

namespace moeplan::law {

std::string form_name(LawForm form) {
  return form == LawForm::kSparse ? "abnar2025" : "chinchilla";
}

LossTerms loss_terms(const Coefficients& k, LawForm form, double total_params, double tokens,
                     double sparsity) {
  LossTerms t;
  t.params = k.a / std::pow(total_params, k.alpha);
  t.data = k.b / std::pow(tokens, k.beta);
  t.irreducible = k.e;
  if (form == LawForm::kSparse) {
    const double density = 1.0 - sparsity;  // fraction of experts active per token
    t.sparsity = k.c / std::pow(density, k.lambda);
    t.interaction = k.d / (std::pow(density, k.delta) * std::pow(total_params, k.gamma));
  }
  return t;
}

LossTerms loss_terms(const ScalingLaw& law, double total_params, double tokens, double sparsity) {
  return loss_terms(law.coefficients, law.form, total_params, tokens, sparsity);
}

double predict_loss(const ScalingLaw& law, double total_params, double tokens, double sparsity) {
  return loss_terms(law, total_params, tokens, sparsity).total();
}

std::optional<Range> predicted_loss_interval(const ScalingLaw& law, double total_params,
                                             double tokens, double sparsity, double level) {
  if (law.bootstrap.empty()) return std::nullopt;
  std::vector<double> losses;
  losses.reserve(law.bootstrap.size());
  for (const auto& k : law.bootstrap)
    losses.push_back(loss_terms(k, law.form, total_params, tokens, sparsity).total());
  const double tail = (1.0 - level) / 2.0;
  return Range{percentile(losses, tail), percentile(losses, 1.0 - tail)};
}

std::vector<DomainWarning> domain_warnings(const ScalingLaw& law, double budget_flops,
                                           double total_params, double tokens, double sparsity) {
  std::vector<DomainWarning> warnings;
  auto check = [&](const std::optional<Range>& range, const char* quantity, const char* label,
                   double value, bool scientific) {
    if (!range || range->contains(value)) return;
    auto show = [&](double x) { return scientific ? format_sci(x) : std::to_string(x).substr(0, 5); };
    DomainWarning w;
    w.quantity = quantity;
    w.value = value;
    w.fitted = *range;
    w.message = std::string(label) + " " + show(value) + " is outside the fitted range [" +
                show(range->lo) + ", " + show(range->hi) + "] of law '" + law.name +
                "': its term is an extrapolation";
    warnings.push_back(w);
  };
  check(law.domain.budget_flops, "budget_flops", "budget C =", budget_flops, true);
  check(law.domain.total_params, "total_params", "total parameters N =", total_params, true);
  check(law.domain.tokens, "tokens", "tokens D =", tokens, true);
  if (law.form == LawForm::kSparse)
    check(law.domain.sparsity, "sparsity", "sparsity S =", sparsity, false);
  return warnings;
}

void validate(const ScalingLaw& law) {
  const Coefficients& k = law.coefficients;
  const double values[] = {k.a, k.b, k.c, k.d, k.e, k.alpha, k.beta, k.lambda, k.delta, k.gamma};
  for (double v : values)
    if (!std::isfinite(v))
      fail("law ", quoted_excerpt(law.name), ": coefficients must be finite numbers");
  if (k.a < 0 || k.b < 0 || k.alpha <= 0 || k.beta <= 0)
    fail("law ", quoted_excerpt(law.name), ": a, b must be non-negative and alpha, beta positive");
}

}  // namespace moeplan::law
