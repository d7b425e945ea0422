#include "pacing.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>

#include "glue.h"
#include "interrupt.h"
#include "r_list.h"

namespace ec5 {

namespace {

struct Bucket {
  std::string cls;
  double window_end = -std::numeric_limits<double>::infinity();
  double count = 0;
  double server_limit = NAN;
  // A 429 told us the bucket is empty until window_end, whatever our count.
  bool exhausted = false;
};

std::map<std::string, Bucket>& buckets() {
  static std::map<std::string, Bucket> state;
  return state;
}

// NaN: the real monotonic clock; otherwise the time tests injected.
double& fake_clock() {
  static double value = NAN;
  return value;
}

double now() {
  const double fake = fake_clock();
  return std::isnan(fake) ? monotonic_seconds() : fake;
}

double effective_limit(const LimiterSpec& spec, const Bucket& bucket) {
  if (std::isnan(bucket.server_limit)) return spec.requests;
  return spec.user ? std::min(spec.requests, bucket.server_limit) : bucket.server_limit;
}

void open_window(Bucket& bucket, double at, double seconds, double count) {
  bucket.window_end = at + seconds + limiter_margin(seconds);
  bucket.count = count;
  bucket.exhausted = false;
}

}  // namespace

double limiter_margin(double seconds) { return std::min(1.0, 0.1 * seconds); }

LimiterSpec limiter_spec(SEXP limiter) {
  if (TYPEOF(limiter) != VECSXP) throw Error("argument", "`limiter` must be a list.");
  LimiterSpec spec;
  spec.key = list_string(limiter, "key");
  spec.cls = list_string(limiter, "class");
  spec.requests = list_number(limiter, "requests", NAN);
  spec.seconds = list_number(limiter, "seconds", NAN);
  spec.user = list_number(limiter, "user", 0) != 0;
  spec.follow_server = list_number(limiter, "follow_server", 1) != 0;
  if (spec.key.empty() || spec.cls.empty() || !(spec.requests >= 1) || !(spec.seconds > 0)) {
    throw Error("argument",
                "`limiter` needs a key, a class, requests >= 1 and seconds > 0.");
  }
  return spec;
}

double limiter_delay(const LimiterSpec& spec) {
  auto it = buckets().find(spec.key);
  if (it == buckets().end()) return 0;
  const Bucket& bucket = it->second;
  const double t = now();
  if (t >= bucket.window_end) return 0;
  if (bucket.exhausted || bucket.count >= effective_limit(spec, bucket)) {
    return bucket.window_end - t;
  }
  return 0;
}

double limiter_wait_ahead(const LimiterSpec& spec, double hits) {
  if (!(hits > 0)) return 0;
  double limit = spec.requests;
  // No window open: the first hit opens a whole one.
  double window_left = spec.seconds + limiter_margin(spec.seconds);
  double room = limit;
  auto it = buckets().find(spec.key);
  if (it != buckets().end()) {
    const Bucket& bucket = it->second;
    limit = effective_limit(spec, bucket);
    room = limit;
    const double t = now();
    if (t < bucket.window_end) {
      window_left = bucket.window_end - t;
      if (bucket.exhausted) room = 0;
      else room = std::max(0.0, limit - bucket.count);
    }
  }
  if (hits <= room) return 0;
  // The first hit beyond the room waits for this window to end; every
  // further `limit` hits wait for one more whole window.
  const double later_windows = std::ceil((hits - room) / limit) - 1;
  return window_left + later_windows * (spec.seconds + limiter_margin(spec.seconds));
}

void limiter_record(const LimiterSpec& spec, double remaining, double limit,
                    double retry_after) {
  Bucket& bucket = buckets()[spec.key];
  bucket.cls = spec.cls;
  const double t = now();
  const bool fresh = t >= bucket.window_end;
  if (!spec.follow_server) remaining = limit = NAN;
  if (limit > 0) bucket.server_limit = limit;
  if (!std::isnan(retry_after)) {
    // A 429 is not counted by the server, but it tells when its window ends.
    bucket.window_end = t + std::max(0.0, retry_after) + limiter_margin(spec.seconds);
    bucket.exhausted = true;
    return;
  }
  if (fresh) {
    open_window(bucket, t, spec.seconds, 1);
  } else {
    bucket.count += 1;
  }
  if (std::isnan(remaining) || std::isnan(bucket.server_limit)) return;
  const double used = std::max(0.0, bucket.server_limit - remaining);
  if (used > bucket.count) {
    bucket.count = used;  // others share the bucket
  } else if (used < bucket.count && !fresh) {
    // The server's count is never below ours within one window, so its
    // window has restarted since ours opened: follow it.
    open_window(bucket, t, spec.seconds, used);
  }
}

}  // namespace ec5

// [[Rcpp::export(rng = false)]]
SEXP limiter_reset_cpp() {
  EC5_BEGIN
  ec5::buckets().clear();
  return R_NilValue;
  EC5_END
}

// [[Rcpp::export(rng = false)]]
SEXP limiter_set_clock_cpp(SEXP time) {
  EC5_BEGIN
  ec5::fake_clock() = ec5::scalar_number(time);
  return R_NilValue;
  EC5_END
}

// [[Rcpp::export(rng = false)]]
SEXP limiter_delay_cpp(SEXP limiter) {
  EC5_BEGIN
  return Rf_ScalarReal(ec5::limiter_delay(ec5::limiter_spec(limiter)));
  EC5_END
}

// [[Rcpp::export(rng = false)]]
SEXP limiter_wait_ahead_cpp(SEXP limiter, SEXP hits) {
  EC5_BEGIN
  return Rf_ScalarReal(ec5::limiter_wait_ahead(ec5::limiter_spec(limiter), ec5::scalar_number(hits)));
  EC5_END
}

// [[Rcpp::export(rng = false)]]
SEXP limiter_record_cpp(SEXP limiter, SEXP remaining, SEXP limit, SEXP retry_after) {
  EC5_BEGIN
  ec5::limiter_record(ec5::limiter_spec(limiter), ec5::scalar_number(remaining),
                      ec5::scalar_number(limit), ec5::scalar_number(retry_after));
  return R_NilValue;
  EC5_END
}

// [[Rcpp::export(rng = false)]]
SEXP limiter_state_cpp() {
  EC5_BEGIN
  const double t = ec5::now();
  const auto& all = ec5::buckets();
  Rcpp::CharacterVector key(all.size()), cls(all.size());
  Rcpp::NumericVector used(all.size()), server_limit(all.size()), resets_in(all.size());
  Rcpp::LogicalVector exhausted(all.size());
  R_xlen_t i = 0;
  for (const auto& entry : all) {
    const ec5::Bucket& b = entry.second;
    const bool open = t < b.window_end;
    key[i] = Rcpp::String(entry.first, CE_UTF8);
    cls[i] = b.cls;
    used[i] = open ? b.count : 0;
    server_limit[i] = std::isnan(b.server_limit) ? NA_REAL : b.server_limit;
    resets_in[i] = open ? b.window_end - t : 0;
    exhausted[i] = open && b.exhausted;
    ++i;
  }
  return Rcpp::List::create(Rcpp::Named("key") = key, Rcpp::Named("class") = cls,
                            Rcpp::Named("used") = used,
                            Rcpp::Named("server_limit") = server_limit,
                            Rcpp::Named("resets_in") = resets_in,
                            Rcpp::Named("exhausted") = exhausted);
  EC5_END
}
