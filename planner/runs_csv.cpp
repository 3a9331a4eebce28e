#include "planner/runs_csv.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <sstream>

#include "util/error.h"
#include "util/file_limits.h"
#include "util/text.h"
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
  std::vector<std::string> names;      // lower case; two of them in one header is an error
  std::vector<std::string> fallbacks;  // read only when no name is in the header
  bool required;
  std::optional<std::size_t> index;
};

// The columns, in FitRun order, then the status column.
enum ColumnIndex { kParams, kTokens, kSparsity, kLoss, kBudget, kActive, kStatus };

std::vector<Column> runs_columns(bool sparsity_optional) {
  return {
      {"params", {"params", "n", "total_params"}, {}, true, {}},
      {"tokens", {"tokens", "d"}, {}, true, {}},
      {"sparsity", {"sparsity", "s"}, {}, !sparsity_optional, {}},
      {"loss", {"loss"}, {"val_loss"}, true, {}},
      {"budget", {"budget", "c", "flops"}, {}, false, {}},
      {"active_params", {"active_params", "n_a", "n_active", "active"}, {}, false, {}},
      {"status", {"status"}, {}, false, {}},
  };
}

// Finds each column in the header row: by its names, else by its fallbacks.
void read_header(const std::vector<std::string>& fields, const std::string& where,
                 std::vector<Column>& columns) {
  for (auto& column : columns) {
    for (const auto* names : {&column.names, &column.fallbacks}) {
      for (std::size_t i = 0; i < fields.size(); ++i) {
        if (std::find(names->begin(), names->end(), lower(fields[i])) == names->end()) continue;
        if (column.index) fail(where, ": two columns give ", column.canonical);
        column.index = i;
      }
      if (column.index) break;
    }
    if (column.required && !column.index) {
      std::string aliases;
      for (const auto* names : {&column.names, &column.fallbacks})
        for (const auto& n : *names) aliases += (aliases.empty() ? "" : " or ") + n;
      fail(where, ": missing column '", column.canonical, "' (header names it ", aliases, ")");
    }
  }
}

law::FitRun read_run(const std::vector<std::string>& fields, const std::string& where,
                     const std::vector<Column>& columns) {
  auto value = [&](const Column& column) -> double {
    if (!column.index) return 0.0;
    const std::string& cell = fields[*column.index];
    try {
      return parse_number(cell, column.canonical);  // the CLI's strict parser: no nan/inf/hex
    } catch (const Error&) {
      fail(where, ": ", column.canonical, " ", quoted_excerpt(cell), " is not a number");
    }
  };
  law::FitRun run;
  run.total_params = value(columns[kParams]);
  run.tokens = value(columns[kTokens]);
  run.sparsity = value(columns[kSparsity]);
  run.loss = value(columns[kLoss]);
  run.budget_flops = value(columns[kBudget]);
  run.active_params = value(columns[kActive]);
  if (!(run.total_params > 0)) fail(where, ": params must be > 0, got ", run.total_params);
  if (!(run.tokens > 0)) fail(where, ": tokens must be > 0, got ", run.tokens);
  if (!(run.loss > 0)) fail(where, ": loss must be > 0, got ", run.loss);
  if (!(run.sparsity >= 0 && run.sparsity < 1))
    fail(where, ": sparsity must be in [0, 1), got ", run.sparsity);
  if (columns[kBudget].index && !(run.budget_flops > 0))
    fail(where, ": budget must be > 0, got ", run.budget_flops);
  if (columns[kActive].index && !(run.active_params > 0 && run.active_params <= run.total_params))
    fail(where, ": active_params must be in (0, params], got ", run.active_params);
  return run;
}

// The status a row is left out under, or "" for an ok row (or a file without the column).
// A status is a word: it names the rows in reports and keys in JSON, which must be valid UTF-8
// (a stray byte there made the JSON report throw), so anything but printable ASCII is refused.
std::string status_left_out(const std::vector<std::string>& fields, const Column& status,
                            const std::string& where) {
  if (!status.index) return "";
  const std::string value = lower(fields[*status.index]);
  if (value == "ok") return "";
  for (const char c : value)
    if (c < 0x20 || c > 0x7e)
      fail(where, ": status ", quoted_excerpt(value), " is not printable ASCII");
  if (value.empty()) return "blank";
  return value.size() <= kExcerptChars ? value : quoted_excerpt(value);
}

}  // namespace

