// The waits around transfers (pacing before one; back-off and Retry-After
// between two, decided by the retry policy in R/retry.R), each interruptible
// and reported to R while it passes, and the reading of Retry-After.
#pragma once

#include <Rcpp.h>

#include <string>

#include "http_text.h"

namespace ec5 {

// Sleeps `seconds`, calling R's `on_wait(remaining, reason)` (a function or
// NULL) as sleep_interruptibly() reports. Returns the seconds waited.
double wait_reported(double seconds, const std::string& reason, SEXP on_wait);

// A numeric header, NaN when absent or not a number.
double header_number(const Headers& headers, const char* name);

// How long the server asks to wait: Retry-After in seconds or as an HTTP
// date, NaN when absent or unreadable. A 429 without one means a minute
// (API-NOTES.md section 11).
double retry_after(const Headers& headers, long status);

}  // namespace ec5
