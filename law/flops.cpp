#include "law/flops.h"

#include "util/error.h"
#include "util/text.h"

namespace moeplan::law {

std::string flops_method_name(FlopsMethod method) {
  switch (method) {
    case FlopsMethod::kSixNaD: return "6NaD";
    case FlopsMethod::kEq9: return "eq9";
    case FlopsMethod::kEq9WithRouter: return "eq9+router";
  }
  return "?";
}

FlopsMethod parse_flops_method(const std::string& name) {
  if (name == "6NaD" || name == "6nad") return FlopsMethod::kSixNaD;
  if (name == "eq9") return FlopsMethod::kEq9;
  if (name == "eq9+router") return FlopsMethod::kEq9WithRouter;
  throw Error(unknown_name_message("FLOPs method", name, {"6NaD", "eq9", "eq9+router"}));
}

double six_na_flops_per_token(double active_params) {
  return kFlopsPerParamFwdBwd * active_params;
}

double attention_flops_per_token(double n_layers, double context, double qk_width,
                                 double v_width) {
  return kFlopsPerParamFwdBwd * n_layers * context * (qk_width + v_width);
}

double six_na_plus_attention_flops_per_token(double active_params, double n_layers,
                                             double context, double qk_width, double v_width) {
  return six_na_flops_per_token(active_params) +
         attention_flops_per_token(n_layers, context, qk_width, v_width);
}

double eq9_flops_per_token(const MoeArchitecture& a, bool include_router) {
  const double d = static_cast<double>(a.d_model);
  const double layers = static_cast<double>(a.n_layers);
  const double C = kFlopsPerParamFwdBwd;
  const double projections = 4.0 * C * d * d;  // QKV and output
  const double experts = C * 3.0 * static_cast<double>(a.active_experts) * d *
                         static_cast<double>(a.expert_hidden);  // = 12C/G·E_active·d² for h=4d/G
  const double router = include_router ? kRouterFlopsPerParam * d * static_cast<double>(a.experts) : 0;
  const double attention = attention_flops_per_token(layers, static_cast<double>(a.context), d, d);
  const double unembedding = C * static_cast<double>(a.vocab_size) * d;
  return layers * (projections + experts + router) + attention + unembedding;
}

double flops_per_token(const MoeArchitecture& arch, FlopsMethod method) {
  return flops_per_token(arch, count_params(arch), method);
}

double flops_per_token(const MoeArchitecture& arch, const ParamCounts& counts, FlopsMethod method) {
  switch (method) {
    case FlopsMethod::kSixNaD: return six_na_flops_per_token(static_cast<double>(counts.active));
    case FlopsMethod::kEq9: return eq9_flops_per_token(arch, false);
    case FlopsMethod::kEq9WithRouter: return eq9_flops_per_token(arch, true);
  }
  return 0;
}

}  // namespace moeplan::law
