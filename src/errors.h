// Errors raised by the C++ core. They never cross into R as C++ exceptions:
// the Rcpp glue (glue.h) turns them into an `ec5_cpp_failure` value that
// cpp_check() in R/conditions.R re-raises as a classed condition.
//
// A failure is structured, never prose for R to pick apart: `kind` (the
// condition class), a one-line `message` that says what went wrong, and
// named string `fields` that become fields of the condition. The field
// `hint` is a key into the hint texts of R/conditions.R: what to do about a
// failure is written in R only.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ec5 {

using ErrorFields = std::vector<std::pair<std::string, std::string>>;

class Error : public std::runtime_error {
 public:
  // `kind` becomes the condition class `ec5_error_<kind>` in R, e.g.
  // "parse", "transport", "timeout", "argument", "io", "interrupt".
  Error(std::string kind, const std::string& message, ErrorFields fields = {})
      : std::runtime_error(message), kind_(std::move(kind)), fields_(std::move(fields)) {}
  const std::string& kind() const { return kind_; }
  const ErrorFields& fields() const { return fields_; }

 private:
  std::string kind_;
  ErrorFields fields_;
};

// Thrown when the user interrupts (Esc, Ctrl-C, RStudio's stop button), after
// every resource held by the interrupted operation has been released.
class Interrupted : public Error {
 public:
  Interrupted() : Error("interrupt", "Interrupted by the user.") {}
};

}  // namespace ec5
