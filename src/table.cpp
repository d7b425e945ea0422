#include "table.h"

#include <algorithm>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "r_vectors.h"

namespace ec5 {

Table::Table(const std::vector<ColumnSpec>& specs) {
  columns_.reserve(specs.size());
  for (const ColumnSpec& spec : specs) columns_.push_back(make_column(spec, &problems_));
}

void Table::reserve(size_t n) {
  for (auto& column : columns_) column->reserve(n);
}

const Column* Table::column(const std::string& name) const {
  for (const auto& c : columns_) {
    if (c->name() == name) return c.get();
  }
  return nullptr;
}

std::vector<size_t> Table::last_copies(const Column* key) const {
  const size_t n = nrow();
  std::vector<size_t> keep;
  if (!key) {
    for (size_t i = 0; i < n; ++i) keep.push_back(i);
    return keep;
  }
  // An open-addressing set of the rows kept so far, by their key: no
  // allocation per row (a node-based set cost 7 % of flattening 100,000
  // entries).
  size_t capacity = 16;
  while (capacity < 2 * n) capacity <<= 1;
  const size_t empty = static_cast<size_t>(-1);
  std::vector<size_t> seen(capacity, empty);
  std::hash<std::string_view> hash;
  for (size_t i = n; i-- > 0;) {
    std::string_view value, other;
    if (!key->text_at(i, &value)) {
      keep.push_back(i);
      continue;
    }
    size_t h = hash(value) & (capacity - 1);
    while (seen[h] != empty && !(key->text_at(seen[h], &other) && other == value)) {
      h = (h + 1) & (capacity - 1);
    }
    if (seen[h] == empty) {
      seen[h] = i;
      keep.push_back(i);
    }
  }
  std::reverse(keep.begin(), keep.end());
  return keep;
}

void Table::report_dropped(const Column& key, const std::vector<size_t>& keep,
                           const std::vector<size_t>& new_row) {
  // The kept copy of a dropped row is the last row with the same key.
  std::unordered_map<std::string_view, size_t> last;
  for (size_t i : keep) {
    std::string_view value;
    if (key.text_at(i, &value)) last[value] = i;
  }
  for (size_t i = 0; i < new_row.size(); ++i) {
    std::string_view value;
    if (new_row[i] != 0 || !key.text_at(i, &value)) continue;
    problems_.add(last[value] + 1, key.name(), "one row per " + key.name(),
                  "a copy on row " + std::to_string(i + 1) + " (dropped; the last copy is kept)");
  }
}

SEXP Table::finish(const FinishOptions& options) {
  const size_t n = nrow();
  const Column* key = options.key.empty() ? nullptr : column(options.key);
  const std::vector<size_t> keep = last_copies(key);
  const bool dedup = keep.size() < n;
  std::vector<size_t> new_row;
  if (dedup) {
    new_row.assign(n, 0);
    for (size_t i = 0; i < keep.size(); ++i) new_row[keep[i]] = i + 1;
  }
  if (dedup && options.report_dropped) report_dropped(*key, keep, new_row);
  std::vector<std::string> names;
  std::vector<Rcpp::RObject> values;
  for (auto& column : columns_) {
    column->finish(dedup ? &keep : nullptr, &names, &values);
    column.reset();
  }
  columns_.clear();
  Rcpp::List columns(values.size());
  for (size_t i = 0; i < values.size(); ++i) columns[i] = values[i];
  columns.attr("names") = r_strings(names);
  return Rcpp::List::create(
      Rcpp::Named("columns") = columns,
      Rcpp::Named("problems") = problems_.to_data_frame(dedup ? &new_row : nullptr,
                                                        options.sort_problems ? &names : nullptr));
}

}  // namespace ec5
