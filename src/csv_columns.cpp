// Types the character columns of a CSV export: by inference when no project
// definition is given, else by the type of each question.
#include <Rcpp.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "csv_values.h"
#include "glue.h"

namespace ec5 {
namespace csv {
namespace {

std::string_view view(SEXP ch) { return {CHAR(ch), static_cast<std::size_t>(LENGTH(ch))}; }

SEXP mkchar(std::string_view s) {
  return Rf_mkCharLenCE(s.data(), static_cast<int>(s.size()), CE_UTF8);
}

// Values that could not be typed: one row per cell (row and column 1-based).
class Problems {
 public:
  void add(int column, R_xlen_t row, const std::string& expected, std::string_view actual) {
    column_.push_back(column);
    row_.push_back(static_cast<int>(row + 1));
    expected_.push_back(expected);
    actual_.emplace_back(actual);
  }
  Rcpp::List to_r() const {
    Rcpp::CharacterVector expected(expected_.size()), actual(actual_.size());
    for (std::size_t i = 0; i < expected_.size(); ++i) {
      SET_STRING_ELT(expected, i, mkchar(expected_[i]));
      SET_STRING_ELT(actual, i, mkchar(actual_[i]));
    }
    return Rcpp::List::create(Rcpp::Named("column") = Rcpp::wrap(column_),
                              Rcpp::Named("row") = Rcpp::wrap(row_),
                              Rcpp::Named("expected") = expected,
                              Rcpp::Named("actual") = actual);
  }

 private:
  std::vector<int> column_, row_;
  std::vector<std::string> expected_, actual_;
};

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
};

// Counts, over the non-empty values of a column, how many match each form.
struct Census {
  std::size_t n = 0;
  bool integer = true, decimal = true, date_shaped = true, time_shaped = true;
  std::array<std::size_t, 3> dates{}, times{};

