// Causal flash attention through cuDNN's backend descriptor API (no cudnn-frontend).
//
// The two operation graphs below are the ones cudnn-frontend's SDPA nodes lower to (forward with
// softmax statistics, backward with dQ accumulated in fp32), written out node by node; cuDNN's
// runtime-fusion engine recognises the pattern and runs it as one fused flash-attention kernel.
// All matmuls, pointwise ops and reductions compute in fp32; q, k, v, o, dO, dQ, dK, dV are bf16.
//
// Tensor layout (attention.cuh): q, k, v, dq, dk, dv are logically (B, H, S, hd) with strides
// (S·ld_qkv, hd, ld_qkv, 1); o, dO are the same with ld_out. K and V enter the matmuls
// transposed, KT = (B, H, hd, S) with strides (S·ld_qkv, hd, 1, ld_qkv), which is only a stride
// swap over the same memory. lse ("Stats") is (B, H, S, 1) fp32 = max + log Σ exp, natural log.
//
// Minimum cuDNN: 9.0.0 (kMinCudnnVersion in attention_cudnn.cuh). The graph uses only descriptor
// types and attributes that exist since 8.9 (pointwise GEN_INDEX / CMP_GE / BINARY_SELECT,
// reduction, matmul, reshape); 9.0 is the first release whose fused SDPA engines take short
// sequences and sequence lengths that are not multiples of 64 (cudnn-frontend rejects the backward
// graph with s < 64 before 9.0), and it is what the CUDA trainer already requires. The mask fill is
// -inf from 9.10 on and the lowest finite float before, as cudnn-frontend chooses. The dedicated
// SDPA_FWD/BWD operation descriptors of later releases are deliberately not used. Below 9.6 cuDNN
// expects the fp32 dQ accumulator zeroed by the caller; it is zeroed before every backward call on
// all versions (one memset).
//
// Plans are built once per shape (device, B, H, S, hd, ld_qkv, ld_out) and cached process-wide,
// so switching between a few shapes (training / evaluation batches) does not rebuild them.
#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <list>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "verify/cuda/attention_cudnn.cuh"

namespace moeplan::cuda {
namespace {

constexpr std::int64_t kTensorAlignmentBytes = 16;  // every data pointer must be 16-byte aligned
constexpr std::size_t kWorkspaceAlignmentBytes = 256;
constexpr std::size_t kPlanCacheCapacity = 8;  // shapes kept built at once

using Dims = std::array<std::int64_t, 4>;

// Unique ids of the non-virtual tensors (the variant pack binds pointers to these).
enum Uid : std::int64_t {
  kUidQ = 1,
  kUidK = 2,
  kUidV = 3,
  kUidO = 4,
  kUidStats = 5,
  kUidScale = 6,     // by value: 1/sqrt(hd)
  kUidMaskFill = 7,  // by value: -inf (lowest float before cuDNN 9.10, as cudnn-frontend does)
  kUidDO = 8,
  kUidDQ = 9,
  kUidDK = 10,
  kUidDV = 11,
  kUidSoftmaxSum = 12,  // workspace: rowsum(dO ⊙ O), (B, H, S, 1) fp32
  kUidDQAccum = 13,     // workspace: dQ accumulated in fp32, (B, H, S, hd)
  kUidOne = 14,         // by value: 1.0
  kFirstVirtualUid = 100,
};

std::string cudnn_last_error() {
  char message[1024] = {0};
  cudnnGetLastErrorString(message, sizeof(message));  // returns void
  return message[0] ? std::string(message) : std::string("(none)");
}

// ---- RAII -----------------------------------------------------------------------------------

// Owns one backend descriptor.
class Descriptor {
 public:
  explicit Descriptor(cudnnBackendDescriptorType_t type) {
    CUDNN_CHECK(cudnnBackendCreateDescriptor(type, &desc_));
  }
  Descriptor(Descriptor&& other) noexcept : desc_(std::exchange(other.desc_, nullptr)) {}
  Descriptor& operator=(Descriptor&&) = delete;
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() {
    if (desc_) (void)cudnnBackendDestroyDescriptor(desc_);  // nothing to do about a failure here
  }
  cudnnBackendDescriptor_t get() const { return desc_; }

 private:
  cudnnBackendDescriptor_t desc_ = nullptr;
};

// Owns every descriptor of one graph and its plan; destroys them in reverse creation order
// (plan before engine config before graph before operations before tensors).
class DescriptorArena {
 public:
  DescriptorArena() = default;
  DescriptorArena(const DescriptorArena&) = delete;
  DescriptorArena& operator=(const DescriptorArena&) = delete;
  ~DescriptorArena() {
    while (!owned_.empty()) owned_.pop_back();
  }
  cudnnBackendDescriptor_t make(cudnnBackendDescriptorType_t type) {
    owned_.emplace_back(type);
    return owned_.back().get();
  }
  cudnnBackendDescriptor_t adopt(Descriptor&& descriptor) {
    owned_.push_back(std::move(descriptor));
    return owned_.back().get();
  }

