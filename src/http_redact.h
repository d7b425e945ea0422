// Blanking secrets in URLs before they are shown: one list of secret query
// parameters for the messages of C++ and of R (redact_url() in R/conditions.R).
#pragma once

#include <string>

namespace ec5 {

// `url` with the values of secret-looking query parameters blanked.
std::string redact_url(const std::string& url);

}  // namespace ec5