  void add(std::string_view s) {
    ++n;
    integer = integer && is_canonical_integer(s);
    decimal = decimal && is_canonical_decimal(s);
    date_shaped = date_shaped && looks_like_date(s);
    time_shaped = time_shaped && looks_like_time(s);
    std::int64_t days;
    for (std::size_t k = 0; k < kDateFormats.size(); ++k) {
      if (parse_date(s, kDateFormats[k], days)) ++dates[k];
    }
    for (std::size_t k = 0; k < kTimeFormats.size(); ++k) {
      if (parse_time(s, kTimeFormats[k])) ++times[k];
    }
  }
};

// Lists the values that spoil a column of dates or times: the column stays
// text (nothing is guessed), but the damage is reported against the format
// most values follow.
template <std::size_t N>
void report_damage(SEXP col, int column, const std::array<const char*, N>& formats,
                   const std::array<std::size_t, N>& counts, bool is_date, Problems& problems) {
  std::size_t best = 0;
  for (std::size_t k = 1; k < N; ++k) {
    if (counts[k] > counts[best]) best = k;
  }
  std::string expected;
  if (counts[best] == 0) {
    expected = is_date ? "a date as dd/MM/YYYY, MM/dd/YYYY or YYYY/MM/dd"
                       : "a time as HH:mm:ss or HH:mm";
  } else {
    expected = std::string(is_date ? "a date as " : "a time as ") + formats[best];
  }
  expected += " (column kept as text)";
  std::int64_t days;
  for (R_xlen_t i = 0; i < XLENGTH(col); ++i) {
    const SEXP ch = STRING_ELT(col, i);
    if (ch == NA_STRING) continue;
    const std::string_view s = view(ch);
    const bool ok = is_date ? parse_date(s, formats[best], days) : parse_time(s, formats[best]);
    if (!ok) problems.add(column, i, expected, s);
  }
}

// A column is typed only when every non-empty value is in the type's
// canonical text form, so that the value prints back to the same bytes.
Verdict infer(SEXP col, int column, Problems& problems) {
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


// ---- conversion --------------------------------------------------------

// Parses every non-empty cell with `parse`; a cell it rejects becomes NA and
// a problem.
template <typename Parse>
Rcpp::NumericVector parse_cells(SEXP col, int column, const std::string& expected,
                                Problems& problems, Parse parse) {
  const R_xlen_t n = XLENGTH(col);
  Rcpp::NumericVector out(n, NA_REAL);
  for (R_xlen_t i = 0; i < n; ++i) {
    const SEXP ch = STRING_ELT(col, i);
    if (ch == NA_STRING) continue;
    double x;
    if (parse(view(ch), x)) {
      out[i] = x;
    } else {
      problems.add(column, i, expected, view(ch));
    }
  }
  return out;
}

bool parse_integer(std::string_view s, double& x) {
  const std::size_t start = !s.empty() && s[0] == '-' ? 1 : 0;
  if (start == s.size()) return false;
  for (std::size_t i = start; i < s.size(); ++i) {
    if (!is_digit(s[i])) return false;
  }
  return parse_number(s, x);
}

// Integer questions: int, or double when a value exceeds int32.
SEXP convert_integer(SEXP col, int column, Problems& problems) {
  Rcpp::NumericVector x = parse_cells(col, column, "an integer", problems, parse_integer);
  for (const double v : x) {
    if (!std::isnan(v) && std::fabs(v) > std::numeric_limits<int>::max()) return x;
  }
  Rcpp::IntegerVector out(x.size(), NA_INTEGER);
  for (R_xlen_t i = 0; i < x.size(); ++i) {
    if (!std::isnan(x[i])) out[i] = static_cast<int>(x[i]);
  }
  return out;
}

SEXP convert_date(SEXP col, int column, const std::string& format, Problems& problems) {
  Rcpp::NumericVector out = parse_cells(
      col, column, "a date as " + format, problems, [&format](std::string_view s, double& x) {
        std::int64_t days;
        if (!parse_date(s, format, days)) return false;
        x = static_cast<double>(days);
        return true;
      });
  out.attr("class") = "Date";
  return out;
}

SEXP convert_timestamp(SEXP col, int column, Problems& problems) {
  Rcpp::NumericVector out = parse_cells(
      col, column, "a time stamp as YYYY-MM-DDTHH:MM:SS.sssZ", problems,
      [](std::string_view s, double& x) {
        std::int64_t ms;
        if (!parse_timestamp(s, ms)) return false;
        x = static_cast<double>(ms) / 1000.0;
        return true;
      });
  out.attr("class") = Rcpp::CharacterVector::create("POSIXct", "POSIXt");
  out.attr("tzone") = "UTC";
  return out;
}

SEXP convert_factor(SEXP col, int column, Rcpp::CharacterVector levels, Problems& problems) {
  std::unordered_map<std::string_view, int> codes;
  for (R_xlen_t k = 0; k < levels.size(); ++k) {
    codes.emplace(view(STRING_ELT(levels, k)), static_cast<int>(k + 1));
  }
  const R_xlen_t n = XLENGTH(col);
  Rcpp::IntegerVector out(n, NA_INTEGER);
  for (R_xlen_t i = 0; i < n; ++i) {
    const SEXP ch = STRING_ELT(col, i);
    if (ch == NA_STRING) continue;
    const auto it = codes.find(view(ch));
    if (it != codes.end()) {
      out[i] = it->second;
    } else {
      problems.add(column, i, "one of the question's answers", view(ch));
    }
  }
  out.attr("levels") = levels;
  out.attr("class") = "factor";
  return out;
}

// Splits a multi-answer cell the server joined with ", " (a label holding a
// comma arrives wrapped in quotes).
std::vector<std::string_view> split_answers(std::string_view cell) {
  std::vector<std::string_view> labels;
  std::size_t i = 0;
  for (;;) {
    if (i < cell.size() && cell[i] == '"') {
      std::size_t close = cell.find('"', i + 1);
      while (close != std::string_view::npos && close + 1 != cell.size() &&
             cell.compare(close + 1, 2, ", ") != 0) {
        close = cell.find('"', close + 1);
      }
      if (close != std::string_view::npos) {
        labels.push_back(cell.substr(i + 1, close - i - 1));
        if (close + 1 == cell.size()) return labels;
        i = close + 3;
        continue;
      }
    }
    const std::size_t sep = cell.find(", ", i);
    if (sep == std::string_view::npos) {
      labels.push_back(cell.substr(i));
      return labels;
    }
    labels.push_back(cell.substr(i, sep - i));
    i = sep + 2;
  }
}

SEXP convert_list(SEXP col) {
  const R_xlen_t n = XLENGTH(col);
  Rcpp::List out(n);
  for (R_xlen_t i = 0; i < n; ++i) {
    const SEXP ch = STRING_ELT(col, i);
    if (ch == NA_STRING) {
      out[i] = Rcpp::CharacterVector(0);
      continue;
    }
    const std::vector<std::string_view> labels = split_answers(view(ch));
    Rcpp::CharacterVector cell(labels.size());
    for (std::size_t k = 0; k < labels.size(); ++k) SET_STRING_ELT(cell, k, mkchar(labels[k]));
    out[i] = cell;
  }
  return out;
}

SEXP convert(SEXP col, int column, const std::string& type, const std::string& format,
             SEXP levels, Problems& problems) {
  if (type == "integer") return convert_integer(col, column, problems);
  if (type == "decimal") {
    return parse_cells(col, column, "a number", problems, parse_number);
  }
  if (type == "date") return convert_date(col, column, format, problems);
  if (type == "timestamp") return convert_timestamp(col, column, problems);
  if (type == "factor") return convert_factor(col, column, levels, problems);
  if (type == "list") return convert_list(col);
  if (type == "text" || type == "time") return col;
  throw Error("internal", "Unknown CSV column type '" + type + "'.");
}

}  // namespace
}  // namespace csv
}  // namespace ec5

