// Writes a table as the server's CSV export: each R value rendered in the
// text form the server uses for it (values.h), each field quoted by the
// fputcsv rule (csv.h), LF after every record.
#include <Rcpp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "csv.h"
#include "values.h"
#include "glue.h"
#include "r_list.h"

namespace ec5 {
namespace csv {
namespace {

// The UTF-8 bytes of an R string; `buffer` holds them when R must
// translate, and R's memory for the translation is released at once (a
// table has many strings).
std::string_view utf8(SEXP ch, std::string& buffer) {
  if (Rf_getCharCE(ch) == CE_UTF8) return {CHAR(ch), static_cast<std::size_t>(LENGTH(ch))};
  const void* vmax = vmaxget();
  buffer = utf8_chars(ch);
  vmaxset(vmax);
  return buffer;
}

// Renders the cells of one column. `kind` is decided on the R side from the
// column's class (and, for doubles, whether the question is an integer).
class Column {
 public:
  Column(SEXP x, std::string name, const std::string& kind, std::string format)
      : x_(x), name_(std::move(name)), kind_(parse_kind(kind)), format_(std::move(format)) {
    if (kind_ == Kind::factor) levels_ = Rf_getAttrib(x, R_LevelsSymbol);
  }

  // Appends the text of cell `i` to `out` (empty for a missing value).
  void cell(R_xlen_t i, std::string& out) {
    switch (kind_) {
      case Kind::text:
        return text(STRING_ELT(x_, i), out);
      case Kind::factor: {
        const int code = INTEGER(x_)[i];
        if (code != NA_INTEGER) text(STRING_ELT(levels_, code - 1), out);
        return;
      }
      case Kind::integer: {
        const int v = INTEGER(x_)[i];
        if (v != NA_INTEGER) out += std::to_string(v);
        return;
      }
      case Kind::logical: {
        // PHP writes true as 1 and false as an empty string.
        if (LOGICAL(x_)[i] == 1) out += '1';
        return;
      }
      case Kind::list:
        return answers(VECTOR_ELT(x_, i), out);
      default:
        return number(i, out);
    }
  }

 private:
  enum class Kind { text, factor, integer, logical, decimal, whole, date, timestamp, list };

  static Kind parse_kind(const std::string& kind) {
    static const std::pair<const char*, Kind> kinds[] = {
        {"text", Kind::text},       {"factor", Kind::factor}, {"integer", Kind::integer},
        {"logical", Kind::logical}, {"decimal", Kind::decimal}, {"whole", Kind::whole},
        {"date", Kind::date},       {"timestamp", Kind::timestamp}, {"list", Kind::list}};
    for (const auto& k : kinds) {
      if (kind == k.first) return k.second;
    }
    throw Error("argument", "Unknown column kind '" + kind + "'.");
  }

  void text(SEXP ch, std::string& out) {
    if (ch != NA_STRING) out.append(utf8(ch, buffer_));
  }

  // Doubles: decimals, integers beyond int32, Dates and POSIXct.
  void number(R_xlen_t i, std::string& out) {
    const double v = Rf_isReal(x_) ? REAL(x_)[i]
                     : INTEGER(x_)[i] == NA_INTEGER ? NA_REAL
                                                     : INTEGER(x_)[i];
    if (std::isnan(v)) return;
    switch (kind_) {
      case Kind::date:
        check_range(i, v, kMaxDays);
        return format_date(static_cast<std::int64_t>(std::floor(v)), format_, out);
      case Kind::timestamp:
        check_range(i, v, kMaxDays * 86400.0);
        // The milliseconds are rounded from the double, never truncated:
        // 1594933091.933 is stored as ...932.99998.
        return format_timestamp(std::llround(v * 1000.0), out);
      case Kind::whole:
        // An integer question: digits, as the server writes a PHP int.
        if (std::isfinite(v) && v == std::floor(v)) return format_whole(v, out);
        return format_php_float(v, out);
      default:
        return format_php_float(v, out);
    }
  }

  // Dates and times beyond about 270,000 years from 1970 (Inf among them)
  // have no calendar form here; converting them to integers would be
  // undefined behaviour.
  static constexpr double kMaxDays = 1e8;
  void check_range(R_xlen_t i, double v, double max) const {
    if (std::fabs(v) <= max) return;
    char value[32];
    std::snprintf(value, sizeof value, "%g", v);
    throw Error("argument", "Column " + name_ + " holds a date or time that cannot be written (row " +
                                std::to_string(i + 1) + ": " + value + ").");
  }

