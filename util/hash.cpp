#include "util/hash.h"

namespace moeplan {

std::uint64_t fnv1a64(std::string_view bytes, std::uint64_t state) {
  constexpr std::uint64_t kPrime = 1099511628211ULL;
  for (const char c : bytes) {
    state ^= static_cast<unsigned char>(c);
    state *= kPrime;
  }
  return state;
}

std::string hex64(std::uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4) out[static_cast<std::size_t>(i)] = kDigits[value & 15];
  return out;
}

}  // namespace moeplan