// Infers the type of each character column: "integer", "decimal", "date"
// (with its format), "time" (with its format) or "text" (with the candidate
// formats when the dates fit more than one). Values that spoil a column of
// dates or times are returned as problems.
// [[Rcpp::export(rng = false)]]
SEXP csv_infer_cpp(Rcpp::List columns) {
  EC5_BEGIN
  using namespace ec5::csv;
  const R_xlen_t n = columns.size();
  Rcpp::CharacterVector type(n), format(n), candidates(n);
  Problems problems;
  for (R_xlen_t j = 0; j < n; ++j) {
    const Verdict v = infer(columns[j], static_cast<int>(j + 1), problems);
    type[j] = v.type;
    format[j] = v.format.empty() ? Rcpp::String(NA_STRING) : Rcpp::String(v.format);
    candidates[j] = v.candidates.empty() ? Rcpp::String(NA_STRING) : Rcpp::String(v.candidates);
  }
  return Rcpp::List::create(Rcpp::Named("type") = type, Rcpp::Named("format") = format,
                            Rcpp::Named("candidates") = candidates,
                            Rcpp::Named("problems") = problems.to_r());
  EC5_END
}

// Converts each character column to its `types` entry ("text", "time",
// "integer", "decimal", "date" with its `formats` entry, "timestamp",
// "factor" with its `levels` entry, "list"). Cells that do not convert are NA
// and returned as problems.
// [[Rcpp::export(rng = false)]]
SEXP csv_convert_cpp(Rcpp::List columns, Rcpp::CharacterVector types,
                     Rcpp::CharacterVector formats, Rcpp::List levels) {
  EC5_BEGIN
  using namespace ec5::csv;
  const R_xlen_t n = columns.size();
  Rcpp::List out(n);
  Problems problems;
  for (R_xlen_t j = 0; j < n; ++j) {
    const std::string format =
        formats[j] == NA_STRING ? std::string() : Rcpp::as<std::string>(formats[j]);
    out[j] = convert(columns[j], static_cast<int>(j + 1), Rcpp::as<std::string>(types[j]),
                     format, levels[j], problems);
  }
  return Rcpp::List::create(Rcpp::Named("columns") = out,
                            Rcpp::Named("problems") = problems.to_r());
  EC5_END
}
