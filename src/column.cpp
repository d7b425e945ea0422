#include "column.h"

#include "values.h"

namespace ec5 {

void Column::problem_json(const std::string& expected, const rapidjson::Value& v) {
  problem(expected, describe_json(v));
}

void Column::problem_text(const std::string& expected, const char* p, size_t n) {
  problem(expected, describe_text(p, n));
}

bool Column::append_json_scalar(const rapidjson::Value& v) {
  if (v.IsNull()) {
    append_na();
  } else if (v.IsString()) {
    append_text(v.GetString(), v.GetStringLength());
  } else {
    return false;
  }
  return true;
}

void Column::append_json_as_text(const rapidjson::Value& v) {
  if (append_json_scalar(v)) return;
  if (v.IsNumber()) {
    std::string text = number_text(v);
    append_text(text.data(), text.size());
  } else {
    problem_json(expected(), v);
    append_na();
  }
}

void set_class(Rcpp::RObject& x, std::initializer_list<const char*> classes) {
  Rcpp::CharacterVector cls(classes.size());
  size_t i = 0;
  for (const char* c : classes) cls[i++] = c;
  x.attr("class") = cls;
}

}  // namespace ec5
