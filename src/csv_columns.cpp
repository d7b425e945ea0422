// Reads a CSV export into a table (table.h), as the JSON path does: each
// cell goes from the tokenizer (csv.h) straight into the column builder of
// its column, typed by its question or, for columns no definition types, by
// inference from the values (with the parsers of values.h, which also
// convert them). The file is read in blocks, once more for inference when a
// column needs it: no copy of the whole file, and no R string of a cell that
// ends in a typed column.
#include <Rcpp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "csv.h"
#include "glue.h"
#include "r_list.h"
#include "table.h"
#include "values.h"

namespace ec5 {
namespace csv {
namespace {

// A file being read: where its bytes are, its header and, from conversion
// to finish, the table.
struct CsvFile {
  std::string path;
  std::string_view bytes;  // when read from memory (kept alive by the handle)
  bool in_memory = false;
  std::size_t block = 0;  // bytes read at a time from the file
  std::vector<std::string> header;
  std::size_t rows = 0;  // records counted by the inference pass, 0 before
  std::unique_ptr<Table> table;

  std::unique_ptr<Records> open() const {
    return in_memory ? std::make_unique<Records>(bytes) : std::make_unique<Records>(path, block);
  }
};

// Reads the records after the header, calling f(row, fields, count, records)
// with the fields resized to the header's width (`count` is how many the
// record had). The header must be the one read first: the file is read once
// per pass and could have been replaced in between.
template <typename F>
Layout each_row(const CsvFile& file, F&& f) {
  const std::unique_ptr<Records> records = file.open();
  std::vector<Field> fields;
  bool same = records->next(fields) && fields.size() == file.header.size();
  for (std::size_t j = 0; same && j < fields.size(); ++j) {
    same = records->text(fields[j]) == file.header[j];
  }
  if (!same) throw Error("parse", "The file changed while it was read.");
  for (std::size_t row = 0; records->next(fields); ++row) {
    const std::size_t count = fields.size();
    fields.resize(file.header.size());
    f(row, fields, count, *records);
  }
  return records->layout();
}

// ---- inference ---------------------------------------------------------

const std::array<const char*, 3> kDateFormats = {"dd/MM/YYYY", "MM/dd/YYYY", "YYYY/MM/dd"};
const std::array<const char*, 3> kTimeFormats = {"HH:mm:ss", "HH:mm", "mm:ss"};

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

// Where a column of dates or times is spoiled: the column stays text
// (nothing is guessed), but each value that does not follow the format most
// values follow is reported against it.
struct Damage {
  std::size_t column;  // index in the header
  bool is_date;
  const char* format;
  std::string expected;

