#include <curl/curl.h>

#include "glue.h"

// [[Rcpp::export(rng = false)]]
SEXP libcurl_info_cpp() {
  EC5_BEGIN
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  return Rcpp::List::create(
      Rcpp::Named("version") = std::string(info->version),
      Rcpp::Named("ssl") = std::string(info->ssl_version ? info->ssl_version : ""),
      Rcpp::Named("libz") = std::string(info->libz_version ? info->libz_version : ""),
      Rcpp::Named("protocols") = [info] {
        std::vector<std::string> p;
        for (const char* const* it = info->protocols; *it; ++it) p.emplace_back(*it);
        return p;
      }());
  EC5_END
}
