#pragma once
// A count (parameters, bytes) whose + and * throw moeplan::Error instead of overflowing int64.
// The counts of a hostile input (a config claiming 10^12 experts of width 10^6) pass 2^63, where
// plain int64 arithmetic is undefined behaviour and in practice wraps to a negative count.
// Formulas stay readable: one CheckedCount operand makes the whole expression checked,
// `CheckedCount(d) * experts * hidden`.
#include <cstdint>

#include "util/error.h"

namespace moeplan {

class CheckedCount {
 public:
  CheckedCount(std::int64_t value = 0) : value_(value) {}  // implicit: formulas mix in int64s
  std::int64_t value() const { return value_; }

  friend CheckedCount operator+(CheckedCount a, CheckedCount b) {
    std::int64_t sum;
    if (__builtin_add_overflow(a.value_, b.value_, &sum)) overflow();
    return sum;
  }
  friend CheckedCount operator*(CheckedCount a, CheckedCount b) {
    std::int64_t product;
    if (__builtin_mul_overflow(a.value_, b.value_, &product)) overflow();
    return product;
  }
  CheckedCount& operator+=(CheckedCount b) { return *this = *this + b; }

 private:
  [[noreturn]] static void overflow() {
    fail("a count of the model passes 2^63 (9.2e18): its dimensions are not a real model's");
  }
  std::int64_t value_;
};

}  // namespace moeplan
