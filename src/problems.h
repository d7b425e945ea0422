// The problems table of a typed table: one row per value that could not be
// converted (row, column, expected, actual), and per fault of a file as a
// whole (row NA, column "").
#pragma once

#include <Rcpp.h>

#include <cstddef>
#include <string>
#include <vector>

namespace ec5 {

// Rows are 1-based; 0 means "no row" (an element of `entries` that was not
// an object, a fault of a whole CSV file), NA in R.
class Problems {
 public:
  void add(size_t row, const std::string& column, const std::string& expected,
           const std::string& actual);
  size_t size() const { return row_.size(); }
  // Drops the problems from the `n`-th on.
  void truncate(size_t n);
  // `new_row[r - 1]` is the row number after de-duplication, 0 if dropped
  // (its problems are dropped too); nullptr keeps the rows as they are.
  // With `column_order`, problems are sorted by row (no row first), then by
  // the position of their column in it (unknown columns last); ties keep
  // their order. Problems before the `from`-th are left out.
  SEXP to_data_frame(const std::vector<size_t>* new_row,
                     const std::vector<std::string>* column_order, size_t from = 0) const;

 private:
  std::vector<size_t> row_;
  std::vector<std::string> column_, expected_, actual_;
};

}  // namespace ec5
