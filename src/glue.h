// The boundary between C++ and R. Every exported function wraps its body in
// EC5_BEGIN / EC5_END so that no C++ exception reaches R: an ec5::Error
// becomes an `ec5_cpp_failure` list (kind, message, fields; see errors.h)
// that cpp_check() in R/conditions.R re-raises as a classed condition.
// Rcpp's own long-jump tokens (an R error inside a callback) are not
// std::exceptions and pass through to Rcpp untouched.
//
// No R API call that can raise an R error may run while C++ objects with
// destructors are alive: its long jump would skip them. Strings from R are
// read with utf8_chars() (r_list.h), which cannot raise one.
#pragma once

#include <Rcpp.h>

#include "errors.h"

namespace ec5 {

inline SEXP failure(const std::string& kind, const std::string& message,
                    const ErrorFields& fields = {}) {
  Rcpp::CharacterVector values(fields.size());
  Rcpp::CharacterVector names(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) {
    names[i] = Rcpp::String(fields[i].first, CE_UTF8);
    values[i] = Rcpp::String(fields[i].second, CE_UTF8);
  }
  values.attr("names") = names;
  Rcpp::List out = Rcpp::List::create(Rcpp::Named("kind") = kind,
                                      Rcpp::Named("message") = Rcpp::String(message, CE_UTF8),
                                      Rcpp::Named("fields") = values);
  out.attr("class") = "ec5_cpp_failure";
  return out;
}

}  // namespace ec5

#define EC5_BEGIN try {
#define EC5_END                                                  \
  }                                                              \
  catch (const ::ec5::Error& e) {                                \
    return ::ec5::failure(e.kind(), e.what(), e.fields());       \
  }                                                              \
  catch (const std::bad_alloc&) {                                \
    return ::ec5::failure("memory", "Out of memory.");           \
  }                                                              \
  catch (const std::exception& e) {                              \
    return ::ec5::failure("internal", e.what());                 \
  }
