// The whole table: its columns (built from the table layout) and one shared
// problems table. Rows are appended column by column; every column must
// receive one value per row. finish() applies "last copy wins": the one
// place where duplicated entries are dropped, for the JSON and CSV paths.
#pragma once

#include <Rcpp.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "column.h"
#include "problems.h"
#include "table_layout.h"

namespace ec5 {

struct FinishOptions {
  // Rows with a duplicated non-NA value in column `key` keep only their
  // last copy; "" (or a key not in the table) keeps every row.
  std::string key;
  // A problem on the kept row for each dropped copy (a CSV file should not
  // hold two copies; pages fetched while entries change may).
  bool report_dropped = false;
  // Problems sorted by row, then column (the CSV path adds the problems of
  // the file's layout and of inference after those of conversion).
  bool sort_problems = false;
};

class Table {
 public:
  explicit Table(const std::vector<ColumnSpec>& specs);
  std::vector<std::unique_ptr<Column>>& columns() { return columns_; }
  Problems& problems() { return problems_; }
  size_t nrow() const { return columns_.empty() ? 0 : columns_[0]->size(); }
  void reserve(size_t n);
  // list(columns = named list, problems = data.frame).
  // Frees each column's builder as soon as its R vector is made, so that a
  // large table is not held twice: the table is empty afterwards.
  SEXP finish(const FinishOptions& options);

 private:
  // The first column called `name`, nullptr if none.
  const Column* column(const std::string& name) const;
  // The rows to keep (0-based, increasing): the last copy of each non-NA
  // value of `key`, every row when `key` is nullptr.
  std::vector<size_t> last_copies(const Column* key) const;
  void report_dropped(const Column& key, const std::vector<size_t>& keep,
                      const std::vector<size_t>& new_row);

  std::vector<std::unique_ptr<Column>> columns_;
  Problems problems_;
};

}  // namespace ec5