  bool fits(std::string_view s) const {
    std::int64_t days;
    return is_date ? parse_date(format, s, &days) : matches_format(format, s);
  }
};

template <std::size_t N>
Damage damage(std::size_t column, const std::array<const char*, N>& formats,
              const std::array<std::size_t, N>& counts, bool is_date) {
  std::size_t best = 0;
  for (std::size_t k = 1; k < N; ++k) {
    if (counts[k] > counts[best]) best = k;
  }
  Damage d{column, is_date, formats[best], ""};
  if (counts[best] == 0) {
    d.expected = is_date ? "date dd/MM/YYYY, MM/dd/YYYY or YYYY/MM/dd" : "format HH:mm:ss or HH:mm";
  } else {
    d.expected = std::string(is_date ? "date " : "format ") + formats[best];
  }
  d.expected += " (column kept as text)";
  return d;
}

// A column is typed only when every non-empty value is in the type's
// canonical text form, so that the value prints back to the same bytes.
// A column of dates or times some values spoil adds its Damage.
Verdict infer(const Census& census, std::size_t column, std::vector<Damage>& damaged) {
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
    damaged.push_back(damage(column, kDateFormats, census.dates, true));
  } else if (census.time_shaped) {
    damaged.push_back(damage(column, kTimeFormats, census.times, false));
  }
  return v;
}

// Lists the values that spoil the damaged columns (a pass over the file,
// only when there are any).
void report_damage(const CsvFile& file, const std::vector<Damage>& damaged, Problems& problems) {
  if (damaged.empty()) return;
  each_row(file, [&](std::size_t row, const std::vector<Field>& fields, std::size_t,
                     const Records& records) {
    for (const Damage& d : damaged) {
      const std::string_view s = records.text(fields[d.column]);
      if (!s.empty() && !d.fits(s)) {
        problems.add(row + 1, file.header[d.column], d.expected, std::string(s));
      }
    }
  });
}

CsvFile& csv_file(SEXP handle) {
  if (TYPEOF(handle) != EXTPTRSXP || !Rf_inherits(handle, "ec5_csv_file")) {
    throw Error("argument", "`handle` must come from csv_open_cpp().");
  }
  auto* p = static_cast<CsvFile*>(R_ExternalPtrAddr(handle));
  if (!p) throw Error("argument", "The CSV file handle is no longer valid.");
  return *p;
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

// Appends every record to the table, each cell to the builder of its column
// (empty cells NA). Returns the file's layout and the records whose field
// count is not the header's.
Layout convert_rows(const CsvFile& file, Table& table, std::vector<int>& ragged_row,
                    std::vector<int>& ragged_fields, std::size_t size) {
  std::vector<Column*> columns;
  for (auto& c : table.columns()) columns.push_back(c.get());
  if (file.rows) table.reserve(file.rows);
  return each_row(file, [&](std::size_t row, const std::vector<Field>& fields, std::size_t count,
                            const Records& records) {
    if (count != columns.size()) {
      ragged_row.push_back(static_cast<int>(row + 1));
      ragged_fields.push_back(static_cast<int>(count));
    }
    // Without an inference pass the rows are not counted: the first
    // thousand give the size of a row, which gives the rest.
    if (!file.rows && row == 1000 && records.offset() > 0) {
      table.reserve(static_cast<std::size_t>(1.05 * static_cast<double>(size) * 1000 /
                                             static_cast<double>(records.offset())));
    }
    for (std::size_t j = 0; j < columns.size(); ++j) {
      const std::string_view cell = records.text(fields[j]);
      if (cell.empty()) {
        columns[j]->append_na();
      } else {
        columns[j]->append_text(cell.data(), cell.size());
      }
    }
  });
}

Rcpp::IntegerVector tally(const Tally& t) {
  return Rcpp::IntegerVector::create(static_cast<int>(t.count),
                                     static_cast<int>(t.first_line));
}

Rcpp::List layout_list(const Layout& l) {
  return Rcpp::List::create(
      Rcpp::Named("bom") = l.bom, Rcpp::Named("final_newline") = l.final_newline,
      Rcpp::Named("crlf") = tally(l.crlf), Rcpp::Named("lone_cr") = tally(l.lone_cr),
      Rcpp::Named("blank_lines") = tally(l.blank_lines),
      Rcpp::Named("unquoted") = tally(l.unquoted),
      Rcpp::Named("overquoted") = tally(l.overquoted),
      Rcpp::Named("escaping") = tally(l.escaping),
      Rcpp::Named("after_quote") = tally(l.after_quote));
}

}  // namespace
}  // namespace csv
}  // namespace ec5

// Opens a CSV file (`input`: a path, or the bytes as a raw vector) and
// reads its header. Returns list(handle, header) for the calls below, each of
// which reads the file again, `block` bytes at a time.
// [[Rcpp::export(rng = false)]]
SEXP csv_open_cpp(SEXP input, double block) {
  EC5_BEGIN
  using namespace ec5::csv;
  auto file = std::make_unique<CsvFile>();
  if (!(block >= 1 && block <= 1e9)) throw ec5::Error("argument", "`block` must be a number of bytes.");
  file->block = static_cast<std::size_t>(block);
  SEXP keep = R_NilValue;
  if (TYPEOF(input) == RAWSXP) {
    file->in_memory = true;
    file->bytes = std::string_view(reinterpret_cast<const char*>(RAW(input)),
                                   static_cast<std::size_t>(Rf_xlength(input)));
    keep = input;
  } else if (TYPEOF(input) == STRSXP && Rf_xlength(input) == 1 &&
             STRING_ELT(input, 0) != NA_STRING) {
    // The path as the OS takes it: R passes it in the native encoding.
    file->path = CHAR(STRING_ELT(input, 0));
  } else {
    throw ec5::Error("argument", "The CSV input must be a path or a raw vector.");
  }
  std::vector<Field> fields;
  {
    const std::unique_ptr<Records> records = file->open();
    if (!records->next(fields)) throw ec5::Error("parse", "The file is empty.");
    for (const Field& f : fields) file->header.emplace_back(records->text(f));
  }
  Rcpp::CharacterVector header(file->header.size());
  for (std::size_t j = 0; j < file->header.size(); ++j) {
    header[j] = Rcpp::String(file->header[j], CE_UTF8);
  }
  Rcpp::XPtr<CsvFile> handle(file.release(), true, R_NilValue, keep);
  handle.attr("class") = "ec5_csv_file";
  return Rcpp::List::create(Rcpp::Named("handle") = handle, Rcpp::Named("header") = header);
  EC5_END
}

