#include "planner/hf_config_keys.h"

#include <cmath>

#include "util/error.h"

namespace moeplan::planner::hf_detail {

using nlohmann::json;

namespace {

std::string shown(const json& value) {
  std::string text = value.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

}  // namespace

bool Keys::has(const std::string& key) const {
  return object_.contains(key) && !object_.at(key).is_null();
}

bool Keys::has_object(const std::string& key) const {
  return has(key) && object_.at(key).is_object();
}

std::int64_t Keys::count(const std::string& key) const {
  if (!has(key)) missing(key);
  return whole(key, object_.at(key), 1);
}

std::int64_t Keys::non_negative(const std::string& key) const {
  if (!has(key)) missing(key);
  return whole(key, object_.at(key), 0);
}

std::int64_t Keys::non_negative_or(const std::string& key, std::int64_t fallback,
                                   const std::string& why) const {
  if (!has(key)) {
    if (!why.empty()) note(key, std::to_string(fallback), why);
    return fallback;
  }
  return whole(key, object_.at(key), 0);
}

std::int64_t Keys::count_or(const std::string& key, std::int64_t fallback,
                            const std::string& why) const {
  if (!has(key)) {
    if (!why.empty()) note(key, std::to_string(fallback), why);
    return fallback;
  }
  return whole(key, object_.at(key), 1);
}

std::int64_t Keys::required_nullable(const std::string& key) const {
  if (!object_.contains(key)) missing(key, " (null when unused)");
  if (object_.at(key).is_null()) return 0;
  return whole(key, object_.at(key), 0);
}

bool Keys::flag_or(const std::string& key, bool fallback, const std::string& why) const {
  if (!has(key)) {
    if (!why.empty()) note(key, fallback ? "true" : "false", why);
    return fallback;
  }
  const json& v = object_.at(key);
  if (!v.is_boolean()) bad(key, v, "true or false");
  return v.get<bool>();
}

std::string Keys::text_or(const std::string& key, const std::string& fallback) const {
  if (!has(key)) return fallback;
  const json& v = object_.at(key);
  if (!v.is_string()) bad(key, v, "a string");
  return v.get<std::string>();
}

std::vector<std::int64_t> Keys::whole_list(const std::string& key) const {
  const json& v = object_.at(key);
  if (!v.is_array()) bad(key, v, "a list of whole numbers");
  std::vector<std::int64_t> out;
  for (const json& item : v) out.push_back(whole(key, item, 0));
  return out;
}

std::vector<std::string> Keys::text_list(const std::string& key) const {
  const json& v = object_.at(key);
  if (!v.is_array()) bad(key, v, "a list of strings");
  std::vector<std::string> out;
  for (const json& item : v) {
    if (!item.is_string()) bad(key, item, "a list of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

Keys Keys::nested(const std::string& key) const {
  if (!has(key)) missing(key);
  const json& v = object_.at(key);
  if (!v.is_object()) bad(key, v, "an object");
  return Keys(v, where_, prefix_ + key + ".", notes_);
}

void Keys::fail_about(const std::string& key, const std::string& what) const {
  fail(where_, ": key '", prefix_, key, "' ", what);
}

void Keys::missing(const std::string& key, const std::string& hint) const {
  fail(where_, ": missing key '", prefix_, key, "'", hint, ", which this family needs");
}

void Keys::bad(const std::string& key, const json& v, const std::string& want) const {
  fail(where_, ": key '", prefix_, key, "' must be ", want, ", got ", shown(v));
}

std::int64_t Keys::whole(const std::string& key, const json& v, std::int64_t minimum) const {
  const char* want = minimum > 0 ? "a positive whole number" : "a whole number >= 0";
  if (!v.is_number() || v.is_boolean()) bad(key, v, want);
  const double x = v.get<double>();
  if (!std::isfinite(x) || x != std::floor(x) || std::fabs(x) > 9.0e15) bad(key, v, want);
  if (x < static_cast<double>(minimum)) bad(key, v, want);
  return v.is_number_integer() ? v.get<std::int64_t>() : static_cast<std::int64_t>(x);
}

void Keys::note(const std::string& key, const std::string& value, const std::string& why) const {
  notes_->push_back(prefix_ + key + " absent: " + value + " (" + why + ")");
}

// ---- shared building blocks --------------------------------------------------------------------

std::int64_t layer_count(const Keys& k, const std::string& key) {
  const std::int64_t layers = k.count(key);
  if (layers > law::kMaxLayers)
    k.fail_about(key, "is " + std::to_string(layers) + ", more than the " +
                          std::to_string(law::kMaxLayers) + " layers moeplan reads");
  return layers;
}

Basics read_basics(const Keys& k, bool head_dim_required) {
  Basics b;
  b.d = k.count("hidden_size");
  b.layers = layer_count(k, "num_hidden_layers");
  b.heads = k.count("num_attention_heads");
  b.vocab = k.count("vocab_size");
  b.kv_heads =
      k.count_or("num_key_value_heads", b.heads, "num_attention_heads, the family default");
  if (b.heads % b.kv_heads != 0)
    k.fail_about("num_key_value_heads", "must divide num_attention_heads (" +
                                            std::to_string(b.heads) + "), got " +
                                            std::to_string(b.kv_heads));
  if (head_dim_required || k.has("head_dim")) {
    b.head_dim = k.count("head_dim");
  } else {
    if (b.d % b.heads != 0)
      k.fail_about("num_attention_heads", "must divide hidden_size when head_dim is absent");
    b.head_dim = b.d / b.heads;
  }
  return b;
}

law::AttentionSpec gqa(const Basics& b, bool qkv_bias, bool out_bias) {
  law::AttentionSpec a;
  a.n_heads = b.heads;
  a.n_kv_heads = b.kv_heads;
  a.head_dim = b.head_dim;
  a.qkv_bias = qkv_bias;
  a.out_bias = out_bias;
  return a;
}

law::ModelDescription skeleton(const Basics& b, bool tied) {
  law::ModelDescription m;
  m.d_model = b.d;
  m.vocab_size = b.vocab;
  m.tied_embeddings = tied;
  return m;
}

bool tied_or(const Keys& k, bool fallback) {
  return k.flag_or("tie_word_embeddings", fallback, "the family's config default");
}

std::optional<std::int64_t> context_of(const Keys& k, const std::string& key) {
  if (!k.has(key)) return std::nullopt;
  return k.count(key);
}

}  // namespace moeplan::planner::hf_detail
