// Keeps moeplan_cuda non-empty until the kernels land (verify/cuda/*.cuh).