 private:
  std::vector<Descriptor> owned_;
};

class Handle {
 public:
  Handle() { CUDNN_CHECK(cudnnCreate(&handle_)); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() {
    if (handle_) (void)cudnnDestroy(handle_);
  }
  cudnnHandle_t get() const { return handle_; }

 private:
  cudnnHandle_t handle_ = nullptr;
};

// Typed cudnnBackendSetAttribute; callers wrap it in CUDNN_CHECK so a failure names the attribute.
template <typename T>
cudnnStatus_t set_one(cudnnBackendDescriptor_t desc, cudnnBackendAttributeName_t name,
                      cudnnBackendAttributeType_t type, const T& value) {
  return cudnnBackendSetAttribute(desc, name, type, 1, &value);
}
template <typename T, std::size_t N>
cudnnStatus_t set_array(cudnnBackendDescriptor_t desc, cudnnBackendAttributeName_t name,
                        cudnnBackendAttributeType_t type, const std::array<T, N>& values) {
  return cudnnBackendSetAttribute(desc, name, type, static_cast<std::int64_t>(N), values.data());
}
template <typename T>
cudnnStatus_t set_vector(cudnnBackendDescriptor_t desc, cudnnBackendAttributeName_t name,
                         cudnnBackendAttributeType_t type, const std::vector<T>& values) {
  return cudnnBackendSetAttribute(desc, name, type, static_cast<std::int64_t>(values.size()),
                                  values.data());
}

// ---- graph building -------------------------------------------------------------------------

// Creates tensors and operations into an arena and collects the operations for the graph.
class GraphBuilder {
 public:
  explicit GraphBuilder(DescriptorArena& arena) : arena_(arena) {}

  cudnnBackendDescriptor_t tensor(std::int64_t uid, cudnnDataType_t type, const Dims& dims,
                                  const Dims& strides, bool is_virtual = false,
                                  bool by_value = false) {
    cudnnBackendDescriptor_t t = arena_.make(CUDNN_BACKEND_TENSOR_DESCRIPTOR);
    CUDNN_CHECK(set_one(t, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, type));
    CUDNN_CHECK(set_array(t, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, dims));
    CUDNN_CHECK(set_array(t, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, strides));
    CUDNN_CHECK(set_one(t, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, uid));
    CUDNN_CHECK(
        set_one(t, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, kTensorAlignmentBytes));
    if (is_virtual) CUDNN_CHECK(set_one(t, CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, true));
    if (by_value) CUDNN_CHECK(set_one(t, CUDNN_ATTR_TENSOR_IS_BY_VALUE, CUDNN_TYPE_BOOLEAN, true));
    CUDNN_CHECK(cudnnBackendFinalize(t));
    return t;
  }
  // An intermediate that never touches memory (fused away by the engine).
  cudnnBackendDescriptor_t virtual_tensor(cudnnDataType_t type, const Dims& dims,
                                          const Dims& strides) {
    return tensor(next_virtual_uid_++, type, dims, strides, /*is_virtual=*/true);
  }
  // An fp32 scalar passed by value (host pointer in the variant pack), broadcast over 4-d.
  cudnnBackendDescriptor_t scalar(std::int64_t uid) {
    return tensor(uid, CUDNN_DATA_FLOAT, {1, 1, 1, 1}, {1, 1, 1, 1}, false, /*by_value=*/true);
  }

  // y = mode(x [, b [, t]]); GEN_INDEX takes `axis`.
  void pointwise(cudnnPointwiseMode_t mode, cudnnDataType_t compute, cudnnBackendDescriptor_t x,
                 cudnnBackendDescriptor_t y, cudnnBackendDescriptor_t b = nullptr,
                 cudnnBackendDescriptor_t t = nullptr, std::int64_t axis = -1) {
    cudnnBackendDescriptor_t pw = arena_.make(CUDNN_BACKEND_POINTWISE_DESCRIPTOR);
    CUDNN_CHECK(set_one(pw, CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, mode));
    CUDNN_CHECK(set_one(pw, CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, compute));
    if (mode == CUDNN_POINTWISE_GEN_INDEX)
      CUDNN_CHECK(set_one(pw, CUDNN_ATTR_POINTWISE_AXIS, CUDNN_TYPE_INT64, axis));
    CUDNN_CHECK(cudnnBackendFinalize(pw));

    cudnnBackendDescriptor_t op = arena_.make(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR);
    CUDNN_CHECK(set_one(op, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR,
                        CUDNN_TYPE_BACKEND_DESCRIPTOR, pw));
    CUDNN_CHECK(
        set_one(op, CUDNN_ATTR_OPERATION_POINTWISE_XDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, x));
    if (b)
      CUDNN_CHECK(
          set_one(op, CUDNN_ATTR_OPERATION_POINTWISE_BDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, b));
    if (t)
      CUDNN_CHECK(
          set_one(op, CUDNN_ATTR_OPERATION_POINTWISE_TDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, t));
    CUDNN_CHECK(
        set_one(op, CUDNN_ATTR_OPERATION_POINTWISE_YDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, y));
    CUDNN_CHECK(cudnnBackendFinalize(op));
    ops_.push_back(op);
  }

