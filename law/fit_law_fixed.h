#pragma once
// Coefficients held at a given value while `law fit` fits the rest (`--fix e=1.6`). A small
// sweep rarely determines all ten coefficients of Eq. 6; holding the poorly determined ones
// (the irreducible loss e, an exponent taken from a larger study) at a chosen value makes the
// rest identifiable. A fixed coordinate of θ is pinned in the box of the L-BFGS fit (lower =
// upper = its θ value), so dlib's projected search never moves it, and the start grid's axis
// along it collapses to that one value.
#include <string>
#include <vector>

#include "law/fit_grid.h"
#include "law/fit_objective.h"

namespace moeplan::law {

struct FixedCoefficient {
  int index = 0;     // θ coordinate (the report's order: a, alpha, b, beta, c, ..., e)
  std::string name;  // "e", "alpha", ...
  double value = 0;  // the coefficient itself (e, not log e)
};
using FixedCoefficients = std::vector<FixedCoefficient>;

// Parses NAME=VALUE items, each argument possibly a comma-separated list of them. Throws
// moeplan::Error for an unknown name (with "did you mean"), a coefficient the form does not
// have, a name given twice, a value that is not a number, a scale (a, b, c, d, e) that is not
// > 0, or alpha, beta not > 0 (law files reject those).
FixedCoefficients parse_fixed_coefficients(const std::vector<std::string>& items, LawForm form);

// θ's value for a fixed coefficient: log for the scales a..e, the exponent itself otherwise.
double fixed_theta(const FixedCoefficient& fixed);
bool is_fixed(const FixedCoefficients& fixed, int index);
bool is_fixed(const FixedCoefficients& fixed, const std::string& name);
int free_parameter_count(LawForm form, const FixedCoefficients& fixed);

// The box with each fixed coordinate pinned: lower = upper = its θ value.
Bounds pin_bounds(Bounds bounds, const FixedCoefficients& fixed);
// The grid with each fixed axis reduced to the fixed θ value (fewer starts, none repeated).
StartGrid pin_grid(StartGrid grid, const FixedCoefficients& fixed);
// The starts with fixed coordinates set, repeats removed (first occurrence kept).
std::vector<Theta> pin_starts(const std::vector<Theta>& starts, const FixedCoefficients& fixed);
// Sets the fixed coefficients to their exact values (exp(log e) may differ from e in the last bit).
void set_fixed(Coefficients& coefficients, const FixedCoefficients& fixed);

}  // namespace moeplan::law
