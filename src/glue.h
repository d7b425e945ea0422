// The boundary between C++ and R. Every exported function wraps its body in
// EC5_BEGIN / EC5_END so that no C++ exception reaches R: an ec5::Error
// becomes an `ec5_cpp_failure` list that R/conditions.R re-raises as a
// classed condition. Rcpp's own long-jump tokens (an R error inside a
// callback) are not std::exceptions and pass through to Rcpp untouched.
#pragma once

#include <Rcpp.h>

#include "errors.h"

namespace ec5 {

inline SEXP failure(const std::string& kind, const std::string& message) {
  Rcpp::List out = Rcpp::List::create(Rcpp::Named("kind") = kind,
                                      Rcpp::Named("message") = message);
  out.attr("class") = "ec5_cpp_failure";
  return out;
}

}  // namespace ec5

#define EC5_BEGIN try {
#define EC5_END                                                  \
  }                                                              \
  catch (const ::ec5::Error& e) {                                \
    return ::ec5::failure(e.kind(), e.what());                   \
  }                                                              \
  catch (const std::bad_alloc&) {                                \
    return ::ec5::failure("memory", "Out of memory.");           \
  }                                                              \
  catch (const std::exception& e) {                              \
    return ::ec5::failure("internal", e.what());                 \
  }