  // c = a · b over the last two dimensions, batched over the first two; fp32 accumulation.
  void matmul(cudnnBackendDescriptor_t a, cudnnBackendDescriptor_t b, cudnnBackendDescriptor_t c) {
    cudnnBackendDescriptor_t mm = arena_.make(CUDNN_BACKEND_MATMUL_DESCRIPTOR);
    CUDNN_CHECK(set_one(mm, CUDNN_ATTR_MATMUL_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, CUDNN_DATA_FLOAT));
    CUDNN_CHECK(cudnnBackendFinalize(mm));

    cudnnBackendDescriptor_t op = arena_.make(CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR);
    CUDNN_CHECK(set_one(op, CUDNN_ATTR_OPERATION_MATMUL_ADESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, a));
    CUDNN_CHECK(set_one(op, CUDNN_ATTR_OPERATION_MATMUL_BDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, b));
    CUDNN_CHECK(set_one(op, CUDNN_ATTR_OPERATION_MATMUL_CDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, c));
    CUDNN_CHECK(set_one(op, CUDNN_ATTR_OPERATION_MATMUL_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, mm));
    CUDNN_CHECK(cudnnBackendFinalize(op));
    ops_.push_back(op);
  }

  // y = reduce(x) over the dimensions where y has extent 1; fp32.
  void reduction(cudnnReduceTensorOp_t reduce, cudnnBackendDescriptor_t x,
                 cudnnBackendDescriptor_t y) {
    cudnnBackendDescriptor_t red = arena_.make(CUDNN_BACKEND_REDUCTION_DESCRIPTOR);
    CUDNN_CHECK(
        set_one(red, CUDNN_ATTR_REDUCTION_OPERATOR, CUDNN_TYPE_REDUCTION_OPERATOR_TYPE, reduce));
    CUDNN_CHECK(
        set_one(red, CUDNN_ATTR_REDUCTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, CUDNN_DATA_FLOAT));
    CUDNN_CHECK(cudnnBackendFinalize(red));

    cudnnBackendDescriptor_t op = arena_.make(CUDNN_BACKEND_OPERATION_REDUCTION_DESCRIPTOR);
    CUDNN_CHECK(
        set_one(op, CUDNN_ATTR_OPERATION_REDUCTION_XDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, x));
    CUDNN_CHECK(
        set_one(op, CUDNN_ATTR_OPERATION_REDUCTION_YDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, y));
    CUDNN_CHECK(
        set_one(op, CUDNN_ATTR_OPERATION_REDUCTION_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, red));
    CUDNN_CHECK(cudnnBackendFinalize(op));
    ops_.push_back(op);
  }

  // y = x seen through y's dims/strides (used for transposes: no data movement).
  void reshape(cudnnBackendDescriptor_t x, cudnnBackendDescriptor_t y) {
    cudnnBackendDescriptor_t op = arena_.make(CUDNN_BACKEND_OPERATION_RESHAPE_DESCRIPTOR);
    CUDNN_CHECK(set_one(op, CUDNN_ATTR_OPERATION_RESHAPE_XDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, x));
    CUDNN_CHECK(set_one(op, CUDNN_ATTR_OPERATION_RESHAPE_YDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, y));
    CUDNN_CHECK(cudnnBackendFinalize(op));
    ops_.push_back(op);
  }

  cudnnBackendDescriptor_t operation_graph(cudnnHandle_t handle) {
    cudnnBackendDescriptor_t graph = arena_.make(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR);
    CUDNN_CHECK(set_one(graph, CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, handle));
    CUDNN_CHECK(
        set_vector(graph, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, ops_));
    CUDNN_CHECK(cudnnBackendFinalize(graph));
    return graph;
  }

