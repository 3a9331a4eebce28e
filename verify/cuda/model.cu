#include "verify/cuda/model.h"

#include <cmath>
#include <map>
#include <vector>

#include "verify/cuda/adamw.cuh"
#include "verify/cuda/attention.cuh"
#include "verify/cuda/attention_cudnn.cuh"
#include "verify/cuda/device.h"
#include "verify/cuda/encoder.cuh"
#include "verify/cuda/experts.cuh"
#include "verify/cuda/loss.cuh"
#include "verify/cuda/matmul.cuh"
#include "verify/cuda/norm.cuh"
#include "verify/cuda/rope.cuh"
#include "verify/cuda/router.cuh"
#include "verify/model_layout.h"

namespace moeplan::cuda {
namespace {

using verify::Batch;
using verify::HostTensor;
using verify::LossParts;

// Saved activations of one layer (T tokens, N = T·K routed rows).
struct LayerActivations {
  DeviceBuffer<float> x_mid;                // (T, d)   residual after attention
  DeviceBuffer<bf16> xn1;                   // (T, d)
  DeviceBuffer<float> rstd1;                // (T)
  DeviceBuffer<bf16> qkv;                   // (T, 3d)  before QK-norm/RoPE
  DeviceBuffer<bf16> qkvr;                  // (T, 3d)  attention input
  DeviceBuffer<float> rstd_qk;              // (T, 2, H)
  DeviceBuffer<bf16> att;                   // (T, d)   attention output, (B, S, H, hd)
  DeviceBuffer<float> lse;                  // (B, H, S)
  DeviceBuffer<bf16> xn2;                   // (T, d)
  DeviceBuffer<float> rstd2;                // (T)
  DeviceBuffer<float> rlogits;              // (T, E)
  DeviceBuffer<float> probs;                // (T, E)
  DeviceBuffer<float> rlse;                 // (T)
  DeviceBuffer<std::int32_t> expert;        // (T, K)
  DeviceBuffer<float> weight;               // (T, K)
  DeviceBuffer<std::int32_t> counts;        // (E)
  DeviceBuffer<std::int32_t> offsets;       // (E + 1)
  DeviceBuffer<std::int32_t> rank;          // (N)
  DeviceBuffer<std::int32_t> slot;          // (N)
  DeviceBuffer<std::int32_t> token_of_row;  // (N)
  DeviceBuffer<bf16> xs;                    // (N, d)
  DeviceBuffer<bf16> gate, up, act;         // (N, h)
  DeviceBuffer<float> ys;                   // (N, d)
  std::vector<std::int32_t> host_offsets;   // (E + 1)
};

class CudaModel final : public verify::Backend {
 public:
  CudaModel(const law::MoeArchitecture& arch, std::uint64_t seed);
  ~CudaModel() override;

  std::string name() const override { return "cuda"; }
  const law::MoeArchitecture& architecture() const override { return arch_; }
  std::vector<HostTensor> parameters() const override { return download(params_.get()); }
  void set_parameters(const std::vector<HostTensor>& values) override;
  std::vector<HostTensor> optimizer_moments(bool second) const override {
    return download(second ? v_.get() : m_.get());
  }
  void set_optimizer_state(const std::vector<HostTensor>& m, const std::vector<HostTensor>& v,
                           std::int64_t step) override;
  std::int64_t optimizer_step_count() const override { return step_; }
  LossParts forward_backward(const Batch& batch, double loss_scale) override;
  double optimizer_step(const verify::AdamWSettings& settings, double lr) override;
  double evaluate(const Batch& batch) override;
  std::vector<HostTensor> gradients() const override { return download(grads_.get()); }

 private:
  struct LayerParams {  // indices into layout_
    std::size_t n1, qkv, o, qn, kn, n2, router, w1, w3, w2;
  };
  std::size_t index_of(const std::string& name) const;
  float* p(std::size_t i) const { return params_.get() + offsets_[i]; }
  bf16* p16(std::size_t i) const { return params16_.get() + offsets_[i]; }
  float* g(std::size_t i) const { return grads_.get() + offsets_[i]; }
  std::vector<HostTensor> download(const float* flat) const;
  void upload(const std::vector<HostTensor>& values, float* flat, const char* what);
  void reserve(std::int64_t batch, std::int64_t seq);
  LossParts run(const Batch& batch, double loss_scale, bool backward);

