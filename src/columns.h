// Typed column builders: the one place that decides how an Epicollect5 answer
// becomes an R value. The JSON flattener (entries.cpp) feeds them RapidJSON
// values, the CSV reader feeds them cell text; both paths apply the same
// rules (the table contract in BRIEF.md):
//
//   * `""`, `null` and a missing key become NA (no problem recorded);
//   * a value that cannot be converted becomes NA and one row of the
//     problems table (row, column, expected, actual);
//   * nothing here throws on bad data, and nothing allocates R memory before
//     finish(): values live in C++ buffers until the table is complete.
//
// Usage (CSV reader and flattener alike):
//
//   ec5::Table table(ec5::table_specs(spec, options));   // system + questions
//   for each row, for each column c of table.columns():
//     for (size_t i = 0; i < c->width(); ++i)            // location: 6 parts
//       c->part(i).append_text(cell, len);               // or append_na()
//   SEXP out = table.finish(ec5::key_column(options));   // list(columns, problems)
//
// A location column takes a JSON object through append_json(); its six parts
// (lat, long, accuracy, UTM_Northing, UTM_Easting: decimal; UTM_Zone: text)
// take the six CSV cells through part(i).append_text(). A multi-answer cell
// is split the way the server joins it (", ", labels with commas quoted).
// Problems about a whole file go in with row 0:
// table.problems().add(0, "", expected, actual).
//
// From R, columns_from_text_cpp(spec, options, cells) runs this loop over a
// list of character vectors (one per output column).
#pragma once

#include <Rcpp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "json.h"

namespace ec5 {

// One question column (or system column) as the R column spec describes it.
// `type` is an Epicollect5 input type ("text", "integer", "date", ...) or
// "datetime" for the created_at / uploaded_at system columns.
struct ColumnSpec {
  std::string name;
  std::string type;
  std::string format;  // datetime_format, "" when none
  std::vector<std::string> levels;
};

// Conversion problems of one table. Rows are 1-based; 0 means "no row" (an
// element of `entries` that was not an object), NA in R.
class Problems {
 public:
  void add(size_t row, const std::string& column, const std::string& expected,
           const std::string& actual);
  size_t size() const { return row_.size(); }
  // `new_row[r - 1]` is the row number after de-duplication, 0 if dropped;
  // nullptr keeps the rows as they are.
  SEXP to_data_frame(const std::vector<size_t>* new_row) const;

 private:
  std::vector<size_t> row_;
  std::vector<std::string> column_, expected_, actual_;
};

// A JSON number or numeric text, kept exactly as parsed.
struct Number {
  enum Kind { kInt, kUint, kDouble } kind = kInt;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
};

// Parses numeric cell text with JSON number rules (surrounding ASCII blanks
// and a leading '+' allowed). Returns false when the text is not a number.
bool parse_number_text(const char* p, size_t n, Number* out);

// Short printable rendering of a value for the `actual` field of a problem.
std::string describe_json(const rapidjson::Value& v);
std::string describe_text(const char* p, size_t n);

// True if `p` holds valid UTF-8 without NUL bytes (R strings cannot hold NUL).
bool valid_text(const char* p, size_t n);

// The member `name` of an object, nullptr if absent or `object` is no object.
const rapidjson::Value* json_member(const rapidjson::Value& object, const char* name);

// A number given as a JSON number or as numeric text; `fallback` otherwise.
double json_number_or(const rapidjson::Value* v, double fallback);

class Column {
 public:
  Column(std::string name, Problems* problems)
      : name_(std::move(name)), problems_(problems) {}
  virtual ~Column() = default;
  Column(const Column&) = delete;
  Column& operator=(const Column&) = delete;

  const std::string& name() const { return name_; }

  virtual void append_json(const rapidjson::Value& v) = 0;
  virtual void append_text(const char* p, size_t n) = 0;
  virtual void append_na() = 0;
  virtual void reserve(size_t n) = 0;
  virtual size_t size() const = 0;

  // Number of R columns this builder produces and access to each as its own
  // builder (location: 6; everything else: 1, itself).
  virtual size_t width() const { return 1; }
  virtual Column& part(size_t) { return *this; }

  // Appends the finished R vector(s) and their names; `keep` lists the rows
  // (0-based, increasing) to keep, nullptr for all.
  virtual void finish(const std::vector<size_t>* keep, std::vector<std::string>* names,
                      std::vector<Rcpp::RObject>* out) const = 0;

  // The text of row `i` if this is a text column and the value is not NA
  // (used for the de-duplication key).
  virtual bool text_at(size_t, std::string_view*) const { return false; }

 protected:
  void problem(const std::string& expected, const std::string& actual) {
    problems_->add(size() + 1, name_, expected, actual);
  }
  void problem_json(const std::string& expected, const rapidjson::Value& v) {
    problem(expected, describe_json(v));
  }
  void problem_text(const std::string& expected, const char* p, size_t n) {
    problem(expected, describe_text(p, n));
  }
  // Dispatches a JSON scalar: strings go to append_text, null to
  // append_na. Returns false if `v` was not handled.
  bool append_json_scalar(const rapidjson::Value& v);
  // For columns read from text: strings and null as above, numbers as their
  // text (a phone number sent as a number), anything else is a problem.
  void append_json_as_text(const rapidjson::Value& v);
  // What a value must be, for the problems table. Built only when a problem
  // is recorded: a string built per value would cost more than the value.
  virtual std::string expected() const { return "text"; }

 private:
  std::string name_;
  Problems* problems_;
};

// Builds the column for a spec: text, textarea, phone, barcode, photo, audio,
// video, time, partial dates -> character; integer, branch -> integer
// (double if needed); decimal -> double; date with day, month and year ->
// Date; radio, dropdown -> factor; checkbox, search* -> list of character;
// location -> 6 columns; datetime -> POSIXct UTC. Unknown types are text.
std::unique_ptr<Column> make_column(const ColumnSpec& spec, Problems* problems);

// The whole table: system columns and question columns, one shared problems
// table. Rows are appended column by column; every column must receive one
// value per row.
class Table {
 public:
  explicit Table(const std::vector<ColumnSpec>& specs);
  std::vector<std::unique_ptr<Column>>& columns() { return columns_; }
  Problems& problems() { return problems_; }
  size_t nrow() const { return columns_.empty() ? 0 : columns_[0]->size(); }
  void reserve(size_t n);
  // list(columns = named list, problems = data.frame). Rows with a
  // duplicated non-NA value in column `key` keep only their last copy;
  // key "" (or a key not in the table) keeps every row.
  SEXP finish(const std::string& key) const;

 private:
  std::vector<std::unique_ptr<Column>> columns_;
  Problems problems_;
};

// Reads the R column spec (`spec` data.frame of ec5_column_spec(): name,
// type, format, levels) and `options` (mode, child, private) into the full
// list of columns: system columns first, then the questions.
std::vector<ColumnSpec> table_specs(SEXP spec, SEXP options);

// The de-duplication key for these options: "ec5_uuid" or "ec5_branch_uuid".
std::string key_column(SEXP options);

}  // namespace ec5
