#pragma once
// Eigen types of the CPU reference model. Every function of the reference is templated on the
// scalar so that the fp64 finite-difference tests exercise the same code the fp32 backend runs.
// Activations are row-major (tokens, features): row t = b·seq + position.
#include <Eigen/Dense>
#include <cstdint>

namespace moeplan::verify {

template <typename S>
using Mat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename S>
using Vec = Eigen::Matrix<S, Eigen::Dynamic, 1>;
template <typename S>
using MatIn = Eigen::Ref<const Mat<S>>;
template <typename S>
using MatOut = Eigen::Ref<Mat<S>>;
template <typename S>
using VecIn = Eigen::Ref<const Vec<S>>;
template <typename S>
using VecOut = Eigen::Ref<Vec<S>>;

}  // namespace moeplan::verify

// Explicit instantiation of a function template for both scalars of the reference.
#define MOEPLAN_INSTANTIATE_FOR_SCALARS(MACRO) \
  MACRO(float)                                 \
  MACRO(double)
