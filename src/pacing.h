// A client-side copy of the server's rate limiters, so that a lone client
// never receives a 429 and a burst uses each window fully.
//
// The server (Laravel) counts hits in fixed windows: a window opens at the
// first hit after the previous one closed and lasts `seconds`; at most
// `requests` hits fit in it. Buckets are shared with everyone using the same
// project, so the server's X-RateLimit-Remaining overrides our own count when
// it says more has been used.
#pragma once

#include <Rcpp.h>

#include <string>

namespace ec5 {

// Which bucket a request falls in, and the limit configured for it in R
// (published default or the user's option).
struct LimiterSpec {
  std::string key;   // e.g. "https://five.epicollect.net|my-project|entries"
  std::string cls;   // "entries", "project", "media", "global", "token"
  double requests;   // hits allowed per window
  double seconds;    // window length
  bool user;         // the user set this limit: the server may lower it, not raise it
  bool follow_server;  // the server's X-RateLimit-* headers describe this bucket
};

// Reads list(key =, class =, requests =, seconds =, user =, follow_server =) from R.
LimiterSpec limiter_spec(SEXP limiter);

// Seconds to wait before the next hit on this bucket may be sent (0 = now).
double limiter_delay(const LimiterSpec& spec);

// Seconds the pacing will wait in all before `hits` more requests on this
// bucket are sent, each as soon as it may be (transfer time not counted):
// the honest part of a time-left estimate that extrapolation cannot see.
double limiter_wait_ahead(const LimiterSpec& spec, double hits);

// Records a hit that reached the server. `remaining`, `limit` and
// `retry_after` are the server's headers, NaN when absent.
void limiter_record(const LimiterSpec& spec, double remaining, double limit,
                    double retry_after);

// Seconds added to every window end: the server's timers have one-second
// resolution and our window starts a little after its.
double limiter_margin(double seconds);

}  // namespace ec5