 private:
  DescriptorArena& arena_;
  std::vector<cudnnBackendDescriptor_t> ops_;
  std::int64_t next_virtual_uid_ = kFirstVirtualUid;
};

// Shapes and strides of one problem, in the (B, H, rows, cols) convention of the graphs.
struct Layout {
  std::int64_t b, h, s, d;
  Dims qkv, qkv_strides;      // q, k, v, dq, dk, dv: (B, H, S, hd)
  Dims kt, kt_strides;        // K or V transposed: (B, H, hd, S), same memory
  Dims out, out_strides;      // o, dO: (B, H, S, hd) with ld_out
  Dims row, row_strides;      // per-row statistics: (B, H, S, 1) packed
  Dims score, score_strides;  // S, P, dP, dS: (B, H, S, S) packed
  Dims score_t_strides;       // the same (B, H, S, S) read transposed

  explicit Layout(const AttentionShape& a)
      : b(a.batch),
        h(a.heads),
        s(a.seq),
        d(a.head_dim),
        qkv{b, h, s, d},
        qkv_strides{s * a.ld_qkv, d, a.ld_qkv, 1},
        kt{b, h, d, s},
        kt_strides{s * a.ld_qkv, d, 1, a.ld_qkv},
        out{b, h, s, d},
        out_strides{s * a.ld_out, d, a.ld_out, 1},
        row{b, h, s, 1},
        row_strides{h * s, s, 1, 1},
        score{b, h, s, s},
        score_strides{h * s * s, s * s, s, 1},
        score_t_strides{h * s * s, s * s, 1, s} {}
};

// Causal mask (top-left diagonal, as the reference kernels): keep score[i][j] where row i >= col j,
// else the mask fill (-inf). GEN_INDEX makes the row/column index of every element; CMP_GE
// compares them; BINARY_SELECT picks y = keep ? x : fill.
cudnnBackendDescriptor_t causal_mask(GraphBuilder& g, const Layout& l, cudnnBackendDescriptor_t x,
                                     cudnnBackendDescriptor_t fill) {
  auto row = g.virtual_tensor(CUDNN_DATA_INT32, l.score, l.score_strides);
  g.pointwise(CUDNN_POINTWISE_GEN_INDEX, CUDNN_DATA_FLOAT, x, row, nullptr, nullptr, /*axis=*/2);
  auto col = g.virtual_tensor(CUDNN_DATA_INT32, l.score, l.score_strides);
  g.pointwise(CUDNN_POINTWISE_GEN_INDEX, CUDNN_DATA_FLOAT, x, col, nullptr, nullptr, /*axis=*/3);
  auto keep = g.virtual_tensor(CUDNN_DATA_BOOLEAN, l.score, l.score_strides);
  g.pointwise(CUDNN_POINTWISE_CMP_GE, CUDNN_DATA_BOOLEAN, row, keep, col);
  auto masked = g.virtual_tensor(CUDNN_DATA_FLOAT, l.score, l.score_strides);
  g.pointwise(CUDNN_POINTWISE_BINARY_SELECT, CUDNN_DATA_FLOAT, x, masked, fill, keep);
  return masked;
}

// Forward: O = softmax(mask(scale · Q·Kᵀ)) · V, Stats = rowmax + log(rowsum exp(· − rowmax)).
void build_forward_graph(GraphBuilder& g, const Layout& l) {
  const auto bf16_t = CUDNN_DATA_BFLOAT16;
  const auto f32 = CUDNN_DATA_FLOAT;
  auto q = g.tensor(kUidQ, bf16_t, l.qkv, l.qkv_strides);
  auto kt = g.tensor(kUidK, bf16_t, l.kt, l.kt_strides);
  auto v = g.tensor(kUidV, bf16_t, l.qkv, l.qkv_strides);
  auto o = g.tensor(kUidO, bf16_t, l.out, l.out_strides);
  auto stats = g.tensor(kUidStats, f32, l.row, l.row_strides);
  auto scale = g.scalar(kUidScale);
  auto fill = g.scalar(kUidMaskFill);

  // S = Q·Kᵀ (fp32)
  auto s = g.virtual_tensor(f32, l.score, l.score_strides);
  g.matmul(q, kt, s);
  // S·scale
  auto s_scaled = g.virtual_tensor(f32, l.score, l.score_strides);
  g.pointwise(CUDNN_POINTWISE_MUL, f32, s, s_scaled, scale);
  // causal mask
  auto s_masked = causal_mask(g, l, s_scaled, fill);
  // softmax statistics: M = rowmax, E = exp(S − M), Z = rowsum E, Stats = M + log Z
  auto m = g.virtual_tensor(f32, l.row, l.row_strides);
  g.reduction(CUDNN_REDUCE_TENSOR_MAX, s_masked, m);
  auto s_shifted = g.virtual_tensor(f32, l.score, l.score_strides);
  g.pointwise(CUDNN_POINTWISE_SUB, f32, s_masked, s_shifted, m);
  auto e = g.virtual_tensor(f32, l.score, l.score_strides);
  g.pointwise(CUDNN_POINTWISE_EXP, f32, s_shifted, e);
  auto z = g.virtual_tensor(f32, l.row, l.row_strides);
  g.reduction(CUDNN_REDUCE_TENSOR_ADD, e, z);
  auto log_z = g.virtual_tensor(f32, l.row, l.row_strides);
  g.pointwise(CUDNN_POINTWISE_LOG, f32, z, log_z);
  g.pointwise(CUDNN_POINTWISE_ADD, f32, m, stats, log_z);
  // P = E / Z, in bf16 as the second matmul's A operand
  auto p = g.virtual_tensor(bf16_t, l.score, l.score_strides);
  g.pointwise(CUDNN_POINTWISE_DIV, f32, e, p, z);
  // O = P·V
  g.matmul(p, v, o);
}

// Backward (P recomputed from Stats; D = rowsum(dO ⊙ O)):
//   dV = Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ⊙ (dP − D) · scale,  dK = dSᵀ·Q,  dQ = dS·K.
void build_backward_graph(GraphBuilder& g, const Layout& l) {
  const auto bf16_t = CUDNN_DATA_BFLOAT16;
  const auto f32 = CUDNN_DATA_FLOAT;
  auto q = g.tensor(kUidQ, bf16_t, l.qkv, l.qkv_strides);
  auto kt = g.tensor(kUidK, bf16_t, l.kt, l.kt_strides);
  auto vt = g.tensor(kUidV, bf16_t, l.kt, l.kt_strides);
  auto o = g.tensor(kUidO, bf16_t, l.out, l.out_strides);
  auto d_o = g.tensor(kUidDO, bf16_t, l.out, l.out_strides);
  auto stats = g.tensor(kUidStats, f32, l.row, l.row_strides);
  auto dq = g.tensor(kUidDQ, bf16_t, l.qkv, l.qkv_strides);
  auto dk = g.tensor(kUidDK, bf16_t, l.qkv, l.qkv_strides);
  auto dv = g.tensor(kUidDV, bf16_t, l.qkv, l.qkv_strides);
  auto scale = g.scalar(kUidScale);
  auto fill = g.scalar(kUidMaskFill);
  auto one = g.scalar(kUidOne);
  const Dims packed_qkv_strides{l.h * l.s * l.d, l.s * l.d, l.d, 1};  // (B, H, S, hd) packed
  auto softmax_sum = g.tensor(kUidSoftmaxSum, f32, l.row, l.row_strides);
  auto dq_accum = g.tensor(kUidDQAccum, f32, l.qkv, packed_qkv_strides);

  // D = rowsum(dO ⊙ O) (·1: the dropout-scale slot of cudnn-frontend's graph), stored in the
  // workspace because every key block of the fused kernel reads it.
  auto do_o = g.virtual_tensor(f32, l.out, {l.h * l.s * l.d, l.s * l.d, l.h * l.d, 1});
  g.pointwise(CUDNN_POINTWISE_MUL, f32, d_o, do_o, o);
  auto do_o_sum = g.virtual_tensor(f32, l.row, l.row_strides);
  g.reduction(CUDNN_REDUCE_TENSOR_ADD, do_o, do_o_sum);
  g.pointwise(CUDNN_POINTWISE_MUL, f32, do_o_sum, softmax_sum, one);

  // S = Q·Kᵀ, S·scale
  auto s = g.virtual_tensor(f32, l.score, l.score_strides);
  g.matmul(q, kt, s);
  auto s_scaled = g.virtual_tensor(f32, l.score, l.score_strides);
  g.pointwise(CUDNN_POINTWISE_MUL, f32, s, s_scaled, scale);
  // S − Stats, then the causal mask, then P = exp(·) (the normalised softmax, recomputed)
  auto s_shifted = g.virtual_tensor(f32, l.score, l.score_strides);
  g.pointwise(CUDNN_POINTWISE_SUB, f32, s_scaled, s_shifted, stats);
  auto s_masked = causal_mask(g, l, s_shifted, fill);
  auto p = g.virtual_tensor(f32, l.score, l.score_strides);
  g.pointwise(CUDNN_POINTWISE_EXP, f32, s_masked, p);

  // dV = Pᵀ·dO (Pᵀ: bf16 transposed view of P)
  auto p_t = g.virtual_tensor(bf16_t, l.score, l.score_t_strides);
  g.reshape(p, p_t);
  g.matmul(p_t, d_o, dv);

  // dP = dO·Vᵀ
  auto dp = g.virtual_tensor(f32, l.score, l.score_strides);
  g.matmul(d_o, vt, dp);
  // dS = (dP − D) ⊙ P · scale
  auto dp_centered = g.virtual_tensor(f32, l.score, l.score_strides);
  g.pointwise(CUDNN_POINTWISE_SUB, f32, dp, dp_centered, softmax_sum);
  auto ds_unscaled = g.virtual_tensor(f32, l.score, l.score_strides);
  g.pointwise(CUDNN_POINTWISE_MUL, f32, dp_centered, ds_unscaled, p);
  auto ds = g.virtual_tensor(f32, l.score, l.score_strides);
  g.pointwise(CUDNN_POINTWISE_MUL, f32, ds_unscaled, ds, scale);

  // dK = dSᵀ·Q (dSᵀ: bf16 transposed view of dS)
  auto ds_t = g.virtual_tensor(bf16_t, l.score, l.score_t_strides);
  g.reshape(ds, ds_t);
  g.matmul(ds_t, q, dk);

  // dQ = dS·K: K is Kᵀ viewed back as (B, H, S, hd); accumulate in fp32, then convert to bf16
  auto k = g.virtual_tensor(f32, l.qkv, l.qkv_strides);
  g.reshape(kt, k);
  g.matmul(ds, k, dq_accum);
  g.pointwise(CUDNN_POINTWISE_IDENTITY, f32, dq_accum, dq);
}

// Execution plan for `graph`: the engine configs of heuristics mode A, then of the fallback
// mode, tried in order; the first that finalises wins. Throws naming the graph if none does.
struct BuiltPlan {
  cudnnBackendDescriptor_t plan = nullptr;
  std::int64_t workspace_bytes = 0;
};

BuiltPlan build_plan(cudnnHandle_t handle, cudnnBackendDescriptor_t graph, DescriptorArena& arena,
                     const char* name) {
  std::string tried;
  for (const cudnnBackendHeurMode_t mode : {CUDNN_HEUR_MODE_A, CUDNN_HEUR_MODE_FALLBACK}) {
    const char* mode_name = mode == CUDNN_HEUR_MODE_A ? "A" : "fallback";
    Descriptor heuristics(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR);
    CUDNN_CHECK(set_one(heuristics.get(), CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH,
                        CUDNN_TYPE_BACKEND_DESCRIPTOR, graph));
    CUDNN_CHECK(set_one(heuristics.get(), CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, mode));
    cudnnStatus_t status = cudnnBackendFinalize(heuristics.get());
    if (status != CUDNN_STATUS_SUCCESS) {  // no engine for this mode: try the next one
      tried += std::string(" heuristics ") + mode_name + ": " + cudnnGetErrorString(status) + " (" +
               cudnn_last_error() + ");";
      continue;
    }
    std::int64_t count = 0;
    CUDNN_CHECK(cudnnBackendGetAttribute(heuristics.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                         CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count, nullptr));
    std::vector<Descriptor> configs;
    std::vector<cudnnBackendDescriptor_t> raw_configs;
    for (std::int64_t i = 0; i < count; ++i) {
      configs.emplace_back(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR);
      raw_configs.push_back(configs.back().get());
    }
    std::int64_t returned = 0;
    if (count > 0)
      CUDNN_CHECK(cudnnBackendGetAttribute(heuristics.get(), CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                           CUDNN_TYPE_BACKEND_DESCRIPTOR, count, &returned,
                                           raw_configs.data()));
    tried += std::string(" heuristics ") + mode_name + ": " + std::to_string(returned) +
             " engine configs";
    for (std::int64_t i = 0; i < std::min(returned, count); ++i) {
      Descriptor plan(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
      CUDNN_CHECK(set_one(plan.get(), CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, handle));
      CUDNN_CHECK(set_one(plan.get(), CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG,
                          CUDNN_TYPE_BACKEND_DESCRIPTOR, raw_configs[static_cast<std::size_t>(i)]));
      status = cudnnBackendFinalize(plan.get());
      if (status != CUDNN_STATUS_SUCCESS) {  // this engine cannot run the graph: try the next
        tried += std::string(", #") + std::to_string(i) + " " + cudnnGetErrorString(status);
        continue;
      }
      BuiltPlan built;
      std::int64_t elements = 0;
      CUDNN_CHECK(cudnnBackendGetAttribute(plan.get(), CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE,
                                           CUDNN_TYPE_INT64, 1, &elements, &built.workspace_bytes));
      // The plan keeps its engine config alive: keep both (and nothing else) in the arena.
      arena.adopt(std::move(configs[static_cast<std::size_t>(i)]));
      built.plan = arena.adopt(std::move(plan));
      return built;
    }
    tried += ";";
  }
  fail("cuDNN cannot run the attention ", name, " graph on this device (", tried,
       " last cuDNN message: ", cudnn_last_error(), ")");
}

// ---- the plan cache -------------------------------------------------------------------------

// Both graphs of one shape, their plans and the handle they were built with.
struct Graphs {
  std::mutex execute_mutex;  // one cudnnSetStream + cudnnBackendExecute at a time per handle
  Handle handle;             // declared first: destroyed after the descriptors
  DescriptorArena forward_descriptors, backward_descriptors;
  BuiltPlan forward, backward;
};

struct ShapeKey {
  int device;
  std::int64_t batch, seq, heads, head_dim, ld_qkv, ld_out;
  bool operator==(const ShapeKey& o) const {
    return device == o.device && batch == o.batch && seq == o.seq && heads == o.heads &&
           head_dim == o.head_dim && ld_qkv == o.ld_qkv && ld_out == o.ld_out;
  }
};

std::shared_ptr<Graphs> build_graphs(const AttentionShape& shape) {
  auto graphs = std::make_shared<Graphs>();
  const Layout layout(shape);
  const std::string where =
      " (B=" + std::to_string(shape.batch) + " H=" + std::to_string(shape.heads) +
      " S=" + std::to_string(shape.seq) + " hd=" + std::to_string(shape.head_dim) + ")";
  try {
    GraphBuilder forward(graphs->forward_descriptors);
    build_forward_graph(forward, layout);
    graphs->forward =
        build_plan(graphs->handle.get(), forward.operation_graph(graphs->handle.get()),
                   graphs->forward_descriptors, ("forward" + where).c_str());
    GraphBuilder backward(graphs->backward_descriptors);
    build_backward_graph(backward, layout);
    graphs->backward =
        build_plan(graphs->handle.get(), backward.operation_graph(graphs->handle.get()),
                   graphs->backward_descriptors, ("backward" + where).c_str());
  } catch (const Error& e) {
    fail("cuDNN attention graph", where, ": ", e.what(), " [cuDNN: ", cudnn_last_error(), "]");
  }
  return graphs;
}

// Least-recently-used cache of built graphs, shared by every CudnnAttention of the process.
class PlanCache {
 public:
  std::shared_ptr<Graphs> get(const AttentionShape& shape) {
    int device = 0;
    CUDA_CHECK(cudaGetDevice(&device));
    const ShapeKey key{device,         shape.batch,  shape.seq,   shape.heads,
                       shape.head_dim, shape.ld_qkv, shape.ld_out};
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->first == key) {
        entries_.splice(entries_.begin(), entries_, it);  // most recently used first
        return entries_.front().second;
      }
    }
    auto graphs = build_graphs(shape);  // throws on failure: nothing is cached then
    entries_.emplace_front(key, graphs);
    if (entries_.size() > kPlanCacheCapacity) entries_.pop_back();  // freed once unused
    return graphs;
  }

