// The HTTP transport: one request on libcurl, with pacing, retries of
// transient failures, interrupts, and streaming to a file.
#pragma once

#include <Rcpp.h>

#include <map>
#include <string>
#include <vector>

#include "pacing.h"

namespace ec5 {

struct HttpOptions {
  double connect_timeout = 30;  // seconds to establish a connection
  double low_speed_time = 60;   // abort when slower than low_speed_limit ...
  double low_speed_limit = 1;   // ... bytes per second for low_speed_time
  double timeout = 0;           // whole transfer, 0 = no limit
  int max_tries = 4;
  double backoff_base = 1;      // seconds; try i waits up to base * 2^(i-1)
  double backoff_cap = 60;
  double retry_after_cap = 180; // a longer Retry-After is returned, not waited
  std::string user_agent;
  bool verbose = false;
  SEXP on_wait = R_NilValue;    // function(seconds, reason) or NULL
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

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  std::vector<char> body;
  bool body_in_file = false;
  std::string url;
  int tries = 0;
  double waited = 0;
};

// Reads the request list documented in R/http.R.
HttpRequest http_request_from(SEXP request);

// Performs the request, retrying transient failures. HTTP errors are returned;
// transport failures that outlast the retries throw ec5::Error.
HttpResponse http_perform(const HttpRequest& request);

// `url` with the values of secret-looking query parameters blanked.
std::string redact_url(const std::string& url);

}  // namespace ec5
