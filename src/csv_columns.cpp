// Types the character columns of a CSV export, by the type of each question
// or, for columns no definition types, by inference from the values (with
// the parsers of values.h, which also convert them); then converts them
// into a table (table.h), as the JSON path does.
#include <Rcpp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "glue.h"
#include "r_list.h"
#include "table.h"
#include "values.h"

namespace ec5 {
namespace csv {
namespace {

std::string_view view(SEXP ch) { return {CHAR(ch), static_cast<std::size_t>(LENGTH(ch))}; }

// ---- inference ---------------------------------------------------------

const std::array<const char*, 3> kDateFormats = {"dd/MM/YYYY", "MM/dd/YYYY", "YYYY/MM/dd"};
const std::array<const char*, 3> kTimeFormats = {"HH:mm:ss", "HH:mm", "mm:ss"};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Digits, a separator, digits...: the shape a date or time keeps when an
// editor rewrites it (`11/9/21`, `2021-09-11`, `9:05 AM`).
bool has_shape(std::string_view s, const char* separators, std::size_t parts_min,
               std::size_t parts_max) {
  std::size_t parts = 0, digits = 0;
  for (const char c : s) {
    if (is_digit(c)) {
      if (++digits > 4) return false;
      continue;
    }
    if (std::string_view(separators).find(c) == std::string_view::npos || digits == 0) {
      return false;
    }
    ++parts;
    digits = 0;
  }
  return digits > 0 && parts + 1 >= parts_min && parts + 1 <= parts_max;
}

bool looks_like_date(std::string_view s) { return has_shape(s, "/.-", 3, 3); }

bool looks_like_time(std::string_view s) {
  const std::size_t space = s.find(' ');
  std::string_view clock = s.substr(0, space);
  if (space != std::string_view::npos) {
    const std::string_view suffix = s.substr(space + 1);
    if (suffix != "AM" && suffix != "PM" && suffix != "am" && suffix != "pm") return false;
  }
  return has_shape(clock, ":", 2, 3);
}

struct Verdict {
  std::string type = "text";
  std::string format;
  std::string candidates;
  // An integer column's bounds: with no definition, the values are all
  // there is, so they bound it (table_layout.h column_kind()).
  double min = NA_REAL, max = NA_REAL;
};

// Counts, over the non-empty values of a column, how many match each form.
struct Census {
  std::size_t n = 0;
  bool integer = true, decimal = true, date_shaped = true, time_shaped = true;
  double min = R_PosInf, max = R_NegInf;
  std::array<std::size_t, 3> dates{}, times{};

  void add(std::string_view s) {
    ++n;
    integer = integer && is_canonical_integer(s);
    if (integer) {
      Number x;
      parse_number_text(s.data(), s.size(), &x);
      min = std::min(min, number_to_double(x));
      max = std::max(max, number_to_double(x));
    }
    decimal = decimal && is_canonical_decimal(s);
    date_shaped = date_shaped && looks_like_date(s);
    time_shaped = time_shaped && looks_like_time(s);
    std::int64_t days;
    for (std::size_t k = 0; k < kDateFormats.size(); ++k) {
      if (parse_date(kDateFormats[k], s, &days)) ++dates[k];
    }
    for (std::size_t k = 0; k < kTimeFormats.size(); ++k) {
      if (matches_format(kTimeFormats[k], s)) ++times[k];
    }
  }
};

// Lists the values that spoil a column of dates or times: the column stays
// text (nothing is guessed), but the damage is reported against the format
// most values follow.
template <std::size_t N>
void report_damage(SEXP col, const std::string& column, const std::array<const char*, N>& formats,
                   const std::array<std::size_t, N>& counts, bool is_date, Problems& problems) {
  std::size_t best = 0;
  for (std::size_t k = 1; k < N; ++k) {
    if (counts[k] > counts[best]) best = k;
  }
  std::string expected;
  if (counts[best] == 0) {
    expected = is_date ? "date dd/MM/YYYY, MM/dd/YYYY or YYYY/MM/dd" : "format HH:mm:ss or HH:mm";
  } else {
    expected = std::string(is_date ? "date " : "format ") + formats[best];
  }
  expected += " (column kept as text)";
  std::int64_t days;
  for (R_xlen_t i = 0; i < XLENGTH(col); ++i) {
    const SEXP ch = STRING_ELT(col, i);
    if (ch == NA_STRING) continue;
    const std::string_view s = view(ch);
    const bool ok = is_date ? parse_date(formats[best], s, &days) : matches_format(formats[best], s);
    if (!ok) problems.add(static_cast<std::size_t>(i + 1), column, expected, std::string(s));
  }
}

// A column is typed only when every non-empty value is in the type's
// canonical text form, so that the value prints back to the same bytes.
Verdict infer(SEXP col, const std::string& column, Problems& problems) {
  Census census;
  for (R_xlen_t i = 0; i < XLENGTH(col); ++i) {
    const SEXP ch = STRING_ELT(col, i);
    if (ch != NA_STRING) census.add(view(ch));
  }
  Verdict v;
  const std::size_t n = census.n;
  if (n == 0) return v;
  if (census.integer) {
    v.type = "integer";
    v.min = census.min;
    v.max = census.max;
    return v;
  }
  if (census.decimal) {
    v.type = "decimal";
    return v;
  }
  for (std::size_t k = 0; k < kDateFormats.size(); ++k) {
    if (census.dates[k] != n) continue;
    if (!v.candidates.empty()) v.candidates += ", ";
    v.candidates += kDateFormats[k];
    v.format = kDateFormats[k];
  }
  if (v.candidates.find(',') != std::string::npos) {
    v.format.clear();
    return v;
  }
  if (!v.format.empty()) {
    v.type = "date";
    v.candidates.clear();
    return v;
  }
  for (std::size_t k = 0; k < kTimeFormats.size(); ++k) {
    if (census.times[k] == n) {
      v.type = "time";
      v.format = kTimeFormats[k];
      return v;
    }
  }
  if (census.date_shaped) {
    report_damage(col, column, kDateFormats, census.dates, true, problems);
  } else if (census.time_shaped) {
    report_damage(col, column, kTimeFormats, census.times, false, problems);
  }
  return v;
}


// ---- conversion ----------------------------------------------------------

// The builder spec of each column of the plan (name, type, format, levels).
std::vector<ColumnSpec> plan_specs(const Rcpp::List& plan) {
  const Rcpp::CharacterVector name = plan["name"], type = plan["type"], format = plan["format"];
  const Rcpp::List levels = plan["levels"];
  const Rcpp::NumericVector min = plan["min"], max = plan["max"];
  std::vector<ColumnSpec> specs(static_cast<std::size_t>(name.size()));
  for (R_xlen_t j = 0; j < name.size(); ++j) {
    ColumnSpec& spec = specs[static_cast<std::size_t>(j)];
    spec.name = Rcpp::as<std::string>(name[j]);
    spec.type = Rcpp::as<std::string>(type[j]);
    if (STRING_ELT(format, j) != NA_STRING) spec.format = Rcpp::as<std::string>(format[j]);
    spec.levels = Rcpp::as<std::vector<std::string>>(levels[j]);
    spec.placeholder = system_placeholder(spec.name);
    spec.min = REAL(min)[j];
    spec.max = REAL(max)[j];
  }
  return specs;
}

// Adds the problems found before conversion (row NA: the file as a whole).
void add_problems(const Rcpp::List& found, Problems& problems) {
  const Rcpp::IntegerVector row = found["row"];
  const Rcpp::CharacterVector column = found["column"], expected = found["expected"],
                              actual = found["actual"];
  for (R_xlen_t i = 0; i < row.size(); ++i) {
    problems.add(row[i] == NA_INTEGER ? 0 : static_cast<std::size_t>(row[i]),
                 utf8_at(column, i), utf8_at(expected, i), utf8_at(actual, i));
  }
}

void convert_cells(const Rcpp::List& columns, Table& table) {
  for (R_xlen_t j = 0; j < columns.size(); ++j) {
    const SEXP cells = columns[j];
    Column& column = *table.columns()[static_cast<std::size_t>(j)];
    column.reserve(static_cast<std::size_t>(XLENGTH(cells)));
    for (R_xlen_t i = 0; i < XLENGTH(cells); ++i) {
      const SEXP ch = STRING_ELT(cells, i);
      if (ch == NA_STRING) {
        column.append_na();
      } else {
        column.append_text(CHAR(ch), static_cast<std::size_t>(LENGTH(ch)));
      }
    }
  }
}

}  // namespace
}  // namespace csv
}  // namespace ec5

