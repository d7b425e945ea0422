#include "http_wait.h"

#include <curl/curl.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <random>

#include "glue.h"
#include "interrupt.h"
#include "r_list.h"

namespace ec5 {

namespace {

const std::string* find_header(const Headers& headers, const char* name) {
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    if (it->first == name) return &it->second;
  }
  return nullptr;
}

// Truncated exponential back-off with full jitter: uniform in
// [0, min(cap, base * 2^(attempt - 1))]. Its own generator leaves R's seed
// alone.
double backoff(double attempt, double base, double cap) {
  static std::mt19937 rng{std::random_device{}()};
  const double ceiling = std::min(cap, base * std::pow(2.0, attempt - 1));
  std::uniform_real_distribution<double> jitter(0, std::max(0.0, ceiling));
  return jitter(rng);
}

}  // namespace

double wait_reported(double seconds, const std::string& reason, SEXP on_wait) {
  if (!(seconds > 0)) return 0;
  std::function<void(double)> report;
  if (on_wait != R_NilValue) {
    report = [on_wait, &reason](double remaining) {
      Rcpp::Function callback(on_wait);
      callback(remaining, reason);
    };
  }
  const double start = monotonic_seconds();
  sleep_interruptibly(seconds, report);
  return monotonic_seconds() - start;
}

double header_number(const Headers& headers, const char* name) {
  const std::string* value = find_header(headers, name);
  if (!value || value->empty()) return NAN;
  char* end = nullptr;
  const double x = std::strtod(value->c_str(), &end);
  return end && *end == '\0' ? x : NAN;
}

double retry_after(const Headers& headers, long status) {
  const double seconds = header_number(headers, "retry-after");
  if (!std::isnan(seconds)) return std::max(0.0, seconds);
  const std::string* value = find_header(headers, "retry-after");
  const time_t when = value ? curl_getdate(value->c_str(), nullptr) : -1;
  if (when >= 0) return std::max(0.0, std::difftime(when, std::time(nullptr)));
  return status == 429 ? 60 : NAN;
}

}  // namespace ec5

// The back-off before the retry after `attempt` (R/retry.R), from options
// `backoff_base` and `backoff_cap`, in seconds.
// [[Rcpp::export(rng = false)]]
SEXP http_backoff_cpp(SEXP attempt, SEXP options) {
  EC5_BEGIN
  const double n = ec5::scalar_number(attempt);
  const double base = ec5::list_number(options, "backoff_base", NAN);
  const double cap = ec5::list_number(options, "backoff_cap", NAN);
  if (!(n >= 1) || !(base >= 0) || !(cap >= 0)) {
    throw ec5::Error("argument",
                     "A back-off needs `attempt` >= 1, `backoff_base` >= 0 and `backoff_cap` >= 0.");
  }
  return Rf_ScalarReal(ec5::backoff(n, base, cap));
  EC5_END
}

// A pause of the retry policy (R/retry.R), reported through `on_wait`.
// Returns the seconds waited.
// [[Rcpp::export(rng = false)]]
SEXP http_wait_cpp(SEXP seconds, SEXP reason, SEXP on_wait) {
  EC5_BEGIN
  const double wait = ec5::scalar_number(seconds);
  if (TYPEOF(reason) != STRSXP || Rf_xlength(reason) != 1 || STRING_ELT(reason, 0) == NA_STRING) {
    throw ec5::Error("argument", "`reason` must be a single string.");
  }
  if (on_wait != R_NilValue && !Rf_isFunction(on_wait)) {
    throw ec5::Error("argument", "`on_wait` must be a function or NULL.");
  }
  const char* why = ec5::utf8_chars(STRING_ELT(reason, 0));
  return Rf_ScalarReal(ec5::wait_reported(wait, why, on_wait));
  EC5_END
}
