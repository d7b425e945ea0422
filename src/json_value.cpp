// Generic JSON -> R, for the small documents whose shape is not fixed in
// advance: tokens, error bodies, search results, project versions.
//   object                      -> named list
//   array of one scalar type    -> atomic vector (null -> NA)
//   any other array             -> list (null -> NULL)
//   integers beyond int32       -> double
#include <Rcpp.h>

#include <climits>
#include <cstring>
#include <string>
#include <string_view>

#include "glue.h"
#include "json.h"
#include "r_list.h"
#include "r_vectors.h"

namespace ec5 {

namespace {

using rapidjson::Value;

// The documents read here are a few levels deep; deeper nesting is refused
// rather than recursed into (it would overflow the C stack).
const int kMaxDepth = 512;

SEXP string_to_r(const Value& v) {
  const char* s = v.GetString();
  const rapidjson::SizeType n = v.GetStringLength();
  // R strings cannot hold NUL; Rf_mkCharLenCE would raise an R error here.
  if (std::memchr(s, '\0', n)) throw Error("parse", "A JSON string contains a NUL character.");
  return ec5::r_string({s, n});
}

bool fits_int(const Value& v) { return v.IsInt() && v.GetInt() != INT_MIN; }

enum class Kind { none, logical, integer, real, string, mixed };

Kind scalar_kind(const Value& v) {
  if (v.IsBool()) return Kind::logical;
  if (v.IsNumber()) return fits_int(v) ? Kind::integer : Kind::real;
  if (v.IsString()) return Kind::string;
  return Kind::mixed;
}

// The atomic type an array can become, or `mixed` when it must be a list.
Kind array_kind(const Value& array) {
  Kind kind = Kind::none;
  for (const Value& v : array.GetArray()) {
    if (v.IsNull()) continue;
    const Kind k = scalar_kind(v);
    if (kind == Kind::none || kind == k) {
      kind = k;
    } else if ((kind == Kind::integer && k == Kind::real) ||
               (kind == Kind::real && k == Kind::integer)) {
      kind = Kind::real;
    } else {
      return Kind::mixed;
    }
  }
  return kind;
}

SEXP value_to_r(const Value& v, int depth);

// An atomic vector of R type RTYPE; `convert` reads one non-null element.
template <int RTYPE, typename Convert>
SEXP fill(const Value& array, Convert convert) {
  Rcpp::Vector<RTYPE> out(array.Size());
  R_xlen_t i = 0;
  for (const Value& v : array.GetArray()) {
    out[i++] = v.IsNull() ? Rcpp::traits::get_na<RTYPE>() : convert(v);
  }
  return out;
}

SEXP array_to_r(const Value& array, int depth) {
  switch (array_kind(array)) {
    case Kind::none:
    case Kind::logical:
      return fill<LGLSXP>(array, [](const Value& v) { return static_cast<int>(v.GetBool()); });
    case Kind::integer:
      return fill<INTSXP>(array, [](const Value& v) { return v.GetInt(); });
    case Kind::real:
      return fill<REALSXP>(array, [](const Value& v) { return v.GetDouble(); });
    case Kind::string:
      return fill<STRSXP>(array, [](const Value& v) { return string_to_r(v); });
    case Kind::mixed:
      break;
  }
  Rcpp::List out(array.Size());
  R_xlen_t i = 0;
  for (const Value& v : array.GetArray()) out[i++] = value_to_r(v, depth + 1);
  return out;
}

SEXP object_to_r(const Value& object, int depth) {
  const R_xlen_t n = object.MemberCount();
  Rcpp::List out(n);
  Rcpp::CharacterVector names(n);
  R_xlen_t i = 0;
  for (const auto& member : object.GetObject()) {
    SET_STRING_ELT(names, i, string_to_r(member.name));
    out[i++] = value_to_r(member.value, depth + 1);
  }
  out.attr("names") = names;
  return out;
}

SEXP value_to_r(const Value& v, int depth) {
  if (depth > kMaxDepth) {
    throw Error("parse", "The JSON nests deeper than " + std::to_string(kMaxDepth) + " levels.");
  }
  if (v.IsNull()) return R_NilValue;
  if (v.IsObject()) return object_to_r(v, depth);
  if (v.IsArray()) {
    if (v.Empty()) return Rcpp::List(0);
    return array_to_r(v, depth);
  }
  if (v.IsBool()) return Rf_ScalarLogical(v.GetBool());
  if (fits_int(v)) return Rf_ScalarInteger(v.GetInt());
  if (v.IsNumber()) return Rf_ScalarReal(v.GetDouble());
  Rcpp::CharacterVector out(1);
  SET_STRING_ELT(out, 0, string_to_r(v));
  return out;
}

}  // namespace

}  // namespace ec5

// [[Rcpp::export(rng = false)]]
SEXP json_parse_cpp(SEXP json) {
  EC5_BEGIN
  // Read before the document exists: nothing with a destructor is alive
  // should reading the R string raise an R error.
  const std::string_view text = ec5::json_input(json);
  rapidjson::Document doc;
  doc.Parse<ec5::kParseFlags | rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    throw ec5::Error("parse", std::string("Invalid JSON at byte ") +
                                  std::to_string(doc.GetErrorOffset()) + ": " +
                                  rapidjson::GetParseError_En(doc.GetParseError()));
  }
  return ec5::value_to_r(doc, 0);
  EC5_END
}
