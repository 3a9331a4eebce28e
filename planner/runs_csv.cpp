#include "planner/runs_csv.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <sstream>

#include "util/error.h"
#include "util/files.h"
#include "util/units.h"

namespace moeplan::planner {
namespace {

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  std::string t = s.substr(b, e - b);
  if (t.size() >= 2 && t.front() == '"' && t.back() == '"') t = t.substr(1, t.size() - 2);
  return t;
}

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) fields.push_back(trim(field));
  if (!line.empty() && line.back() == ',') fields.push_back("");
  return fields;
}

struct Column {
  const char* canonical;
  std::vector<std::string> names;  // lower case
  bool required;
  std::optional<std::size_t> index;
};

}  // namespace

std::vector<law::FitRun> parse_runs_csv(const std::string& text, const std::string& origin,
                                        bool sparsity_optional) {
  std::vector<Column> columns = {
      {"params", {"params", "n", "total_params"}, true, {}},
      {"tokens", {"tokens", "d"}, true, {}},
      {"sparsity", {"sparsity", "s"}, !sparsity_optional, {}},
      {"loss", {"loss"}, true, {}},
      {"budget", {"budget", "c", "flops"}, false, {}},
      {"active_params", {"active_params", "n_a", "active"}, false, {}},
  };
  std::vector<law::FitRun> runs;
  std::istringstream in(text);
  std::string line;
  int line_number = 0;
  bool have_header = false;
  std::size_t header_width = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string stripped = trim(line);
    if (stripped.empty() || stripped.front() == '#') continue;
    const auto fields = split_fields(line);
    const std::string where = origin + ":" + std::to_string(line_number);
    if (!have_header) {
      have_header = true;
      header_width = fields.size();
      for (std::size_t i = 0; i < fields.size(); ++i)
        for (auto& column : columns)
          if (std::find(column.names.begin(), column.names.end(), lower(fields[i])) !=
              column.names.end()) {
            if (column.index) fail(where, ": two columns give ", column.canonical);
            column.index = i;
          }
      for (const auto& column : columns)
        if (column.required && !column.index) {
          std::string aliases;
          for (const auto& n : column.names) aliases += (aliases.empty() ? "" : " or ") + n;
          fail(where, ": missing column '", column.canonical, "' (header names it ", aliases, ")");
        }
      continue;
    }
    if (fields.size() != header_width)
      fail(where, ": ", fields.size(), " fields, the header has ", header_width);
    auto value = [&](const Column& column) -> double {
      if (!column.index) return 0.0;
      const std::string& cell = fields[*column.index];
      try {
        return parse_number(cell, column.canonical);  // the CLI's strict parser: no nan/inf/hex
      } catch (const Error&) {
        fail(where, ": ", column.canonical, " '", cell, "' is not a number");
      }
    };
    law::FitRun run;
    run.total_params = value(columns[0]);
    run.tokens = value(columns[1]);
    run.sparsity = value(columns[2]);
    run.loss = value(columns[3]);
    run.budget_flops = value(columns[4]);
    run.active_params = value(columns[5]);
    if (!(run.total_params > 0)) fail(where, ": params must be > 0, got ", run.total_params);
    if (!(run.tokens > 0)) fail(where, ": tokens must be > 0, got ", run.tokens);
    if (!(run.loss > 0)) fail(where, ": loss must be > 0, got ", run.loss);
    if (!(run.sparsity >= 0 && run.sparsity < 1))
      fail(where, ": sparsity must be in [0, 1), got ", run.sparsity);
    if (columns[4].index && !(run.budget_flops > 0))
      fail(where, ": budget must be > 0, got ", run.budget_flops);
    if (columns[5].index && !(run.active_params > 0 && run.active_params <= run.total_params))
      fail(where, ": active_params must be in (0, params], got ", run.active_params);
    runs.push_back(run);
  }
  if (!have_header) fail(origin, ": empty file (expected a header row and runs)");
  if (runs.empty()) fail(origin, ": no runs after the header");
  return runs;
}

std::vector<law::FitRun> read_runs_csv(const std::string& path, bool sparsity_optional) {
  return parse_runs_csv(read_file(path), path, sparsity_optional);
}

}  // namespace moeplan::planner
