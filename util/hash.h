#pragma once
// A short, stable, non-cryptographic hash (64-bit FNV-1a) for naming and fingerprinting: sweep
// run keys and data fingerprints. Stable across builds and machines (no std::hash).
#include <cstdint>
#include <string>
#include <string_view>

namespace moeplan {

inline constexpr std::uint64_t kFnvOffsetBasis = 14695981039346656037ULL;

// Continues `state` (start from kFnvOffsetBasis) over `bytes`.
std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t state = kFnvOffsetBasis);

// `value` as 16 lower-case hex digits.
std::string hex64(std::uint64_t value);

}  // namespace moeplan
