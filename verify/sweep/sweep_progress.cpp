#include "verify/sweep/sweep_progress.h"

#include <cmath>
#include <iomanip>
#include <sstream>

#include "util/units.h"

namespace moeplan::verify {

std::string format_duration(double seconds) {
  const auto s = static_cast<long long>(std::llround(std::max(0.0, seconds)));
  std::ostringstream o;
  if (s >= 3600)
    o << s / 3600 << "h" << std::setw(2) << std::setfill('0') << (s % 3600) / 60 << "m";
  else if (s >= 60)
    o << s / 60 << "m" << std::setw(2) << std::setfill('0') << s % 60 << "s";
  else
    o << s << "s";
  return o.str();
}

SweepProgress::SweepProgress(std::ostream& out, bool terminal) : out_(out), terminal_(terminal) {}

void SweepProgress::start(std::size_t total, std::size_t done, double pending_flops) {
  total_ = total;
  done_ = done;
  pending_flops_ = pending_flops;
  finished_flops_ = 0;
  start_ = std::chrono::steady_clock::now();
  redraw();
}

void SweepProgress::set_running(std::size_t running) {
  running_ = running;
}

void SweepProgress::run_finished(const SweepRun& run, const LedgerRow* row,
                                 const std::string& problem) {
  ++done_;
  finished_flops_ += run.budget_flops;
  std::ostringstream line;
  line << "[" << done_ << "/" << total_ << "] C " << format_sci(run.budget_flops) << "  "
       << law::describe(run.arch) << "  ";
  if (row) {
    line << run_status_name(row->status);
    if (row->val_loss)
      line << "  val_loss " << std::fixed << std::setprecision(4) << *row->val_loss;
    line << "  " << format_duration(row->seconds);
  } else {
    line << problem;
  }
  message(line.str());
}

void SweepProgress::message(const std::string& line) {
  clear_status();
  out_ << line << "\n";
  redraw();
}

void SweepProgress::clear_status() {
  if (terminal_ && status_shown_) out_ << "\r\033[K";
  status_shown_ = false;
}

void SweepProgress::redraw() {
  if (!terminal_) return;
  clear_status();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  out_ << "sweep: " << done_ << "/" << total_ << " runs done, " << running_ << " running";
  if (finished_flops_ > 0 && pending_flops_ > finished_flops_)
    out_ << ", ETA "
         << format_duration(elapsed / finished_flops_ * (pending_flops_ - finished_flops_));
  out_ << std::flush;
  status_shown_ = true;
}

}  // namespace moeplan::verify