// Infers the type of each of the named character columns: "integer",
// "decimal", "date" or "time" (with its format), or "text" (with the candidate
// formats when the dates fit more than one), and the smallest and largest
// value of an integer column (NA for others). Values that spoil a column of
// dates or times are returned as problems.
// [[Rcpp::export(rng = false)]]
SEXP csv_infer_cpp(Rcpp::List columns, Rcpp::CharacterVector names) {
  EC5_BEGIN
  using namespace ec5::csv;
  const R_xlen_t n = columns.size();
  Rcpp::CharacterVector type(n), format(n), candidates(n);
  Rcpp::NumericVector min(n), max(n);
  ec5::Problems problems;
  for (R_xlen_t j = 0; j < n; ++j) {
    const Verdict v = infer(columns[j], Rcpp::as<std::string>(names[j]), problems);
    type[j] = v.type;
    min[j] = v.min;
    max[j] = v.max;
    format[j] = v.format.empty() ? Rcpp::String(NA_STRING) : Rcpp::String(v.format);
    candidates[j] = v.candidates.empty() ? Rcpp::String(NA_STRING) : Rcpp::String(v.candidates);
  }
  return Rcpp::List::create(Rcpp::Named("type") = type, Rcpp::Named("format") = format,
                            Rcpp::Named("candidates") = candidates,
                            Rcpp::Named("min") = min, Rcpp::Named("max") = max,
                            Rcpp::Named("problems") = problems.to_data_frame(nullptr, nullptr));
  EC5_END
}

// Converts each character column with the column builder of its plan row
// (`name`, `type` an input type or "datetime", `format`, `levels`): the same
// rules as the JSON export. `problems` (row, column, expected, actual) are
// those found before conversion (the file's layout, inference); `key` the
// column that identifies an entry. Returns list(columns, problems (all of
// them, rows after de-duplication), converted (the conversion problems)).
// [[Rcpp::export(rng = false)]]
SEXP csv_convert_cpp(Rcpp::List columns, Rcpp::List plan, std::string key, Rcpp::List problems) {
  EC5_BEGIN
  using namespace ec5::csv;
  ec5::Table table(plan_specs(plan));
  add_problems(problems, table.problems());
  const std::size_t before = table.problems().size();
  convert_cells(columns, table);
  // The warning counts the values that could not be converted, before
  // duplicated entries drop any of them.
  Rcpp::List converted = table.problems().to_data_frame(nullptr, nullptr, before);
  Rcpp::List out = table.finish({key, true, true});
  return Rcpp::List::create(Rcpp::Named("columns") = out["columns"],
                            Rcpp::Named("problems") = out["problems"],
                            Rcpp::Named("converted") = converted);
  EC5_END
}
