// Project definitions: `/api/export/project` responses, the `/api/project`
// shape of the mobile app and bare formbuilder files, read into plain tables
// (R/definition.R makes the `ec5_project` object of them).
#pragma once

#include <string>

namespace ec5 {

// The EC5_AUTO export name of a question (API-NOTES.md §4.1, the server's
// generateMapTo): trim, prefix "<n>_", spaces to "_", keep [A-Za-z0-9_],
// cut to 20 bytes.
std::string auto_map_to(int n, const std::string& question);

}  // namespace ec5
