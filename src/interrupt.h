// Waiting without freezing R: every wait in the HTTP layer (pacing, back-off,
// Retry-After, a transfer in progress) runs in short slices and checks for a
// pending user interrupt in between, without ever long-jumping out of C++.
#pragma once

#include <functional>

namespace ec5 {

// Seconds on a monotonic clock (never jumps with the wall clock).
double monotonic_seconds();

// True when the user has asked to interrupt (Esc, Ctrl-C, the stop button).
// The interrupt is consumed: the caller must throw ec5::Interrupted.
bool interrupt_pending();

// Throws ec5::Interrupted when an interrupt is pending.
void check_interrupt();

// Sleeps `seconds` in slices of at most 100 ms. `report(remaining)` is called
// at the start, at most every 0.25 s while waiting, and with 0 at the end;
// it only reports, the sleeping happens here.
void sleep_interruptibly(double seconds, const std::function<void(double)>& report);

}  // namespace ec5
