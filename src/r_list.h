// Reading R arguments: named elements of the R lists that describe requests,
// limiters and tables, and the text of R strings.
#pragma once

#include <Rcpp.h>

#include <cmath>
#include <cstring>
#include <string>
#include <string_view>

#include "errors.h"

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

// The UTF-8 text of a CHARSXP that is not NA. Strings declared "bytes" are
// taken as they are: Rf_translateCharUTF8 raises an R error on them, a long
// jump over the caller's C++ objects.
inline const char* utf8_chars(SEXP s) {
  return Rf_getCharCE(s) == CE_BYTES ? CHAR(s) : Rf_translateCharUTF8(s);
}

// Element `i` of a character vector as UTF-8, "" when NA.
inline std::string utf8_at(SEXP x, R_xlen_t i) {
  SEXP s = STRING_ELT(x, i);
  return s == NA_STRING ? std::string() : std::string(utf8_chars(s));
}

// A single string (UTF-8), or "" when absent or NA.
inline std::string list_string(SEXP list, const char* name) {
  SEXP value = list_elt(list, name);
  if (TYPEOF(value) != STRSXP || Rf_xlength(value) != 1) return "";
  return utf8_at(value, 0);
}

// A number from an R scalar, NaN when NULL, NA or not a number.
inline double scalar_number(SEXP value) {
  if (!(Rf_isReal(value) || Rf_isInteger(value) || Rf_isLogical(value)) ||
      Rf_xlength(value) != 1) {
    return NAN;
  }
  return Rf_asReal(value);
}

// The bytes of a JSON text given from R as a raw vector or a character
// scalar (translated to UTF-8 unless it is declared "bytes").
inline std::string_view json_input(SEXP json) {
  if (TYPEOF(json) == RAWSXP) {
    return std::string_view(reinterpret_cast<const char*>(RAW(json)),
                            static_cast<size_t>(Rf_xlength(json)));
  }
  if (TYPEOF(json) == STRSXP && Rf_xlength(json) == 1 && STRING_ELT(json, 0) != NA_STRING) {
    // A string R need not translate is its own bytes: their length is known
    // (a page is megabytes; strlen() cost 2 % of flattening one).
    SEXP s = STRING_ELT(json, 0);
    const char* p = utf8_chars(s);
    if (p == CHAR(s)) return std::string_view(p, static_cast<size_t>(LENGTH(s)));
    return std::string_view(p);
  }
  throw Error("argument", "The JSON must be a single string or a raw vector.");
}

}  // namespace ec5
