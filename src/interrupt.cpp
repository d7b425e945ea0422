#include "interrupt.h"

#include <R_ext/Utils.h>
#include <Rinternals.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "errors.h"

namespace ec5 {

namespace {

void check_interrupt_fn(void*) { R_CheckUserInterrupt(); }

constexpr double kSlice = 0.1;
constexpr double kReportEvery = 0.25;

}  // namespace

double monotonic_seconds() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

bool interrupt_pending() {
  // R_ToplevelExec catches the interrupt's long jump, so libcurl and our
  // RAII objects never see it.
  return R_ToplevelExec(check_interrupt_fn, nullptr) == FALSE;
}

void check_interrupt() {
  if (interrupt_pending()) throw Interrupted();
}

void sleep_interruptibly(double seconds, const std::function<void(double)>& report) {
  if (!(seconds > 0)) return;
  const double end = monotonic_seconds() + seconds;
  double last_report = -1;
  for (;;) {
    check_interrupt();
    const double now = monotonic_seconds();
    const double remaining = end - now;
    if (remaining <= 0) break;
    if (report && (last_report < 0 || now - last_report >= kReportEvery)) {
      report(remaining);
      last_report = now;
    }
    const double slice = std::min(kSlice, remaining);
    std::this_thread::sleep_for(std::chrono::duration<double>(slice));
  }
  if (report) report(0);
}

}  // namespace ec5
