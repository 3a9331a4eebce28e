// libmoeplan_cuda.so's side of verify/cuda/trainer_api.h: each entry runs the CUDA model behind
// verify::Backend and turns any exception into an error code and message, so none crosses the
// library boundary.
#include "verify/cuda/trainer_api.h"

#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <type_traits>

#include "verify/cuda/device.h"
#include "verify/cuda/model.h"
#include "verify/model_layout.h"

static_assert(std::is_trivially_copyable_v<moeplan::law::MoeArchitecture>);
static_assert(std::is_trivially_copyable_v<moeplan::verify::Batch>);
static_assert(std::is_trivially_copyable_v<moeplan::verify::AdamWSettings>);

struct MoeplanCudaModel {
  std::unique_ptr<moeplan::verify::Backend> backend;
};

namespace moeplan::cuda {
namespace {

void copy_message(const char* message, char* error, std::size_t error_size) {
  if (error == nullptr || error_size == 0) return;
  std::strncpy(error, message, error_size - 1);
  error[error_size - 1] = '\0';
}

// Runs `body`; 0, or 1 with the exception's message in `error`.
template <typename Body>
int guarded(char* error, std::size_t error_size, Body&& body) {
  try {
    body();
    return 0;
  } catch (const std::exception& e) {
    copy_message(e.what(), error, error_size);
  } catch (...) {
    copy_message("unknown error in the CUDA trainer", error, error_size);
  }
  return 1;
}

// The layout's tensors filled from (or flattened into) one flat array.
std::vector<verify::HostTensor> unflatten(const law::MoeArchitecture& arch, const float* values,
                                          std::size_t count) {
  std::vector<verify::HostTensor> tensors;
  std::size_t offset = 0;
  for (const auto& spec : verify::parameter_layout(arch)) {
    const auto n = static_cast<std::size_t>(spec.numel());
    if (offset + n > count) throw std::length_error("the flat tensor array is too short");
    tensors.push_back(
        {spec.name, spec.shape, std::vector<float>(values + offset, values + offset + n)});
    offset += n;
  }
  if (offset != count) throw std::length_error("the flat tensor array does not match the model");
  return tensors;
}

void flatten(const std::vector<verify::HostTensor>& tensors, float* out, std::size_t count) {
  std::size_t offset = 0;
  for (const auto& t : tensors) {
    if (offset + t.data.size() > count) throw std::length_error("the output array is too short");
    std::memcpy(out + offset, t.data.data(), t.data.size() * sizeof(float));
    offset += t.data.size();
  }
  if (offset != count) throw std::length_error("the output array does not match the model");
}

int device_info(MoeplanCudaDeviceInfo* info, char* error, std::size_t error_size) {
  return guarded(error, error_size, [&] {
    const DeviceInfo d = cuda::device_info();
    copy_message(d.name.c_str(), info->name, sizeof info->name);
    info->total_bytes = d.total_bytes;
    info->free_bytes = d.free_bytes;
    info->compute_capability = d.compute_capability;
    info->cudnn_version = d.cudnn_version;
  });
}

MoeplanCudaModel* create(const law::MoeArchitecture* arch, std::uint64_t seed, char* error,
                         std::size_t error_size) {
  auto model = std::make_unique<MoeplanCudaModel>();
  if (guarded(error, error_size, [&] { model->backend = make_cuda_model(*arch, seed); }) != 0)
    return nullptr;
  return model.release();
}

void destroy(MoeplanCudaModel* model) {
  char ignored[1];
  guarded(ignored, sizeof ignored, [&] { delete model; });
}

int get_tensors(MoeplanCudaModel* model, int which, float* out, std::size_t count, char* error,
                std::size_t error_size) {
  return guarded(error, error_size, [&] {
    const verify::Backend& b = *model->backend;
    switch (which) {
      case kMoeplanParameters:
        flatten(b.parameters(), out, count);
        break;
      case kMoeplanMomentM:
        flatten(b.optimizer_moments(false), out, count);
        break;
      case kMoeplanMomentV:
        flatten(b.optimizer_moments(true), out, count);
        break;
      case kMoeplanGradients:
        flatten(b.gradients(), out, count);
        break;
      default:
        throw std::invalid_argument("unknown tensor set");
    }
  });
}

int set_parameters(MoeplanCudaModel* model, const float* values, std::size_t count, char* error,
                   std::size_t error_size) {
  return guarded(error, error_size, [&] {
    auto& b = *model->backend;
    b.set_parameters(unflatten(b.architecture(), values, count));
  });
}

int set_optimizer_state(MoeplanCudaModel* model, const float* m, const float* v, std::size_t count,
                        std::int64_t step, char* error, std::size_t error_size) {
  return guarded(error, error_size, [&] {
    auto& b = *model->backend;
    b.set_optimizer_state(unflatten(b.architecture(), m, count),
                          unflatten(b.architecture(), v, count), step);
  });
}

std::int64_t optimizer_step_count(MoeplanCudaModel* model) {
  return model->backend->optimizer_step_count();
}

int forward_backward(MoeplanCudaModel* model, const verify::Batch* batch, double loss_scale,
                     double parts[4], char* error, std::size_t error_size) {
  return guarded(error, error_size, [&] {
    const verify::LossParts p = model->backend->forward_backward(*batch, loss_scale);
    parts[0] = p.total;
    parts[1] = p.ce;
    parts[2] = p.aux;
    parts[3] = p.z;
  });
}

int optimizer_step(MoeplanCudaModel* model, const verify::AdamWSettings* settings, double lr,
                   double* grad_norm, char* error, std::size_t error_size) {
  return guarded(error, error_size,
                 [&] { *grad_norm = model->backend->optimizer_step(*settings, lr); });
}

int evaluate(MoeplanCudaModel* model, const verify::Batch* batch, double* loss, char* error,
             std::size_t error_size) {
  return guarded(error, error_size, [&] { *loss = model->backend->evaluate(*batch); });
}

constexpr MoeplanCudaApi kApi{kMoeplanCudaApiVersion,
                              device_info,
                              create,
                              destroy,
                              get_tensors,
                              set_parameters,
                              set_optimizer_state,
                              optimizer_step_count,
                              forward_backward,
                              optimizer_step,
                              evaluate};

}  // namespace
}  // namespace moeplan::cuda

extern "C" __attribute__((visibility("default"))) const MoeplanCudaApi* moeplan_cuda_api(
    int version) {
  return version == kMoeplanCudaApiVersion ? &moeplan::cuda::kApi : nullptr;
}
