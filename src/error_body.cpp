#include "error_body.h"

#include <Rcpp.h>

#include "glue.h"
#include "r_vectors.h"
#include "values.h"

namespace ec5 {

namespace {

// A field that is not text an R string can hold (invalid UTF-8, or a NUL
// from a `\u0000` escape) is read as absent: the body only explains an error.
std::string text(const rapidjson::Value& object, const char* name) {
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return "";
  const rapidjson::Value& v = it->value;
  if (!valid_text(v.GetString(), v.GetStringLength())) return "";
  return std::string(v.GetString(), v.GetStringLength());
}

}  // namespace

std::vector<ErrorItem> read_error_body(const rapidjson::Value& doc) {
  std::vector<ErrorItem> items;
  if (!doc.IsObject()) return items;
  const auto errors = doc.FindMember("errors");
  if (errors == doc.MemberEnd() || !errors->value.IsArray()) return items;
  for (const rapidjson::Value& e : errors->value.GetArray()) {
    if (!e.IsObject()) return {};
    items.push_back({text(e, "code"), text(e, "title"), text(e, "source")});
  }
  return items;
}

void throw_error_body(const rapidjson::Value& doc, const char* what) {
  const std::vector<ErrorItem> items = read_error_body(doc);
  std::string message = std::string("The body is an Epicollect5 error, not ") + what;
  ErrorFields fields;
  if (!items.empty()) {
    const ErrorItem& first = items.front();
    if (!first.code.empty()) message += ": " + first.code;
    if (!first.title.empty()) message += " (" + first.title + ")";
    fields = {{"code", first.code}, {"title", first.title}};
  }
  throw Error("parse", message + ".", fields);
}

}  // namespace ec5

// The items of an HTTP answer's error body as list(code, title, source) of
// character vectors, or NULL when the body is something else (an HTML page,
// JSON of another shape, bytes that are not JSON).
// [[Rcpp::export(rng = false)]]
SEXP error_body_cpp(SEXP body) {
  EC5_BEGIN
  if (TYPEOF(body) != RAWSXP) throw ec5::Error("argument", "`body` must be a raw vector.");
  rapidjson::Document doc;
  doc.Parse<ec5::kParseFlags>(reinterpret_cast<const char*>(RAW(body)), Rf_xlength(body));
  if (doc.HasParseError()) return R_NilValue;
  const std::vector<ec5::ErrorItem> items = ec5::read_error_body(doc);
  if (items.empty()) return R_NilValue;
  std::vector<std::string> code, title, source;
  for (const ec5::ErrorItem& item : items) {
    code.push_back(item.code);
    title.push_back(item.title);
    source.push_back(item.source);
  }
  return Rcpp::List::create(Rcpp::Named("code") = ec5::r_strings(code),
                            Rcpp::Named("title") = ec5::r_strings(title),
                            Rcpp::Named("source") = ec5::r_strings(source));
  EC5_END
}
