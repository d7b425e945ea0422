// One HTTP transfer on libcurl: paced against its rate-limit bucket,
// interruptible, streaming to a file when asked. Whether to send it again is
// not decided here but by the retry policy (R/retry.R), which calls this once
// per transfer, so that one budget of tries covers every cause.
#pragma once

#include <Rcpp.h>

#include <string>
#include <vector>

#include "http_text.h"
#include "pacing.h"

namespace ec5 {

// From http_options() and retry_options() in R; the defaults live there.
struct HttpOptions {
  double connect_timeout;  // seconds to establish a connection
  double low_speed_time;   // abort when slower than low_speed_limit ...
  double low_speed_limit;  // ... bytes per second for low_speed_time
  double timeout;          // whole transfer, 0 = no limit
  double retry_after_cap;  // a longer pacing wait fails instead of blocking R
  std::string user_agent;
  bool verbose;
  SEXP on_wait;            // function(seconds, reason) or NULL
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;
  std::vector<char> body;
  std::string dest;  // "" = keep the body in memory
  bool has_limiter = false;
  LimiterSpec limiter;
  HttpOptions options;
};

// Why a transfer got no HTTP answer. `hint` is a key of the hint texts in
// R/conditions.R; `transient` says a retry may succeed.
struct TransferFailure {
  std::string kind;  // "transport" or "timeout"
  std::string detail;
  std::string hint;
  bool transient = false;
};

struct HttpResponse {
  long status = 0;  // 0 = no answer, see `failure`
  Headers headers;  // the last response's, lower-case names
  std::vector<char> body;
  bool body_in_file = false;
  std::string url;
  double retry_after = 0;  // seconds, NaN when the server asks nothing
  double waited = 0;       // seconds of pacing before the transfer
  bool failed = false;
  TransferFailure failure;
};

// Performs one transfer. HTTP errors and transport failures are returned;
// an unwritable `dest`, a spent rate limit and an interrupt throw ec5::Error.
HttpResponse http_transfer(const HttpRequest& request);

}  // namespace ec5
