#include "error_body.h"

#include <Rcpp.h>

#include "glue.h"

namespace ec5 {

namespace {

struct NullSink {
  void Put(char) {}
};

bool valid_utf8(const char* p, size_t n) {
  rapidjson::MemoryStream in(p, n);
  NullSink out;
  while (in.Tell() < n) {
    if (!rapidjson::UTF8<>::Validate(in, out)) return false;
  }
  return true;
}

std::string text(const rapidjson::Value& object, const char* name) {
  const auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return "";
  const rapidjson::Value& v = it->value;
  if (!valid_utf8(v.GetString(), v.GetStringLength())) return "";
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
  Rcpp::CharacterVector code(items.size()), title(items.size()), source(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    code[i] = Rcpp::String(items[i].code, CE_UTF8);
    title[i] = Rcpp::String(items[i].title, CE_UTF8);
    source[i] = Rcpp::String(items[i].source, CE_UTF8);
  }
  return Rcpp::List::create(Rcpp::Named("code") = code, Rcpp::Named("title") = title,
                            Rcpp::Named("source") = source);
  EC5_END
}