  // Multi-answer questions: labels joined with ", ", a label holding a comma
  // wrapped in quotes (DataMappingService::parseAnswer).
  void answers(SEXP cell, std::string& out) {
    if (Rf_isNull(cell) || (Rf_isLogical(cell) && XLENGTH(cell) == 1 && LOGICAL(cell)[0] == NA_LOGICAL)) {
      return;
    }
    if (TYPEOF(cell) != STRSXP) {
      throw Error("argument", "Column " + name_ +
                                  " is a list column whose cells are not all character vectors.");
    }
    for (R_xlen_t k = 0; k < XLENGTH(cell); ++k) {
      if (k > 0) out += ", ";
      const SEXP ch = STRING_ELT(cell, k);
      if (ch == NA_STRING) continue;
      const std::string_view label = utf8(ch, buffer_);
      const bool wrap = label.find(',') != std::string_view::npos;
      if (wrap) out += '"';
      out.append(label);
      if (wrap) out += '"';
    }
  }

  SEXP x_;
  std::string name_;
  Kind kind_;
  std::string format_;
  SEXP levels_ = R_NilValue;
  std::string buffer_;
};

}  // namespace
}  // namespace csv
}  // namespace ec5

// The bytes of the CSV file for a table: `columns` (a list of `nrow`-long
// vectors), their `names`, each column's writer `kinds` and date `formats`.
// [[Rcpp::export(rng = false)]]
SEXP csv_write_cpp(Rcpp::List columns, Rcpp::CharacterVector names,
                   Rcpp::CharacterVector kinds, Rcpp::CharacterVector formats, double nrow,
                   bool bom) {
  EC5_BEGIN
  using namespace ec5::csv;
  const R_xlen_t ncol = columns.size();
  std::vector<Column> cols;
  cols.reserve(static_cast<std::size_t>(ncol));
  for (R_xlen_t j = 0; j < ncol; ++j) {
    cols.emplace_back(columns[j], Rcpp::as<std::string>(names[j]),
                      Rcpp::as<std::string>(kinds[j]), Rcpp::as<std::string>(formats[j]));
  }
  std::string out = bom ? "\xEF\xBB\xBF" : "";
  std::string field, buffer;
  for (R_xlen_t j = 0; j < ncol; ++j) {
    if (j > 0) out += ',';
    append_field(out, utf8(names[j], buffer));
  }
  out += '\n';
  const auto n = static_cast<R_xlen_t>(nrow);
  for (R_xlen_t i = 0; i < n; ++i) {
    for (R_xlen_t j = 0; j < ncol; ++j) {
      if (j > 0) out += ',';
      field.clear();
      cols[static_cast<std::size_t>(j)].cell(i, field);
      append_field(out, field);
    }
    out += '\n';
  }
  Rcpp::RawVector bytes(out.size());
  std::copy(out.begin(), out.end(), reinterpret_cast<char*>(RAW(bytes)));
  return bytes;
  EC5_END
}

// The text of each cell of one column as the CSV writer renders it, without
// the field quoting: for other writers that need the website's text forms
// (the answers of a list column joined with ", "). `name`, `kind` and
// `format` are single strings, as for csv_write_cpp().
// [[Rcpp::export(rng = false)]]
SEXP csv_cells_cpp(SEXP column, SEXP name, SEXP kind, SEXP format) {
  EC5_BEGIN
  // The kind and the format are words of the writer's vocabulary (ASCII),
  // so an error message that names them is always valid text.
  std::string text[3];
  const SEXP args[3] = {name, kind, format};
  for (int k = 0; k < 3; ++k) {
    if (TYPEOF(args[k]) != STRSXP || Rf_xlength(args[k]) != 1) {
      throw ec5::Error("argument", "The name, kind and format of a column must be single strings.");
    }
    text[k] = ec5::utf8_at(args[k], 0);
    const auto printable = [](char c) { return c > 0x1f && c < 0x7f; };
    if (k > 0 && !std::all_of(text[k].begin(), text[k].end(), printable)) {
      throw ec5::Error("argument", "Unknown column kind or date format.");
    }
  }
  ec5::csv::Column col(column, text[0], text[1], text[2]);
  const R_xlen_t n = Rf_xlength(column);
  Rcpp::CharacterVector out(n);
  std::string field;
  for (R_xlen_t i = 0; i < n; ++i) {
    field.clear();
    col.cell(i, field);
    out[i] = Rcpp::String(field, CE_UTF8);
  }
  return out;
  EC5_END
}