// Infers the type of each of the columns `which` (1-based): "integer",
// "decimal", "date" or "time" (with its format), or "text" (with the candidate
// formats when the dates fit more than one), and the smallest and largest
// value of an integer column (NA for others). Values that spoil a column of
// dates or times are returned as problems.
// [[Rcpp::export(rng = false)]]
SEXP csv_infer_cpp(SEXP handle, Rcpp::IntegerVector which) {
  EC5_BEGIN
  using namespace ec5::csv;
  CsvFile& file = csv_file(handle);
  const R_xlen_t n = which.size();
  std::vector<std::size_t> at(static_cast<std::size_t>(n));
  for (R_xlen_t k = 0; k < n; ++k) {
    if (which[k] == NA_INTEGER || which[k] < 1 ||
        static_cast<std::size_t>(which[k]) > file.header.size()) {
      throw ec5::Error("argument", "`which` must list columns of the file.");
    }
    at[static_cast<std::size_t>(k)] = static_cast<std::size_t>(which[k] - 1);
  }
  std::vector<Census> census(at.size());
  std::size_t rows = 0;
  each_row(file, [&](std::size_t, const std::vector<Field>& fields, std::size_t,
                     const Records& records) {
    ++rows;
    for (std::size_t k = 0; k < at.size(); ++k) {
      const std::string_view s = records.text(fields[at[k]]);
      if (!s.empty()) census[k].add(s);
    }
  });
  file.rows = rows;
  Rcpp::CharacterVector type(n), format(n), candidates(n);
  Rcpp::NumericVector min(n), max(n);
  std::vector<Damage> damaged;
  for (R_xlen_t k = 0; k < n; ++k) {
    const Verdict v = infer(census[static_cast<std::size_t>(k)], at[static_cast<std::size_t>(k)],
                            damaged);
    type[k] = v.type;
    min[k] = v.min;
    max[k] = v.max;
    format[k] = v.format.empty() ? Rcpp::String(NA_STRING) : Rcpp::String(v.format);
    candidates[k] = v.candidates.empty() ? Rcpp::String(NA_STRING) : Rcpp::String(v.candidates);
  }
  ec5::Problems problems;
  report_damage(file, damaged, problems);
  return Rcpp::List::create(Rcpp::Named("type") = type, Rcpp::Named("format") = format,
                            Rcpp::Named("candidates") = candidates,
                            Rcpp::Named("min") = min, Rcpp::Named("max") = max,
                            Rcpp::Named("problems") = problems.to_data_frame(nullptr, nullptr));
  EC5_END
}

// Converts every cell with the column builder of its plan row (`name`,
// `type` an input type or "datetime", `format`, `levels`, `min`, `max`): the
// same rules as the JSON export. `size` is the file's size in bytes, for the
// builders' first allocation. The table waits in the handle for
// csv_finish_cpp(). Returns list(layout, ragged = list(row, fields), rows).
// [[Rcpp::export(rng = false)]]
SEXP csv_convert_cpp(SEXP handle, Rcpp::List plan, double size) {
  EC5_BEGIN
  using namespace ec5::csv;
  CsvFile& file = csv_file(handle);
  std::vector<ec5::ColumnSpec> specs = plan_specs(plan);
  if (specs.size() != file.header.size()) {
    throw ec5::Error("argument", "The plan must have a row per column of the file.");
  }
  file.table = std::make_unique<ec5::Table>(specs);
  std::vector<int> ragged_row, ragged_fields;
  const Layout layout = convert_rows(file, *file.table, ragged_row, ragged_fields,
                                     std::isfinite(size) && size > 0 ? static_cast<std::size_t>(size) : 0);
  return Rcpp::List::create(
      Rcpp::Named("layout") = layout_list(layout),
      Rcpp::Named("ragged") = Rcpp::List::create(Rcpp::Named("row") = Rcpp::wrap(ragged_row),
                                                 Rcpp::Named("fields") = Rcpp::wrap(ragged_fields)),
      Rcpp::Named("rows") = static_cast<double>(file.table->nrow()));
  EC5_END
}

// Finishes the table of csv_convert_cpp(): `problems` (row, column, expected,
// actual) are those found apart from conversion (the file's layout,
// inference); `key` the column that identifies an entry. Returns
// list(columns, problems (all of them, rows after de-duplication), converted
// (the conversion problems, before de-duplication)).
// [[Rcpp::export(rng = false)]]
SEXP csv_finish_cpp(SEXP handle, std::string key, Rcpp::List problems) {
  EC5_BEGIN
  using namespace ec5::csv;
  CsvFile& file = csv_file(handle);
  if (!file.table) throw ec5::Error("argument", "The file has not been converted.");
  const std::unique_ptr<ec5::Table> table = std::move(file.table);
  // The warning counts the values that could not be converted, before
  // duplicated entries drop any of them.
  Rcpp::List converted = table->problems().to_data_frame(nullptr, nullptr);
  add_problems(problems, table->problems());
  Rcpp::List out = table->finish({key, true, true});
  return Rcpp::List::create(Rcpp::Named("columns") = out["columns"],
                            Rcpp::Named("problems") = out["problems"],
                            Rcpp::Named("converted") = converted);
  EC5_END
}
