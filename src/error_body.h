// The Epicollect5 error body, {"errors": [{"code", "title", "source"}, ...]}
// (API-NOTES.md section 10): the one reader of it, for HTTP answers
// (error_body_cpp(), called once per failed response by R/http.R) and for
// bodies met where data was expected (entries pages, project definitions).
#pragma once

#include <string>
#include <vector>

#include "json.h"

namespace ec5 {

struct ErrorItem {
  std::string code;
  std::string title;
  std::string source;
};

// The items of `doc` when it is an error body (an object whose `errors` is a
// non-empty array of objects), else none. A member that is not a string of
// valid UTF-8 without NUL reads as "".
std::vector<ErrorItem> read_error_body(const rapidjson::Value& doc);

// Throws the parse error for an error body met where `what` ("entries", "a
// project definition") was expected, with its first code and title.
[[noreturn]] void throw_error_body(const rapidjson::Value& doc, const char* what);

}  // namespace ec5