 private:
  std::mutex mutex_;
  std::list<std::pair<ShapeKey, std::shared_ptr<Graphs>>> entries_;
};

PlanCache& plan_cache() {
  // Deliberately never destroyed: destroying cuDNN handles and plans from a static destructor
  // would run after the CUDA runtime has been torn down at exit. Evicted entries are freed.
  static PlanCache* cache = new PlanCache;
  return *cache;
}

std::size_t round_up(std::size_t bytes, std::size_t to) {
  return (bytes + to - 1) / to * to;
}

bool aligned(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p) % static_cast<std::uintptr_t>(kTensorAlignmentBytes) ==
         0;
}

void execute(Graphs& graphs, const BuiltPlan& plan, const std::vector<std::int64_t>& uids,
             const std::vector<void*>& pointers, void* workspace, cudaStream_t stream) {
  Descriptor pack(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR);
  CUDNN_CHECK(set_vector(pack.get(), CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, uids));
  CUDNN_CHECK(
      set_vector(pack.get(), CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, pointers));
  CUDNN_CHECK(
      set_one(pack.get(), CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, workspace));
  CUDNN_CHECK(cudnnBackendFinalize(pack.get()));
  std::lock_guard<std::mutex> lock(graphs.execute_mutex);
  CUDNN_CHECK(cudnnSetStream(graphs.handle.get(), stream));
  CUDNN_CHECK(cudnnBackendExecute(graphs.handle.get(), plan.plan, pack.get()));
}

}  // namespace

