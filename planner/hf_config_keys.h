#pragma once
// The pieces every config reader shares (planner/hf_config.cpp's families and
// planner/hf_config_generic.cpp's generic reader): one JSON object read with errors that name the
// key, the family and the file, and the attention and skeleton every decoder starts from.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "law/model_accounting.h"

namespace moeplan::planner::hf_detail {

class Keys {
 public:
  Keys(const nlohmann::json& object, std::string where, std::string prefix,
       std::vector<std::string>* notes)
      : object_(object), where_(std::move(where)), prefix_(std::move(prefix)), notes_(notes) {}

  bool has(const std::string& key) const;
  std::int64_t count(const std::string& key) const;         // required, whole, > 0
  std::int64_t non_negative(const std::string& key) const;  // required, whole, >= 0
  // Optional; `fallback` (the family's default) when absent or null, with a note when `why` is
  // given.
  std::int64_t non_negative_or(const std::string& key, std::int64_t fallback,
                               const std::string& why = "") const;
  std::int64_t count_or(const std::string& key, std::int64_t fallback,
                        const std::string& why = "") const;
  // A key that must be present but may be null (null → 0): DeepSeek's q_lora_rank.
  std::int64_t required_nullable(const std::string& key) const;
  bool flag_or(const std::string& key, bool fallback, const std::string& why = "") const;
  std::string text_or(const std::string& key, const std::string& fallback) const;
  std::vector<std::int64_t> whole_list(const std::string& key) const;
  std::vector<std::string> text_list(const std::string& key) const;
  Keys nested(const std::string& key) const;
  bool has_object(const std::string& key) const;

  void note(const std::string& text) const { notes_->push_back(text); }
  [[noreturn]] void fail_about(const std::string& key, const std::string& what) const;
  // `hint` follows the key's name: " (null when unused)", " (nor d_model, n_embd)".
  [[noreturn]] void missing(const std::string& key, const std::string& hint = "") const;

 private:
  [[noreturn]] void bad(const std::string& key, const nlohmann::json& v,
                        const std::string& want) const;
  std::int64_t whole(const std::string& key, const nlohmann::json& v, std::int64_t minimum) const;
  void note(const std::string& key, const std::string& value, const std::string& why) const;

  const nlohmann::json& object_;
  std::string where_;
  std::string prefix_;
  std::vector<std::string>* notes_;
};

// `key`, a number of layers: a positive whole number of at most law::kMaxLayers, since the model
// is described layer by layer (a config claiming 10^12 layers is refused before that).
std::int64_t layer_count(const Keys& k, const std::string& key);

struct Basics {
  std::int64_t d = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0, vocab = 0;
};

// hidden_size, num_hidden_layers, num_attention_heads, vocab_size, num_key_value_heads (default
// num_attention_heads) and head_dim (default hidden_size / num_attention_heads).
Basics read_basics(const Keys& k, bool head_dim_required = false);

// Grouped-query attention of b's shape.
law::AttentionSpec gqa(const Basics& b, bool qkv_bias, bool out_bias);

// A model of b's width and vocabulary, no layers yet.
law::ModelDescription skeleton(const Basics& b, bool tied);

// tie_word_embeddings, or `fallback` with a note naming the family's config default.
bool tied_or(const Keys& k, bool fallback);

// The value of `key` when present.
std::optional<std::int64_t> context_of(const Keys& k, const std::string& key);

}  // namespace moeplan::planner::hf_detail
