// Small helpers that turn C++ containers into R vectors and data frames.
// Strings are always marked UTF-8; std::nullopt is NA.
#pragma once

#include <Rcpp.h>

#include "errors.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ec5 {

using OptString = std::optional<std::string>;

// The one maker of a UTF-8 R string. `s` must hold no NUL (R would raise an
// error); the column builders and the JSON reader refuse NUL before.
inline SEXP r_string(std::string_view s) {
  return Rf_mkCharLenCE(s.data(), static_cast<int>(s.size()), CE_UTF8);
}

inline Rcpp::CharacterVector r_strings(const std::vector<OptString>& x) {
  Rcpp::CharacterVector out(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    SET_STRING_ELT(out, i, x[i] ? r_string(*x[i]) : NA_STRING);
  }
  return out;
}

inline Rcpp::CharacterVector r_strings(const std::vector<std::string>& x) {
  Rcpp::CharacterVector out(x.size());
  for (size_t i = 0; i < x.size(); ++i) SET_STRING_ELT(out, i, r_string(x[i]));
  return out;
}

// The vector is allocated before the string: a CHARSXP passed to create()
// would be unprotected while create() allocates.
inline SEXP r_scalar(const OptString& x) {
  Rcpp::CharacterVector out(1);
  SET_STRING_ELT(out, 0, x ? r_string(*x) : NA_STRING);
  return out;
}

// A data.frame (with the tibble classes when `tibble`) from equal-length
// columns.
inline Rcpp::List data_frame(const std::vector<std::string>& names, Rcpp::List columns,
                             size_t nrow, bool tibble) {
  columns.attr("names") = r_strings(names);
  columns.attr("row.names") =
      Rcpp::IntegerVector::create(NA_INTEGER, -static_cast<int>(nrow));
  if (tibble) {
    columns.attr("class") = Rcpp::CharacterVector::create("tbl_df", "tbl", "data.frame");
  } else {
    columns.attr("class") = "data.frame";
  }
  return columns;
}

}  // namespace ec5
