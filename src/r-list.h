// Reading named elements of the R lists that describe requests and limiters.
#pragma once

#include <Rcpp.h>

#include <cmath>
#include <cstring>
#include <string>

#include "glue.h"

namespace ec5 {

// The element called `name`, or R_NilValue when there is none.
inline SEXP list_elt(SEXP list, const char* name) {
  SEXP names = Rf_getAttrib(list, R_NamesSymbol);
  if (TYPEOF(list) != VECSXP || TYPEOF(names) != STRSXP) return R_NilValue;
  for (R_xlen_t i = 0; i < Rf_xlength(list); ++i) {
    if (std::strcmp(CHAR(STRING_ELT(names, i)), name) == 0) return VECTOR_ELT(list, i);
  }
  return R_NilValue;
}

// A single number, or `fallback` when absent, NA or not a number.
inline double list_number(SEXP list, const char* name, double fallback) {
  SEXP value = list_elt(list, name);
  if (!(Rf_isReal(value) || Rf_isInteger(value) || Rf_isLogical(value)) ||
      Rf_xlength(value) != 1) {
    return fallback;
  }
  const double x = Rf_asReal(value);
  return std::isnan(x) ? fallback : x;
}

// A single string (UTF-8), or "" when absent or NA. It is read with
// utf8_chars(), so that reading it never raises an R error.
inline std::string list_string(SEXP list, const char* name) {
  SEXP value = list_elt(list, name);
  if (TYPEOF(value) != STRSXP || Rf_xlength(value) != 1 ||
      STRING_ELT(value, 0) == NA_STRING) {
    return "";
  }
  return utf8_chars(STRING_ELT(value, 0));
}

// A number from an R scalar, NaN when NULL, NA or not a number.
inline double scalar_number(SEXP value) {
  if (!(Rf_isReal(value) || Rf_isInteger(value) || Rf_isLogical(value)) ||
      Rf_xlength(value) != 1) {
    return NAN;
  }
  return Rf_asReal(value);
}

}  // namespace ec5