struct CudnnAttention::Impl {
  AttentionShape shape;
  std::shared_ptr<Graphs> graphs;
  // By-value scalars: the variant pack holds pointers to these.
  float scale = 0, mask_fill = 0, one = 1;
  // Workspace layout: [plan workspace][softmax_sum (B,H,S) fp32][dQ accumulator (B,H,S,hd) fp32]
  std::size_t softmax_sum_offset = 0, dq_accum_offset = 0, dq_accum_bytes = 0, total_bytes = 0;
};

CudnnAttention::CudnnAttention(const AttentionShape& shape) : impl_(std::make_unique<Impl>()) {
  check_attention_shape(shape);
  const std::size_t version = cudnnGetVersion();
  if (version < kMinCudnnVersion)
    fail("cuDNN ", version, " is older than ", kMinCudnnVersion,
         ", the minimum for the fused attention graph");
  Impl& m = *impl_;
  m.shape = shape;
  m.graphs = plan_cache().get(shape);
  m.scale = shape.scale();
  m.mask_fill = version >= 91000 ? -std::numeric_limits<float>::infinity()
                                 : std::numeric_limits<float>::lowest();
  const auto rows = static_cast<std::size_t>(shape.batch * shape.heads * shape.seq);
  const std::size_t plan_bytes = static_cast<std::size_t>(
      std::max(m.graphs->forward.workspace_bytes, m.graphs->backward.workspace_bytes));
  m.softmax_sum_offset = round_up(plan_bytes, kWorkspaceAlignmentBytes);
  m.dq_accum_offset =
      m.softmax_sum_offset + round_up(rows * sizeof(float), kWorkspaceAlignmentBytes);
  m.dq_accum_bytes = rows * static_cast<std::size_t>(shape.head_dim) * sizeof(float);
  m.total_bytes = m.dq_accum_offset + m.dq_accum_bytes;
}