std::size_t RunsCsv::left_out_count() const {
  std::size_t n = 0;
  for (const auto& [status, count] : left_out) n += count;
  return n;
}

namespace {

// Lines of a stream, each refused once it passes kMaxRunsCsvLineBytes: a 1 GB line costs a
// 64 KiB read, not 1 GB of memory.
class LineReader {
 public:
  explicit LineReader(std::istream& in) : in_(in), buffer_(kMaxRunsCsvLineBytes + 1) {}

  // The next line (without its '\n') into `line`; false at the end.
  bool next(std::string& line, const std::string& origin, int line_number) {
    // getline stores at most size - 1 bytes, and fails when the line has more.
    in_.getline(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    const auto count = static_cast<std::size_t>(in_.gcount());
    if (in_.fail() && !in_.eof() && count == kMaxRunsCsvLineBytes)
      fail(origin, ":", line_number, ": line longer than ", kMaxRunsCsvLineBytes,
           " bytes (a runs CSV row is a few numbers)");
    if (count == 0) return false;  // the end (or a stream that failed before it)
    line.assign(buffer_.data(), in_.eof() ? count : count - 1);  // gcount counts the '\n'
    return true;
  }

 private:
  std::istream& in_;
  std::vector<char> buffer_;
};

}  // namespace

RunsCsv parse_runs_stream(std::istream& in, const std::string& origin, bool sparsity_optional) {
  std::vector<Column> columns = runs_columns(sparsity_optional);
  RunsCsv table;
  std::string line;
  int line_number = 0;
  bool have_header = false;
  std::size_t header_width = 0;
  LineReader lines(in);
  while (lines.next(line, origin, line_number + 1)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::string stripped = trim(line);
    if (stripped.empty() || stripped.front() == '#') continue;
    const auto fields = split_fields(line);
    const std::string where = origin + ":" + std::to_string(line_number);
    if (!have_header) {
      have_header = true;
      header_width = fields.size();
      read_header(fields, where, columns);
      continue;
    }
    if (fields.size() != header_width)
      fail(where, ": ", fields.size(), " fields, the header has ", header_width);
    const std::string status = status_left_out(fields, columns[kStatus], where);
    if (!status.empty()) {
      ++table.left_out[status];
      continue;
    }
    table.runs.push_back(read_run(fields, where, columns));
  }
  if (!have_header) fail(origin, ": empty file (expected a header row and runs)");
  if (table.runs.empty())
    fail(origin, ": no runs after the header",
         table.left_out.empty() ? "" : " with status ok (" + left_out_line(table) + ")");
  return table;
}

RunsCsv parse_runs_table(const std::string& text, const std::string& origin,
                         bool sparsity_optional) {
  std::istringstream in(text);
  return parse_runs_stream(in, origin, sparsity_optional);
}

RunsCsv read_runs_table(const std::string& path, bool sparsity_optional) {
  std::ifstream in = open_input_file(path, kMaxRunsCsvBytes, "runs CSV");
  return parse_runs_stream(in, path, sparsity_optional);
}

std::vector<law::FitRun> parse_runs_csv(const std::string& text, const std::string& origin,
                                        bool sparsity_optional) {
  return parse_runs_table(text, origin, sparsity_optional).runs;
}

std::vector<law::FitRun> read_runs_csv(const std::string& path, bool sparsity_optional) {
  return read_runs_table(path, sparsity_optional).runs;
}

std::string left_out_line(const RunsCsv& table) {
  const std::size_t total = table.left_out_count();
  if (total == 0) return "";
  std::string line = "left out " + std::to_string(total) + (total == 1 ? " run: " : " runs: ");
  bool first = true;
  for (const auto& [status, count] : table.left_out) {
    line += (first ? "" : ", ") + std::to_string(count) + " " + status;
    first = false;
  }
  return line;
}

nlohmann::json left_out_json(const RunsCsv& table) {
  nlohmann::json by_status = nlohmann::json::object();
  for (const auto& [status, count] : table.left_out) by_status[status] = count;
  return {{"runs", table.left_out_count()}, {"by_status", by_status}};
}

}  // namespace moeplan::planner
