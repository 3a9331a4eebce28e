#include "verify/cuda_library.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "util/error.h"
#include "verify/backend.h"
#include "verify/cuda/trainer_api.h"
#include "verify/model_layout.h"

namespace moeplan::verify {
namespace {

constexpr std::size_t kErrorSize = 1024;  // of a message from the library

std::string loader_error() {
  const char* e = dlerror();
  return e != nullptr ? e : "unknown dlopen error";
}

// Where the library may be, in order: the variable, next to the executable, ../lib.
std::vector<std::filesystem::path> library_candidates() {
  if (const char* path = std::getenv(kCudaLibraryVariable); path != nullptr && *path != '\0')
    return {path};
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return {exe.parent_path() / kCudaLibraryName,
          exe.parent_path().parent_path() / "lib" / kCudaLibraryName};
}

void* open_library() {
  const auto candidates = library_candidates();
  for (const auto& path : candidates) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) continue;
    if (void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) return handle;
    // Found but not loadable: dlerror names what is missing (libcudnn.so.9, libcublas...).
    fail("cannot load the CUDA trainer ", path.string(), ": ", loader_error());
  }
  if (std::getenv(kCudaLibraryVariable) != nullptr && !candidates.empty())
    fail("cannot load the CUDA trainer: ", kCudaLibraryVariable, "=", candidates[0].string(),
         " does not exist");
  if (void* handle = dlopen(kCudaLibraryName, RTLD_NOW | RTLD_LOCAL)) return handle;
  fail("cannot load the CUDA trainer ", kCudaLibraryName, " (not next to moeplan nor on the ",
       "loader path): ", loader_error(),
#ifndef MOEPLAN_HAVE_CUDA
       "; this moeplan was built without CUDA (nvcc not found at configure time)",
#endif
       "; use --device cpu");
}

}  // namespace

