#include "verify/sweep/ledger.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <sstream>

#include "planner/runs_csv.h"
#include "util/error.h"
#include "util/file_limits.h"
#include "util/files.h"
#include "util/units.h"

namespace moeplan::verify {
namespace {

// Cells of one CSV line (the ledger never quotes: text cells hold no comma), empty ones kept.
std::vector<std::string> split_cells(const std::string& line) {
  std::vector<std::string> cells(1);
  for (const char c : line) {
    if (c == ',')
      cells.emplace_back();
    else if (c != '\r')
      cells.back() += c;
  }
  return cells;
}

std::string join_cells(const std::vector<std::string>& cells) {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) line += (i ? "," : "") + cells[i];
  return line;
}

// Shortest text that reads back to the same double. Never NaN or infinite: read_ledger refuses
// them, so one such cell would make the whole ledger unreadable.
std::string number_cell(double value, const char* column) {
  if (!std::isfinite(value)) fail("ledger column ", column, " cannot hold ", value);
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

std::string text_cell(const std::string& value, const char* column) {
  if (value.find_first_of(",\"\n\r") != std::string::npos)
    fail("ledger column ", column, " cannot hold '", value, "' (comma, quote or newline)");
  return value;
}

std::string format_row(const LedgerRow& r) {
  const auto loss = [](const std::optional<double>& v, const char* column) {
    return v ? number_cell(*v, column) : "";
  };
  if (r.status == RunStatus::kOk && !r.val_loss)
    fail("ledger row ", r.key, ": an ok run needs a val_loss");
  const std::vector<std::string> cells = {text_cell(r.key, "key"),
                                          run_status_name(r.status),
                                          number_cell(r.budget_flops, "C"),
                                          number_cell(r.params, "N"),
                                          number_cell(r.active_params, "N_active"),
                                          number_cell(r.tokens, "D"),
                                          number_cell(r.sparsity, "S"),
                                          std::to_string(r.d_model),
                                          std::to_string(r.layers),
                                          std::to_string(r.heads),
                                          std::to_string(r.experts),
                                          std::to_string(r.top_k),
                                          std::to_string(r.granularity),
                                          std::to_string(r.vocab),
                                          std::to_string(r.context),
                                          std::to_string(r.batch_sequences),
                                          number_cell(r.peak_lr, "lr"),
                                          std::to_string(r.seed),
                                          std::to_string(r.steps),
                                          loss(r.val_loss, "val_loss"),
                                          loss(r.train_loss, "train_loss"),
                                          number_cell(r.tokens_per_s, "tokens_per_s"),
                                          number_cell(r.seconds, "seconds"),
                                          text_cell(r.data_fingerprint, "data_fingerprint"),
                                          text_cell(r.moeplan_version, "moeplan_version")};
  return join_cells(cells);
}

RunStatus parse_status(const std::string& text, const std::string& where) {
  for (const RunStatus s : {RunStatus::kOk, RunStatus::kDiverged, RunStatus::kFailed})
    if (text == run_status_name(s)) return s;
  fail(where, ": status must be ok, diverged or failed, got '", text, "'");
}

// One row's cells, parsed strictly; `where` is "FILE:LINE".
LedgerRow parse_row(const std::vector<std::string>& cells, const std::string& where) {
  std::size_t i = 0;
  const auto& names = ledger_columns();
  const auto number = [&]() { return parse_number(cells[i], where + ": " + names[i]); };
  const auto whole = [&]() {
    const double v = number();
    if (v != std::floor(v) || std::fabs(v) > 9.007199254740992e15)
      fail(where, ": ", names[i], " must be a whole number, got '", cells[i], "'");
    return static_cast<std::int64_t>(v);
  };
  LedgerRow r;
  r.key = cells[i++];
  r.status = parse_status(cells[i++], where);
  r.budget_flops = number(), ++i;
  r.params = number(), ++i;
  r.active_params = number(), ++i;
  r.tokens = number(), ++i;
  r.sparsity = number(), ++i;
  for (std::int64_t* field : {&r.d_model, &r.layers, &r.heads, &r.experts, &r.top_k, &r.granularity,
                              &r.vocab, &r.context, &r.batch_sequences})
    *field = whole(), ++i;
  r.peak_lr = number(), ++i;
  r.seed = static_cast<std::uint64_t>(whole()), ++i;
  r.steps = whole(), ++i;
  for (std::optional<double>* loss : {&r.val_loss, &r.train_loss}) {
    if (!cells[i].empty()) *loss = number();
    ++i;
  }
  if (r.status == RunStatus::kOk && !r.val_loss) fail(where, ": an ok row needs a val_loss");
  r.tokens_per_s = number(), ++i;
  r.seconds = number(), ++i;
  r.data_fingerprint = cells[i++];
  r.moeplan_version = cells[i++];
  return r;
}

std::string format_ledger(const std::vector<LedgerRow>& rows) {
  std::string text = join_cells(ledger_columns()) + "\n";
  for (const LedgerRow& r : rows) text += format_row(r) + "\n";
  return text;
}

// An exclusive flock on LEDGER.lock for the object's lifetime; the kernel drops it if the
// process dies, so a killed worker never blocks the others.
class LedgerLock {
 public:
  explicit LedgerLock(const std::filesystem::path& ledger_path) {
    auto lock_path = ledger_path;
    lock_path += ".lock";
    fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("cannot open '", lock_path.string(), "': ", std::strerror(errno));
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd_);
      fail("cannot lock '", lock_path.string(), "': ", std::strerror(saved));
    }
  }
  ~LedgerLock() { ::close(fd_); }  // closing releases the lock
  LedgerLock(const LedgerLock&) = delete;
  LedgerLock& operator=(const LedgerLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace

const char* run_status_name(RunStatus status) {
  switch (status) {
    case RunStatus::kOk:
      return "ok";
    case RunStatus::kDiverged:
      return "diverged";
    case RunStatus::kFailed:
      return "failed";
  }
  return "failed";
}

const std::vector<std::string>& ledger_columns() {
  static const std::vector<std::string> columns = {"key",
                                                   "status",
                                                   "C",
                                                   "N",
                                                   "N_active",
                                                   "D",
                                                   "S",
                                                   "d_model",
                                                   "layers",
                                                   "heads",
                                                   "E",
                                                   "K",
                                                   "G",
                                                   "vocab",
                                                   "context",
                                                   "batch",
                                                   "lr",
                                                   "seed",
                                                   "steps",
                                                   "val_loss",
                                                   "train_loss",
                                                   "tokens_per_s",
                                                   "seconds",
                                                   "data_fingerprint",
                                                   "moeplan_version"};
  return columns;
}

std::vector<LedgerRow> read_ledger(const std::filesystem::path& ledger_path) {
  std::error_code ec;
  if (!std::filesystem::exists(ledger_path, ec)) return {};
  std::istringstream in(read_file(ledger_path, planner::kMaxRunsCsvBytes, "sweep ledger"));
  std::string line;
  std::vector<LedgerRow> rows;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    const std::string where = ledger_path.string() + ":" + std::to_string(line_number);
    const std::vector<std::string> cells = split_cells(line);
    if (line_number == 1) {
      if (cells != ledger_columns()) fail(where, ": not a sweep ledger (unexpected header)");
      continue;
    }
    if (line.empty()) continue;
    if (cells.size() != ledger_columns().size())
      fail(where, ": expected ", ledger_columns().size(), " cells, got ", cells.size());
    rows.push_back(parse_row(cells, where));
  }
  return rows;
}

void record_run(const std::filesystem::path& ledger_path, const LedgerRow& row) {
  const LedgerLock lock(ledger_path);
  std::vector<LedgerRow> rows = read_ledger(ledger_path);
  const auto same =
      std::find_if(rows.begin(), rows.end(), [&](const LedgerRow& r) { return r.key == row.key; });
  if (same != rows.end())
    *same = row;
  else
    rows.push_back(row);
  write_file_atomic(ledger_path, format_ledger(rows));
}

}  // namespace moeplan::verify