CudnnAttention::~CudnnAttention() = default;

std::size_t CudnnAttention::workspace_bytes() const {
  return impl_->total_bytes;
}

void CudnnAttention::forward(const bf16* q, const bf16* k, const bf16* v, bf16* out, float* lse,
                             void* workspace, cudaStream_t stream) {
  Impl& m = *impl_;
  MOEPLAN_REQUIRE(aligned(q) && aligned(k) && aligned(v) && aligned(out) && aligned(lse),
                  "q, k, v, out and lse must be 16-byte aligned for cuDNN");
  MOEPLAN_REQUIRE(workspace != nullptr && aligned(workspace), "workspace=", workspace);
  const std::vector<std::int64_t> uids{kUidQ,     kUidK,     kUidV,       kUidO,
                                       kUidStats, kUidScale, kUidMaskFill};
  const std::vector<void*> pointers{
      const_cast<bf16*>(q), const_cast<bf16*>(k), const_cast<bf16*>(v), out, lse, &m.scale,
      &m.mask_fill};
  execute(*m.graphs, m.graphs->forward, uids, pointers, workspace, stream);
}

void CudnnAttention::backward(const bf16* q, const bf16* k, const bf16* v, const bf16* out,
                              const bf16* dout, const float* lse, bf16* dq, bf16* dk, bf16* dv,
                              void* workspace, cudaStream_t stream) {
  Impl& m = *impl_;
  MOEPLAN_REQUIRE(aligned(q) && aligned(k) && aligned(v) && aligned(out) && aligned(dout) &&
                      aligned(lse) && aligned(dq) && aligned(dk) && aligned(dv),
                  "attention tensors must be 16-byte aligned for cuDNN");
  MOEPLAN_REQUIRE(workspace != nullptr && aligned(workspace), "workspace=", workspace);
  auto* base = static_cast<unsigned char*>(workspace);
  void* softmax_sum = base + m.softmax_sum_offset;
  void* dq_accum = base + m.dq_accum_offset;
  CUDA_CHECK(cudaMemsetAsync(dq_accum, 0, m.dq_accum_bytes, stream));  // required before 9.6
  const std::vector<std::int64_t> uids{kUidQ,        kUidK,   kUidV,          kUidO,      kUidDO,
                                       kUidStats,    kUidDQ,  kUidDK,         kUidDV,     kUidScale,
                                       kUidMaskFill, kUidOne, kUidSoftmaxSum, kUidDQAccum};
  const std::vector<void*> pointers{const_cast<bf16*>(q),
                                    const_cast<bf16*>(k),
                                    const_cast<bf16*>(v),
                                    const_cast<bf16*>(out),
                                    const_cast<bf16*>(dout),
                                    const_cast<float*>(lse),
                                    dq,
                                    dk,
                                    dv,
                                    &m.scale,
                                    &m.mask_fill,
                                    &m.one,
                                    softmax_sum,
                                    dq_accum};
  execute(*m.graphs, m.graphs->backward, uids, pointers, workspace, stream);
}

}  // namespace moeplan::cuda
