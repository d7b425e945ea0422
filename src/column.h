// Typed column builders: the one place that decides how an Epicollect5 value
// becomes an R value. The JSON flattener (entries.cpp) feeds them RapidJSON
// values, the CSV reader (csv_columns.cpp) feeds them cell text; both paths
// apply the same rules:
//
//   * `""`, `null` and a missing key become NA (no problem recorded);
//   * a value that cannot be converted becomes NA and one row of the
//     problems table (row, column, expected, actual);
//   * nothing here throws on bad data, and nothing allocates R memory before
//     finish(): values live in C++ buffers until the table is complete.
//
// One file per kind, as vroom splits its collectors: column_text.cpp,
// column_number.cpp (integers, decimals, dates, date-times),
// column_choice.cpp (factors, lists of answers), column_location.cpp. Which
// kind a question gets is decided by the table layout (table_layout.h).
#pragma once

#include <Rcpp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "json.h"
#include "problems.h"
#include "r_vectors.h"

namespace ec5 {

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
  // Drops the rows from `n` on (n <= size()): a page that fails to parse
  // takes back the rows it had added (entries.cpp).
  virtual void truncate(size_t n) = 0;

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
  void problem_json(const std::string& expected, const rapidjson::Value& v);
  void problem_text(const std::string& expected, const char* p, size_t n);
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

// The builders, one per kind.
// Text as sent; with a datetime_format (time, partial dates) it must match.
// `placeholder` (the server's word for "unknown", "" for none) is NA.
std::unique_ptr<Column> text_column(std::string name, Problems* problems,
                                    std::string format = "", std::string placeholder = "");
// Integers: an R integer, or with `whole` a double (exact to 2^53). The
// table layout decides which from the definition, never from the values.
std::unique_ptr<Column> integer_column(std::string name, Problems* problems, bool whole);
std::unique_ptr<Column> decimal_column(std::string name, Problems* problems);
// Dates in a datetime_format with day, month and year.
std::unique_ptr<Column> date_column(std::string name, Problems* problems, std::string format);
// The created_at / uploaded_at system columns: POSIXct UTC.
std::unique_ptr<Column> datetime_column(std::string name, Problems* problems);
// Single answers: a factor of the mapped labels.
std::unique_ptr<Column> factor_column(std::string name, Problems* problems,
                                      const std::vector<std::string>& levels);
// Multiple answers: a list of character vectors.
std::unique_ptr<Column> list_column(std::string name, Problems* problems);
// A location: six columns from one JSON object.
std::unique_ptr<Column> location_column(const std::string& name, Problems* problems);

// --- shared by the builders --------------------------------------------------------

// The CHARSXPs of a column being finished: a value equal to a recent one
// reuses its CHARSXP instead of asking R's global string cache again, which
// hashes the whole string a byte at a time and walks a chain in a table of
// every string of the session. Answers repeat (a zone, a phone number, a
// text answer chosen from a few). A column of distinct values (keys, titles)
// stops consulting the cache after a trial. The cache does not protect what
// it hands out: each CHARSXP must go into a protected vector at once. It
// owns no heap memory, so an R error (out of memory) may jump over it
// (lazy_text.cpp makes strings inside R's ALTREP methods).
class CharsxpCache {
 public:
  SEXP get(const char* p, size_t n) {
    if (off_) return r_string({p, n});
    return lookup(p, n);
  }

 private:
  SEXP lookup(const char* p, size_t n);
  // Lookups and hits during the trial.
  static constexpr size_t kTrial = 1024;
  size_t tried_ = 0, hits_ = 0;
  bool off_ = false;
  // A CHARSXP with its bytes (CHAR() and LENGTH() are calls into R).
  struct Slot {
    SEXP charsxp = nullptr;
    const char* p = nullptr;
    size_t n = 0;
  };
  static constexpr size_t kBits = 10;
  std::array<Slot, size_t{1} << kBits> slots_{};
};

// Strings of one column in one buffer: no allocation per value.
class StringStore {
 public:
  void push(const char* p, size_t n) {
    start_.push_back(bytes_.size());
    length_.push_back(static_cast<int64_t>(n));
    bytes_.append(p, n);
  }
  void push_na() {
    start_.push_back(bytes_.size());
    length_.push_back(-1);
  }
  void reserve(size_t n) {
    start_.reserve(n);
    length_.reserve(n);
  }
  size_t size() const { return start_.size(); }
  void truncate(size_t n) {
    if (n < start_.size()) bytes_.resize(start_[n]);
    start_.resize(n);
    length_.resize(n);
  }
  // The rows `rows` (0-based) in a store of their own.
  StringStore select(const std::vector<size_t>& rows) const {
    StringStore out;
    out.reserve(rows.size());
    for (size_t i : rows) {
      if (is_na(i)) {
        out.push_na();
      } else {
        out.push(bytes_.data() + start_[i], static_cast<size_t>(length_[i]));
      }
    }
    return out;
  }
  bool is_na(size_t i) const { return length_[i] < 0; }
  std::string_view at(size_t i) const {
    return std::string_view(bytes_.data() + start_[i], static_cast<size_t>(length_[i]));
  }
  // The R string of row `i`: NA, a recent equal one from `cache`, or (no
  // cache) a new one.
  SEXP charsxp(size_t i, CharsxpCache* cache) const {
    if (is_na(i)) return NA_STRING;
    return cache ? cache->get(bytes_.data() + start_[i], static_cast<size_t>(length_[i]))
                 : r_string(at(i));
  }

 private:
  std::string bytes_;
  std::vector<size_t> start_;
  std::vector<int64_t> length_;
};

// Rows of a finished column: all of them, or those in `keep`.
inline size_t out_length(const std::vector<size_t>* keep, size_t n) {
  return keep ? keep->size() : n;
}
inline size_t source_row(const std::vector<size_t>* keep, size_t i) {
  return keep ? (*keep)[i] : i;
}

void set_class(Rcpp::RObject& x, std::initializer_list<const char*> classes);

}  // namespace ec5
