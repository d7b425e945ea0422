#include "http_redact.h"

#include <Rcpp.h>

#include "glue.h"
#include "http_text.h"
#include "r_list.h"

namespace ec5 {

std::string redact_url(const std::string& url) {
  static const char* secrets[] = {"client_secret", "access_token", "token", "secret"};
  const size_t query = url.find('?');
  if (query == std::string::npos) return url;
  std::string out = url.substr(0, query + 1);
  size_t start = query + 1;
  while (start <= url.size()) {
    size_t end = url.find('&', start);
    if (end == std::string::npos) end = url.size();
    const std::string pair = url.substr(start, end - start);
    const size_t eq = pair.find('=');
    const std::string name = lower(pair.substr(0, eq));
    bool secret = false;
    for (const char* s : secrets) secret = secret || name == s;
    out += secret && eq != std::string::npos ? pair.substr(0, eq + 1) + "<redacted>" : pair;
    if (end < url.size()) out += '&';
    start = end + 1;
  }
  return out;
}

}  // namespace ec5

// [[Rcpp::export(rng = false)]]
SEXP redact_url_cpp(SEXP urls) {
  EC5_BEGIN
  if (TYPEOF(urls) != STRSXP) throw ec5::Error("argument", "`urls` must be a character vector.");
  const R_xlen_t n = Rf_xlength(urls);
  Rcpp::CharacterVector out(n);
  for (R_xlen_t i = 0; i < n; ++i) {
    SEXP url = STRING_ELT(urls, i);
    if (url == NA_STRING) {
      SET_STRING_ELT(out, i, NA_STRING);
      continue;
    }
    const char* chars = ec5::utf8_chars(url);
    SET_STRING_ELT(out, i, Rf_mkCharCE(ec5::redact_url(chars).c_str(), CE_UTF8));
  }
  return out;
  EC5_END
}
