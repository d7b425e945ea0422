// The layout of an entries table, stated once: which system columns a table
// has and in which order, the six columns of a location, which column kind
// each question type gets (which types are choices, which are lists), and
// the key that identifies an entry. The JSON flattener (entries.cpp) and the
// CSV reader (csv_columns.cpp) build their tables from it, and R asks it
// through table_layout_cpp(), table_columns_cpp() and
// csv_header_types_cpp() and location_parts_cpp() instead of restating it.
#pragma once

#include <Rcpp.h>

#include <array>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "column.h"

namespace ec5 {

// One column to build. `type` is an Epicollect5 input type ("text",
// "integer", "date", ...) or "datetime" for created_at / uploaded_at.
struct ColumnSpec {
  std::string name;
  std::string type;
  std::string format;  // datetime_format, "" when none
  std::vector<std::string> levels;
  // The question's `min` and `max` (NaN: none), which decide whether an
  // integer question is an R integer (column_kind()).
  double min = std::numeric_limits<double>::quiet_NaN();
  double max = std::numeric_limits<double>::quiet_NaN();
  // A value the server sends for "unknown", read as NA ("" when none).
  std::string placeholder;
};

// The system columns in the order the server sends them, with the tables
// that have them and the placeholder the server sends for an unknown value
// (API-NOTES.md §3.4: `created_by` is "n/a" when the uploader is unknown).
enum class Presence { top_or_child_form, child_form, branch, always, private_project };
struct SystemColumn {
  const char* name;
  const char* type;
  Presence presence;
  const char* placeholder;
};
inline constexpr std::array<SystemColumn, 8> kSystemColumns = {{
    {"ec5_uuid", "text", Presence::top_or_child_form, ""},
    {"ec5_parent_uuid", "text", Presence::child_form, ""},
    {"ec5_branch_owner_uuid", "text", Presence::branch, ""},
    {"ec5_branch_uuid", "text", Presence::branch, ""},
    {"created_at", "datetime", Presence::always, ""},
    {"uploaded_at", "datetime", Presence::always, ""},
    {"created_by", "text", Presence::private_project, "n/a"},
    {"title", "text", Presence::always, ""},
}};
// The placeholder of a system column, "" for other columns.
const char* system_placeholder(std::string_view name);

// Keys of an entry that are never reported as unknown: the system columns
// and `ec5_branch_ref`, the 2017 branch format.
bool is_system_key(std::string_view key);

// The six columns of a location question `X`: `<prefix>X`, filled from the
// member of the location object, typed as the input type, and labelled
// "<question>: <label>".
struct LocationPart {
  const char* prefix;
  const char* member;
  const char* type;
  const char* label;
};
inline constexpr std::array<LocationPart, 6> kLocationParts = {{
    {"lat_", "latitude", "decimal", "latitude"},
    {"long_", "longitude", "decimal", "longitude"},
    {"accuracy_", "accuracy", "decimal", "accuracy"},
    {"UTM_Northing_", "UTM_Northing", "decimal", "UTM northing"},
    {"UTM_Easting_", "UTM_Easting", "decimal", "UTM easting"},
    {"UTM_Zone_", "UTM_Zone", "text", "UTM zone"},
}};
ColumnSpec location_part_spec(const LocationPart& part, const std::string& question);

// The column builder of a type: text, textarea, phone, barcode, photo,
// audio, video, time, partial dates -> character; branch (a count) ->
// integer; integer -> integer when the question's `min` and `max` bound it
// within 32 bits, else `whole` (a double of whole numbers, exact to 2^53):
// the definition decides, never the values, so a table of no rows has the
// types of a full one; decimal -> double; date with day, month and year ->
// Date; radio, dropdown -> factor; checkbox, search* -> list of character;
// location -> 6 columns; datetime -> POSIXct UTC. Unknown types are text.
enum class ColumnKind { text, integer, whole, decimal, date, datetime, factor, list, location };
ColumnKind column_kind(const std::string& type, const std::string& format);
ColumnKind column_kind(const ColumnSpec& spec);
// Whether bounds `min` and `max` keep every value an R integer can hold.
bool bounded_within_int32(double min, double max);
std::unique_ptr<Column> make_column(const ColumnSpec& spec, Problems* problems);

// What `options` (mode, child, private; from ec5_column_spec()) select.
struct TableOptions {
  bool branch = false, child = false, is_private = false;
};
TableOptions table_options(SEXP options);

// The key that identifies an entry: "ec5_uuid" or "ec5_branch_uuid".
const char* key_column(bool branch);
// The column of a child form's entry (false) or of a branch entry (true)
// that holds the key of the entry it belongs to.
const char* link_column(bool branch);

// Reads the R column spec (`spec` data.frame of ec5_column_spec(): name,
// type, format, levels) into the full list of columns: system columns
// first, then the questions.
std::vector<ColumnSpec> table_specs(SEXP spec, const TableOptions& options);

}  // namespace ec5