bool built_with_cuda() {
#ifdef MOEPLAN_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

namespace {

// The library's table, loaded once.
const MoeplanCudaApi& cuda_api() {
  static const MoeplanCudaApi* api = [] {
    void* handle = open_library();
    const auto entry = reinterpret_cast<MoeplanCudaApiEntry>(dlsym(handle, kMoeplanCudaApiSymbol));
    if (entry == nullptr)
      fail("the CUDA trainer ", kCudaLibraryName, " lacks ", kMoeplanCudaApiSymbol, ": ",
           loader_error());
    const MoeplanCudaApi* table = entry(kMoeplanCudaApiVersion);
    if (table == nullptr)
      fail("the CUDA trainer ", kCudaLibraryName, " is not of this moeplan (interface version ",
           kMoeplanCudaApiVersion, "): install both from the same build");
    return table;
  }();
  return *api;
}

// Calls a table entry with an error buffer; throws Error with the library's message.
template <typename Call>
void checked(Call&& call) {
  char error[kErrorSize] = "";
  if (call(error, sizeof error) != 0) fail(error);
}

// verify::Backend over the library's model: tensors cross as flat arrays in layout order.
class CudaLibraryBackend final : public Backend {
 public:
  CudaLibraryBackend(const law::MoeArchitecture& arch, std::uint64_t seed)
      : api_(cuda_api()), arch_(arch), layout_(parameter_layout(arch)) {
    count_ = static_cast<std::size_t>(parameter_count(layout_));
    char error[kErrorSize] = "";
    model_ = api_.create(&arch_, seed, error, sizeof error);
    if (model_ == nullptr) fail(error);
  }
  ~CudaLibraryBackend() override { api_.destroy(model_); }
  CudaLibraryBackend(const CudaLibraryBackend&) = delete;
  CudaLibraryBackend& operator=(const CudaLibraryBackend&) = delete;

  std::string name() const override { return "cuda"; }
  const law::MoeArchitecture& architecture() const override { return arch_; }
  std::vector<HostTensor> parameters() const override { return tensors(kMoeplanParameters); }
  void set_parameters(const std::vector<HostTensor>& values) override {
    const auto flat = flatten(values);
    checked([&](char* e, std::size_t n) {
      return api_.set_parameters(model_, flat.data(), flat.size(), e, n);
    });
  }
  std::vector<HostTensor> optimizer_moments(bool second) const override {
    return tensors(second ? kMoeplanMomentV : kMoeplanMomentM);
  }
  void set_optimizer_state(const std::vector<HostTensor>& m, const std::vector<HostTensor>& v,
                           std::int64_t step) override {
    const auto flat_m = flatten(m), flat_v = flatten(v);
    checked([&](char* e, std::size_t n) {
      return api_.set_optimizer_state(model_, flat_m.data(), flat_v.data(), flat_m.size(), step, e,
                                      n);
    });
  }
  std::int64_t optimizer_step_count() const override { return api_.optimizer_step_count(model_); }
  LossParts forward_backward(const Batch& batch, double loss_scale) override {
    double parts[4] = {0, 0, 0, 0};
    checked([&](char* e, std::size_t n) {
      return api_.forward_backward(model_, &batch, loss_scale, parts, e, n);
    });
    return {parts[0], parts[1], parts[2], parts[3]};
  }
  double optimizer_step(const AdamWSettings& settings, double lr) override {
    double norm = 0;
    checked([&](char* e, std::size_t n) {
      return api_.optimizer_step(model_, &settings, lr, &norm, e, n);
    });
    return norm;
  }
  double evaluate(const Batch& batch) override {
    double loss = 0;
    checked([&](char* e, std::size_t n) { return api_.evaluate(model_, &batch, &loss, e, n); });
    return loss;
  }
  std::vector<HostTensor> gradients() const override { return tensors(kMoeplanGradients); }

 private:
  // The layout's tensors, filled from the library's flat array `which`.
  std::vector<HostTensor> tensors(int which) const {
    std::vector<float> flat(count_);
    checked([&](char* e, std::size_t n) {
      return api_.get_tensors(model_, which, flat.data(), flat.size(), e, n);
    });
    std::vector<HostTensor> out;
    std::size_t offset = 0;
    for (const auto& spec : layout_) {
      const auto size = static_cast<std::size_t>(spec.numel());
      out.push_back(
          {spec.name, spec.shape,
           std::vector<float>(flat.begin() + static_cast<std::ptrdiff_t>(offset),
                              flat.begin() + static_cast<std::ptrdiff_t>(offset + size))});
      offset += size;
    }
    return out;
  }
  // `values` as one array in layout order; names and shapes are checked by the model.
  std::vector<float> flatten(const std::vector<HostTensor>& values) const {
    if (values.size() != layout_.size())
      fail("expected ", layout_.size(), " tensors for ", law::describe(arch_), ", got ",
           values.size());
    std::vector<float> flat;
    flat.reserve(count_);
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (values[i].name != layout_[i].name || values[i].shape != layout_[i].shape)
        fail("tensor '", values[i].name, "' does not match the model's '", layout_[i].name, "'");
      flat.insert(flat.end(), values[i].data.begin(), values[i].data.end());
    }
    return flat;
  }

  const MoeplanCudaApi& api_;
  law::MoeArchitecture arch_;
  std::vector<ParamSpec> layout_;
  std::size_t count_ = 0;
  MoeplanCudaModel* model_ = nullptr;
};

}  // namespace

cuda::DeviceInfo cuda_device_info() {
  MoeplanCudaDeviceInfo info{};
  checked([&](char* e, std::size_t n) { return cuda_api().device_info(&info, e, n); });
  cuda::DeviceInfo out;
  out.name = info.name;
  out.total_bytes = info.total_bytes;
  out.free_bytes = info.free_bytes;
  out.compute_capability = info.compute_capability;
  out.cudnn_version = info.cudnn_version;
  return out;
}

std::unique_ptr<Backend> make_cuda_backend(const law::MoeArchitecture& arch, std::uint64_t seed) {
  return std::make_unique<CudaLibraryBackend>(arch, seed);
}

}  // namespace moeplan::verify
