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

inline SEXP r_string(const std::string& s) {
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

// The bytes of a JSON text given from R as a raw vector or a character
// scalar (translated to UTF-8 unless it is declared "bytes").
inline std::string_view json_input(SEXP json) {
  if (TYPEOF(json) == RAWSXP) {
    return std::string_view(reinterpret_cast<const char*>(RAW(json)),
                            static_cast<size_t>(Rf_xlength(json)));
  }
  if (TYPEOF(json) == STRSXP && Rf_xlength(json) == 1 && STRING_ELT(json, 0) != NA_STRING) {
    SEXP s = STRING_ELT(json, 0);
    if (Rf_getCharCE(s) == CE_BYTES) {
      return std::string_view(CHAR(s), static_cast<size_t>(LENGTH(s)));
    }
    return std::string_view(Rf_translateCharUTF8(s));
  }
  throw Error("argument", "The JSON must be a single string or a raw vector.");
}

}  // namespace ec5
