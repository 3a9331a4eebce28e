#pragma once
// Reading input files with a size limit, so that a file made (or mistaken) to exhaust memory is
// refused from its size alone, before anything is read or allocated. Each format names its own
// limit next to its reader (kMaxJsonFileBytes in util/json_text.h, kMaxRunsCsvBytes in
// planner/runs_csv.h, ...).
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace moeplan {

// Throws Error "WHAT PATH is 2147483648 bytes, over the 64.0 MiB limit for a WHAT" when the file
// is larger than `max_bytes`; says nothing about a file that cannot be stat'ed (the read that
// follows names that error). `what` names the format: "JSON file", "runs CSV".
void check_file_size(const std::filesystem::path& path, std::uintmax_t max_bytes,
                     const std::string& what);

// An input stream on `path` after check_file_size, for a reader that goes line by line (a runs
// CSV); throws Error "cannot read 'PATH': REASON" when it cannot be opened.
std::ifstream open_input_file(const std::filesystem::path& path, std::uintmax_t max_bytes,
                              const std::string& what);

// The whole file, as util/files.h's read_file, refused once it passes `max_bytes`: from its
// size before reading, or while reading (a pipe).
std::string read_file(const std::filesystem::path& path, std::uintmax_t max_bytes,
                      const std::string& what);

}  // namespace moeplan
