#pragma once
// Strict parsing of user-supplied numbers: FLOP budgets ("1e21", "3.5e20"), counts ("2e10",
// "7B", "120M"), memory sizes ("80GiB", "640GB", "1.5TiB"). Anything else (empty, NaN, inf,
// trailing junk, a sign where none is allowed) throws moeplan::Error naming the option.
#include <cstdint>
#include <string>

namespace moeplan {

// A finite double; `what` names the option in the error ("--budget").
double parse_number(const std::string& text, const std::string& what);
// A finite, strictly positive double.
double parse_positive(const std::string& text, const std::string& what);
// A count with an optional K/M/B/T suffix (powers of 1000), e.g. "7B" -> 7e9. Strictly positive.
double parse_count(const std::string& text, const std::string& what);
// A size in bytes with a unit: B, KB/MB/GB/TB (powers of 1000) or KiB/MiB/GiB/TiB (powers of
// 1024). A bare number means bytes. Strictly positive.
double parse_bytes(const std::string& text, const std::string& what);
// A strictly positive integer that fits in int64.
std::int64_t parse_positive_int(const std::string& text, const std::string& what);

// "1.23e+21" style for FLOPs, "12.3B" style for parameter counts, "80.0 GiB" for bytes.
std::string format_sci(double value, int digits = 3);
std::string format_count(double value);
std::string format_bytes(double bytes);
// "1h05m", "2m07s", "42s"; "?" for a negative or non-finite time.
std::string format_duration(double seconds);

}  // namespace moeplan
