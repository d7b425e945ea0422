// Errors raised by the C++ core. They never cross into R as C++ exceptions:
// the Rcpp glue (glue.h) turns them into an `ec5_cpp_failure` value that the
// R side re-raises as a classed condition (R/conditions.R).
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace ec5 {

class Error : public std::runtime_error {
 public:
  // `kind` becomes the condition class `ec5_error_<kind>` in R, e.g.
  // "parse", "transport", "timeout", "argument", "io", "interrupt".
  Error(std::string kind, const std::string& message)
      : std::runtime_error(message), kind_(std::move(kind)) {}
  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
};

// Thrown when the user interrupts (Esc, Ctrl-C, RStudio's stop button), after
// every resource held by the interrupted operation has been released.
class Interrupted : public Error {
 public:
  Interrupted() : Error("interrupt", "Interrupted by the user.") {}
};

}  // namespace ec5
