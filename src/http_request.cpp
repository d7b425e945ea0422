// The R side of a transfer: the request list of R/http.R read into an
// HttpRequest (every string converted before any C++ object exists), and the
// response returned as a list.
#include <Rcpp.h>

#include <climits>
#include <cmath>
#include <string>
#include <vector>

#include "glue.h"
#include "http_transfer.h"
#include "r_list.h"

namespace ec5 {

namespace {

double option_number(SEXP options, const char* name) {
  const double x = list_number(options, name, NAN);
  if (std::isnan(x)) throw Error("argument", std::string("`options$") + name + "` must be a number.");
  return x;
}

HttpOptions options_from(SEXP options) {
  if (TYPEOF(options) != VECSXP) throw Error("argument", "`options` must be a list from http_options().");
  SEXP on_wait = list_elt(options, "on_wait");
  if (on_wait != R_NilValue && !Rf_isFunction(on_wait)) {
    throw Error("argument", "`on_wait` must be a function or NULL.");
  }
  HttpOptions opt;
  opt.connect_timeout = option_number(options, "connect_timeout");
  opt.low_speed_time = option_number(options, "low_speed_time");
  opt.low_speed_limit = option_number(options, "low_speed_limit");
  opt.timeout = option_number(options, "timeout");
  opt.retry_after_cap = option_number(options, "retry_after_cap");
  opt.user_agent = list_string(options, "user_agent");
  opt.verbose = list_number(options, "verbose", 0) != 0;
  opt.on_wait = on_wait;
  return opt;
}

// The R strings of `x` (a character vector or NULL), NA dropped.
std::vector<const char*> string_elements(SEXP x, const char* what) {
  if (x != R_NilValue && TYPEOF(x) != STRSXP) {
    throw Error("argument", std::string("`") + what + "` must be a character vector.");
  }
  std::vector<const char*> out;
  for (R_xlen_t i = 0; i < Rf_xlength(x); ++i) {
    if (STRING_ELT(x, i) != NA_STRING) out.push_back(utf8_chars(STRING_ELT(x, i)));
  }
  return out;
}

SEXP strings(const std::vector<std::string>& values) {
  Rcpp::CharacterVector out(values.size());
  for (size_t i = 0; i < values.size(); ++i) out[i] = Rcpp::String(values[i], CE_UTF8);
  return out;
}

SEXP raw_vector(const std::vector<char>& bytes) {
  Rcpp::RawVector out(bytes.size());
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

SEXP failure_to_r(const HttpResponse& resp) {
  if (!resp.failed) return R_NilValue;
  const TransferFailure& f = resp.failure;
  return Rcpp::List::create(
      Rcpp::Named("kind") = f.kind, Rcpp::Named("detail") = Rcpp::String(f.detail, CE_UTF8),
      Rcpp::Named("hint") = f.hint, Rcpp::Named("transient") = f.transient);
}

SEXP response_to_r(const HttpResponse& resp) {
  std::vector<std::string> names, values;
  for (const auto& h : resp.headers) {
    names.push_back(h.first);
    values.push_back(h.second);
  }
  Rcpp::CharacterVector headers = strings(values);
  headers.attr("names") = strings(names);
  return Rcpp::List::create(
      Rcpp::Named("status") = static_cast<int>(resp.status), Rcpp::Named("headers") = headers,
      Rcpp::Named("body") = resp.body_in_file ? R_NilValue : raw_vector(resp.body),
      Rcpp::Named("url") = Rcpp::String(resp.url, CE_UTF8),
      Rcpp::Named("retry_after") = std::isnan(resp.retry_after) ? NA_REAL : resp.retry_after,
      Rcpp::Named("waited") = resp.waited, Rcpp::Named("failure") = failure_to_r(resp));
}

HttpRequest http_request_from(SEXP request) {
  if (TYPEOF(request) != VECSXP) throw Error("argument", "`request` must be a list.");
  SEXP body = list_elt(request, "body");
  if (body != R_NilValue && TYPEOF(body) != RAWSXP) {
    throw Error("argument", "`body` must be a raw vector.");
  }
  SEXP dest = list_elt(request, "dest");
  if (dest != R_NilValue &&
      (TYPEOF(dest) != STRSXP || Rf_xlength(dest) != 1 || STRING_ELT(dest, 0) == NA_STRING)) {
    throw Error("argument", "`dest` must be a single file path.");
  }
  // R translates the path to the native encoding, which only a "bytes"
  // string can make fail: those are taken as they are.
  SEXP dest_char = dest == R_NilValue ? R_NilValue : STRING_ELT(dest, 0);
  const char* dest_path = dest_char == R_NilValue ? nullptr
                          : Rf_getCharCE(dest_char) == CE_BYTES
                              ? CHAR(dest_char)
                              : R_ExpandFileName(Rf_translateChar(dest_char));
  const std::vector<const char*> headers =
      string_elements(list_elt(request, "headers"), "headers");
  HttpRequest req;
  req.method = list_string(request, "method");
  if (req.method.empty()) req.method = "GET";
  if (req.method != "GET" && req.method != "POST") {
    throw Error("argument", "Only GET and POST requests are supported.");
  }
  req.url = list_string(request, "url");
  if (req.url.empty()) throw Error("argument", "`url` must be a single string.");
  req.headers.assign(headers.begin(), headers.end());
  if (body != R_NilValue) {
    const char* bytes = reinterpret_cast<const char*>(RAW(body));
    req.body.assign(bytes, bytes + Rf_xlength(body));
  }
  if (dest_path) req.dest = dest_path;
  SEXP limiter = list_elt(request, "limiter");
  if (limiter != R_NilValue) {
    req.limiter = limiter_spec(limiter);
    req.has_limiter = true;
  }
  req.options = options_from(list_elt(request, "options"));
  return req;
}

}  // namespace

}  // namespace ec5

// One transfer of the request list documented in R/http.R; the retry policy
// (R/retry.R) decides about the next.
// [[Rcpp::export(rng = false)]]
SEXP http_perform_cpp(SEXP request) {
  EC5_BEGIN
  return ec5::response_to_r(ec5::http_transfer(ec5::http_request_from(request)));
  EC5_END
}