  law::MoeArchitecture arch_;
  std::int64_t d_, heads_, hd_, experts_, top_k_, hidden_, vocab_, layers_;
  std::vector<verify::ParamSpec> layout_;
  std::vector<std::size_t> offsets_;
  std::size_t n_params_ = 0;
  std::size_t emb_ = 0, nf_ = 0, out_ = 0;
  std::vector<LayerParams> layer_params_;
  std::int64_t step_ = 0;

  cudaStream_t stream_ = nullptr;
  std::unique_ptr<Blas> blas_;
  Attention attention_;
  DeviceBuffer<float> params_, grads_, m_, v_;
  DeviceBuffer<bf16> params16_;
  DeviceBuffer<double> scalars_;  // ce sum, aux sum, Σ lse², grad norm²

  // Activations for the current (batch, seq).
  std::int64_t batch_ = 0, seq_ = 0;
  DeviceBuffer<std::int32_t> ids_, targets_;
  std::vector<DeviceBuffer<float>> x_;  // L + 1 residual streams (T, d)
  std::vector<LayerActivations> layers_act_;
  DeviceBuffer<bf16> xf_;       // (T, d)
  DeviceBuffer<float> rstdf_;   // (T)
  DeviceBuffer<bf16> logits_;   // (T, V), overwritten by dlogits
  DeviceBuffer<float> losses_;  // (T)
  // Backward scratch, reused by every layer.
  DeviceBuffer<float> dx_, dxn_;     // (T, d)
  DeviceBuffer<bf16> dbf_, datt_;    // (T, d)
  DeviceBuffer<bf16> dqkvr_, dqkv_;  // (T, 3d)
  DeviceBuffer<bf16> dys_;           // (N, d)
  DeviceBuffer<float> dact_;         // (N, h)
  DeviceBuffer<bf16> dgate_, dup_;   // (N, h)
  DeviceBuffer<float> dxs_;          // (N, d)
  DeviceBuffer<float> gate_grad_;    // (T, K)
  DeviceBuffer<bf16> drlogits_;      // (T, E)
};

CudaModel::CudaModel(const law::MoeArchitecture& arch, std::uint64_t seed)
    : arch_(arch),
      d_(arch.d_model),
      heads_(arch.n_heads),
      hd_(arch.head_dim()),
      experts_(arch.experts),
      top_k_(arch.active_experts),
      hidden_(arch.expert_hidden),
      vocab_(arch.vocab_size),
      layers_(arch.n_layers) {
  if (device_count() == 0) fail("no CUDA device found");
  const std::size_t cudnn = cudnnGetVersion();
  if (cudnn < kMinCudnnVersion)
    fail("cuDNN ", cudnn, " is too old: the CUDA trainer needs cuDNN >= ", kMinCudnnVersion);
  law::validate(arch);
  if (arch.tied_embeddings) fail("the CUDA trainer builds untied embeddings only");
  if (d_ % heads_ != 0) fail("d_model ", d_, " is not a multiple of n_heads ", heads_);
  if (hd_ % 8 != 0 || hd_ > 256) fail("head_dim ", hd_, " must be a multiple of 8, at most 256");
  if (top_k_ > verify::kMaxCudaTopK)
    fail("top-k ", top_k_, " exceeds the CUDA router's limit of ", verify::kMaxCudaTopK);
  if (hidden_ <= 0) fail("expert_hidden ", hidden_, " must be positive");

  layout_ = verify::parameter_layout(arch);
  for (const auto& spec : layout_) {
    offsets_.push_back(n_params_);
    n_params_ += static_cast<std::size_t>(spec.numel());
  }
  emb_ = index_of("emb.weight");
  nf_ = index_of("nf.weight");
  out_ = index_of("out.weight");
  for (std::int64_t l = 0; l < layers_; ++l) {
    const std::string b = "blocks." + std::to_string(l) + ".";
    layer_params_.push_back({index_of(b + "n1.weight"), index_of(b + "qkv.weight"),
                             index_of(b + "o.weight"), index_of(b + "qn.weight"),
                             index_of(b + "kn.weight"), index_of(b + "n2.weight"),
                             index_of(b + "moe.router.weight"), index_of(b + "moe.w1"),
                             index_of(b + "moe.w3"), index_of(b + "moe.w2")});
  }

  CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  blas_ = std::make_unique<Blas>();
  blas_->set_stream(stream_);
  params_.resize(n_params_);
  grads_.resize(n_params_);
  m_.resize(n_params_);
  v_.resize(n_params_);
  params16_.resize(n_params_);
  scalars_.resize(4);
  grads_.zero(stream_);
  m_.zero(stream_);
  v_.zero(stream_);
  set_parameters(verify::initial_parameters(arch, seed));
}

CudaModel::~CudaModel() {
  if (stream_) {
    cudaStreamSynchronize(stream_);
    cudaStreamDestroy(stream_);
  }
}

std::size_t CudaModel::index_of(const std::string& name) const {
  for (std::size_t i = 0; i < layout_.size(); ++i)
    if (layout_[i].name == name) return i;
  fail("parameter '", name, "' is missing from the model layout");
}

std::vector<HostTensor> CudaModel::download(const float* flat) const {
  CUDA_CHECK(cudaStreamSynchronize(stream_));
  std::vector<HostTensor> out;
  for (std::size_t i = 0; i < layout_.size(); ++i) {
    HostTensor t{layout_[i].name, layout_[i].shape,
                 std::vector<float>(static_cast<std::size_t>(layout_[i].numel()))};
    CUDA_CHECK(cudaMemcpy(t.data.data(), flat + offsets_[i], t.data.size() * sizeof(float),
                          cudaMemcpyDeviceToHost));
    out.push_back(std::move(t));
  }
  return out;
}

void CudaModel::upload(const std::vector<HostTensor>& values, float* flat, const char* what) {
  if (values.size() != layout_.size())
    fail(what, ": expected ", layout_.size(), " tensors, got ", values.size());
  for (std::size_t i = 0; i < layout_.size(); ++i) {
    const auto& t = values[i];
    if (t.name != layout_[i].name)
      fail(what, ": tensor ", i, " is '", t.name, "', expected '", layout_[i].name, "'");
    if (t.shape != layout_[i].shape ||
        t.data.size() != static_cast<std::size_t>(layout_[i].numel()))
      fail(what, ": tensor '", t.name, "' has the wrong shape or size");
  }
  CUDA_CHECK(cudaStreamSynchronize(stream_));
  for (std::size_t i = 0; i < layout_.size(); ++i)
    CUDA_CHECK(cudaMemcpy(flat + offsets_[i], values[i].data.data(),
                          values[i].data.size() * sizeof(float), cudaMemcpyHostToDevice));
}

void CudaModel::set_parameters(const std::vector<HostTensor>& values) {
  upload(values, params_.get(), "set_parameters");
  copy_to_bf16(params_.get(), params16_.get(), static_cast<std::int64_t>(n_params_), stream_);
  CUDA_CHECK(cudaStreamSynchronize(stream_));
}

void CudaModel::set_optimizer_state(const std::vector<HostTensor>& m,
                                    const std::vector<HostTensor>& v, std::int64_t step) {
  if (step < 0) fail("optimizer step count ", step, " is negative");
  upload(m, m_.get(), "optimizer first moment");
  upload(v, v_.get(), "optimizer second moment");
  step_ = step;
}

void CudaModel::reserve(std::int64_t batch, std::int64_t seq) {
  if (batch == batch_ && seq == seq_) return;
  CUDA_CHECK(cudaStreamSynchronize(stream_));
  batch_ = batch;
  seq_ = seq;
  const auto T = static_cast<std::size_t>(batch * seq);
  const auto d = static_cast<std::size_t>(d_), E = static_cast<std::size_t>(experts_);
  const auto K = static_cast<std::size_t>(top_k_), h = static_cast<std::size_t>(hidden_);
  const std::size_t N = T * K;
  ids_.resize(T);
  targets_.resize(T);
  x_.clear();
  for (std::int64_t l = 0; l <= layers_; ++l) x_.emplace_back(T * d);
  layers_act_.clear();
  layers_act_.resize(static_cast<std::size_t>(layers_));
  for (auto& a : layers_act_) {
    a.x_mid.resize(T * d);
    a.xn1.resize(T * d);
    a.rstd1.resize(T);
    a.qkv.resize(T * 3 * d);
    a.qkvr.resize(T * 3 * d);
    a.rstd_qk.resize(T * 2 * static_cast<std::size_t>(heads_));
    a.att.resize(T * d);
    a.lse.resize(T * static_cast<std::size_t>(heads_));
    a.xn2.resize(T * d);
    a.rstd2.resize(T);
    a.rlogits.resize(T * E);
    a.probs.resize(T * E);
    a.rlse.resize(T);
    a.expert.resize(N);
    a.weight.resize(N);
    a.counts.resize(E);
    a.offsets.resize(E + 1);
    a.rank.resize(N);
    a.slot.resize(N);
    a.token_of_row.resize(N);
    a.xs.resize(N * d);
    a.gate.resize(N * h);
    a.up.resize(N * h);
    a.act.resize(N * h);
    a.ys.resize(N * d);
  }
  xf_.resize(T * d);
  rstdf_.resize(T);
  logits_.resize(T * static_cast<std::size_t>(vocab_));
  losses_.resize(T);
  dx_.resize(T * d);
  dxn_.resize(T * d);
  dbf_.resize(T * d);
  datt_.resize(T * d);
  dqkvr_.resize(T * 3 * d);
  dqkv_.resize(T * 3 * d);
  dys_.resize(N * d);
  dact_.resize(N * h);
  dgate_.resize(N * h);
  dup_.resize(N * h);
  dxs_.resize(N * d);
  gate_grad_.resize(N);
  drlogits_.resize(T * E);
}

LossParts CudaModel::run(const Batch& batch, double loss_scale, bool backward) {
  if (!batch.inputs || !batch.targets) fail("batch has no token arrays");
  if (batch.batch <= 0 || batch.seq <= 0)
    fail("batch shape ", batch.batch, "x", batch.seq, " must be positive");
  if (batch.seq > arch_.context)
    fail("sequence length ", batch.seq, " exceeds the model's context ", arch_.context);
  const std::int64_t T = batch.batch * batch.seq;
  for (std::int64_t i = 0; i < T; ++i) {
    if (batch.inputs[i] < 0 || batch.inputs[i] >= vocab_)
      fail("input token id ", batch.inputs[i], " at position ", i, " is outside [0, ", vocab_, ")");
    if (batch.targets[i] < 0 || batch.targets[i] >= vocab_)
      fail("target token id ", batch.targets[i], " at position ", i, " is outside [0, ", vocab_,
           ")");
  }
  reserve(batch.batch, batch.seq);
  cudaStream_t s = stream_;
  const Blas& blas = *blas_;
  const std::int64_t d = d_, N = T * top_k_;
  CUDA_CHECK(cudaMemcpyAsync(ids_.get(), batch.inputs, T * sizeof(std::int32_t),
                             cudaMemcpyHostToDevice, s));
  CUDA_CHECK(cudaMemcpyAsync(targets_.get(), batch.targets, T * sizeof(std::int32_t),
                             cudaMemcpyHostToDevice, s));
  scalars_.zero(s);
  double* ce_sum = scalars_.get();
  double* aux_sum = scalars_.get() + 1;
  double* z_sum = scalars_.get() + 2;

  const QkvShape qkv_shape{batch.batch, batch.seq, heads_, hd_};
  const AttentionShape att_shape{batch.batch, batch.seq, heads_, hd_, 3 * d, d};
  const RouteShape route{T, experts_, top_k_};
  const ExpertShape expert_shape{experts_, d, hidden_};

  // ---- forward ----
  embedding_forward(ids_.get(), p(emb_), x_[0].get(), T, d, s);
  for (std::int64_t l = 0; l < layers_; ++l) {
    const LayerParams& w = layer_params_[static_cast<std::size_t>(l)];
    LayerActivations& a = layers_act_[static_cast<std::size_t>(l)];
    const float* x = x_[static_cast<std::size_t>(l)].get();
    // x_mid = x + Attn(RMSNorm(x))
    rmsnorm_forward(x, p(w.n1), a.xn1.get(), a.rstd1.get(), T, d, s);
    linear_forward(blas, a.xn1.get(), p16(w.qkv), a.qkv.get(), OutType::kBf16, T, d, 3 * d);
    qk_norm_rope_forward(a.qkv.get(), p(w.qn), p(w.kn), a.qkvr.get(), a.rstd_qk.get(), qkv_shape,
                         s);
    attention_.forward(att_shape, a.qkvr.get(), a.qkvr.get() + d, a.qkvr.get() + 2 * d, a.att.get(),
                       a.lse.get(), s);
    CUDA_CHECK(
        cudaMemcpyAsync(a.x_mid.get(), x, T * d * sizeof(float), cudaMemcpyDeviceToDevice, s));
    linear_forward(blas, a.att.get(), p16(w.o), a.x_mid.get(), OutType::kFp32, T, d, d,
                   /*accumulate=*/true);
    // x_next = x_mid + MoE(RMSNorm(x_mid))
    rmsnorm_forward(a.x_mid.get(), p(w.n2), a.xn2.get(), a.rstd2.get(), T, d, s);
    linear_forward(blas, a.xn2.get(), p16(w.router), a.rlogits.get(), OutType::kFp32, T, d,
                   experts_);
    router_softmax_topk(a.rlogits.get(), a.probs.get(), a.rlse.get(), a.expert.get(),
                        a.weight.get(), z_sum, route, s);
    route_permutation(a.expert.get(), a.counts.get(), a.offsets.get(), a.rank.get(), a.slot.get(),
                      a.token_of_row.get(), route, s);
    router_aux_loss(a.probs.get(), a.counts.get(), aux_sum, route, s);
    gather_rows(a.xn2.get(), a.token_of_row.get(), a.xs.get(), N, d, s);
    a.host_offsets.resize(static_cast<std::size_t>(experts_ + 1));
    CUDA_CHECK(cudaMemcpyAsync(a.host_offsets.data(), a.offsets.get(),
                               a.host_offsets.size() * sizeof(std::int32_t), cudaMemcpyDeviceToHost,
                               s));
    CUDA_CHECK(cudaStreamSynchronize(s));  // the expert GEMMs' sizes (one sync per layer)
    experts_forward(blas, p16(w.w1), p16(w.w3), p16(w.w2), a.host_offsets, expert_shape,
                    {a.xs.get(), a.gate.get(), a.up.get(), a.act.get(), a.ys.get()}, s);
    moe_combine(a.x_mid.get(), a.ys.get(), a.weight.get(), a.slot.get(),
                x_[static_cast<std::size_t>(l + 1)].get(), route, d, s);
  }
  const float* x_last = x_[static_cast<std::size_t>(layers_)].get();
  rmsnorm_forward(x_last, p(nf_), xf_.get(), rstdf_.get(), T, d, s);
  linear_forward(blas, xf_.get(), p16(out_), logits_.get(), OutType::kBf16, T, d, vocab_);
  const float ce_grad_scale =
      backward ? static_cast<float>(loss_scale / static_cast<double>(T)) : 0;
  cross_entropy(logits_.get(), targets_.get(), losses_.get(), ce_sum, T, vocab_, ce_grad_scale, s);

  // ---- backward ----
  if (backward) {
    const bf16* dlogits = logits_.get();  // (T, V), overwritten by cross_entropy
    linear_backward_input(blas, dlogits, p16(out_), dxn_.get(), OutType::kFp32, T, d, vocab_);
    linear_backward_weight(blas, dlogits, xf_.get(), g(out_), T, d, vocab_);
    rmsnorm_backward(x_last, p(nf_), rstdf_.get(), dxn_.get(), nullptr, dx_.get(), g(nf_), T, d, s);
    const auto aux_coef = static_cast<float>(verify::kAuxLossCoef * loss_scale);
    const auto z_coef = static_cast<float>(verify::kZLossCoef * loss_scale);
    for (std::int64_t l = layers_ - 1; l >= 0; --l) {
      const LayerParams& w = layer_params_[static_cast<std::size_t>(l)];
      LayerActivations& a = layers_act_[static_cast<std::size_t>(l)];
      // MoE: dx_ holds dL/dx_next; it becomes dL/dx_mid.
      moe_combine_backward(dx_.get(), a.ys.get(), a.weight.get(), a.slot.get(), dys_.get(),
                           gate_grad_.get(), route, d, s);
      experts_backward(blas, p16(w.w1), p16(w.w3), p16(w.w2), a.host_offsets, expert_shape,
                       {a.xs.get(), a.gate.get(), a.up.get(), a.act.get(), a.ys.get()},
                       {dys_.get(), dact_.get(), dgate_.get(), dup_.get(), dxs_.get()}, g(w.w1),
                       g(w.w3), g(w.w2), s);
      router_backward(a.probs.get(), a.rlse.get(), a.expert.get(), gate_grad_.get(), a.counts.get(),
                      aux_coef, z_coef, drlogits_.get(), route, s);
      linear_backward_input(blas, drlogits_.get(), p16(w.router), dxn_.get(), OutType::kFp32, T, d,
                            experts_);
      linear_backward_weight(blas, drlogits_.get(), a.xn2.get(), g(w.router), T, d, experts_);
      scatter_add_rows(dxs_.get(), a.slot.get(), dxn_.get(), route, d, s);
      rmsnorm_backward(a.x_mid.get(), p(w.n2), a.rstd2.get(), dxn_.get(), dx_.get(), dx_.get(),
                       g(w.n2), T, d, s);
      // Attention: dx_ holds dL/dx_mid; it becomes dL/dx.
      copy_to_bf16(dx_.get(), dbf_.get(), T * d, s);
      linear_backward_input(blas, dbf_.get(), p16(w.o), datt_.get(), OutType::kBf16, T, d, d);
      linear_backward_weight(blas, dbf_.get(), a.att.get(), g(w.o), T, d, d);
      attention_.backward(att_shape, a.qkvr.get(), a.qkvr.get() + d, a.qkvr.get() + 2 * d,
                          a.att.get(), datt_.get(), a.lse.get(), dqkvr_.get(), dqkvr_.get() + d,
                          dqkvr_.get() + 2 * d, s);
      qk_norm_rope_backward(a.qkv.get(), p(w.qn), p(w.kn), a.rstd_qk.get(), dqkvr_.get(),
                            dqkv_.get(), g(w.qn), g(w.kn), qkv_shape, s);
      linear_backward_input(blas, dqkv_.get(), p16(w.qkv), dxn_.get(), OutType::kFp32, T, d, 3 * d);
      linear_backward_weight(blas, dqkv_.get(), a.xn1.get(), g(w.qkv), T, d, 3 * d);
      rmsnorm_backward(x_[static_cast<std::size_t>(l)].get(), p(w.n1), a.rstd1.get(), dxn_.get(),
                       dx_.get(), dx_.get(), g(w.n1), T, d, s);
    }
    embedding_backward(ids_.get(), dx_.get(), g(emb_), T, d, s);
  }

  double sums[3] = {0, 0, 0};
  CUDA_CHECK(cudaMemcpyAsync(sums, scalars_.get(), sizeof(sums), cudaMemcpyDeviceToHost, s));
  CUDA_CHECK(cudaStreamSynchronize(s));
  LossParts parts;
  parts.ce = sums[0] / static_cast<double>(T);
  parts.aux = sums[1];
  parts.z = sums[2] / static_cast<double>(T);
  parts.total = parts.ce + verify::kAuxLossCoef * parts.aux + verify::kZLossCoef * parts.z;
  return parts;  // NaN/Inf included: the loop decides (verify/backend.h)
}

LossParts CudaModel::forward_backward(const Batch& batch, double loss_scale) {
  return run(batch, loss_scale, /*backward=*/true);
}

double CudaModel::evaluate(const Batch& batch) {
  return run(batch, 0.0, /*backward=*/false).ce;
}

double CudaModel::optimizer_step(const verify::AdamWSettings& settings, double lr) {
  if (!(lr >= 0) || !std::isfinite(lr)) fail("learning rate ", lr, " must be finite and >= 0");
  double* norm_sq = scalars_.get() + 3;
  CUDA_CHECK(cudaMemsetAsync(norm_sq, 0, sizeof(double), stream_));
  grad_norm_squared(grads_.get(), static_cast<std::int64_t>(n_params_), norm_sq, stream_);
  double host_norm_sq = 0;
  CUDA_CHECK(
      cudaMemcpyAsync(&host_norm_sq, norm_sq, sizeof(double), cudaMemcpyDeviceToHost, stream_));
  CUDA_CHECK(cudaStreamSynchronize(stream_));
  const double norm = std::sqrt(host_norm_sq);
  if (!std::isfinite(norm))
    return norm;  // the loop stops (backend.h); the weights stay as they were
  const double clip = verify::clip_coefficient(norm, settings.grad_clip);
  ++step_;
  AdamWStep st;
  st.lr = static_cast<float>(lr);
  st.beta1 = static_cast<float>(settings.beta1);
  st.beta2 = static_cast<float>(settings.beta2);
  st.eps = static_cast<float>(settings.eps);
  st.weight_decay = static_cast<float>(settings.weight_decay);
  st.bias_correction1 =
      static_cast<float>(1.0 - std::pow(settings.beta1, static_cast<double>(step_)));
  st.bias_correction2 =
      static_cast<float>(1.0 - std::pow(settings.beta2, static_cast<double>(step_)));
  st.grad_scale = static_cast<float>(clip);
  adamw_update(params_.get(), grads_.get(), m_.get(), v_.get(), params16_.get(),
               static_cast<std::int64_t>(n_params_), st, stream_);
  CUDA_CHECK(cudaStreamSynchronize(stream_));
  return norm;
}

}  // namespace

std::unique_ptr<verify::Backend> make_cuda_model(const law::MoeArchitecture& arch,
                                                 std::uint64_t seed) {
  return std::make_unique<CudaModel>(arch, seed);
}

}  // namespace moeplan::cuda
