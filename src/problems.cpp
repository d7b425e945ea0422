#include "problems.h"

#include <algorithm>
#include <limits>
#include <tuple>
#include <unordered_map>

#include "r_vectors.h"

namespace ec5 {

void Problems::add(size_t row, const std::string& column, const std::string& expected,
                   const std::string& actual) {
  row_.push_back(row);
  column_.push_back(column);
  expected_.push_back(expected);
  actual_.push_back(actual);
}

void Problems::truncate(size_t n) {
  row_.resize(n);
  column_.resize(n);
  expected_.resize(n);
  actual_.resize(n);
}

SEXP Problems::to_data_frame(const std::vector<size_t>* new_row,
                             const std::vector<std::string>* column_order, size_t from) const {
  auto final_row = [&](size_t i) {
    return row_[i] > 0 && new_row ? (*new_row)[row_[i] - 1] : row_[i];
  };
  std::vector<size_t> kept;
  for (size_t i = from; i < row_.size(); ++i) {
    bool dropped = new_row && row_[i] > 0 && (*new_row)[row_[i] - 1] == 0;
    if (!dropped) kept.push_back(i);
  }
  if (column_order) {
    std::unordered_map<std::string, size_t> rank;
    for (size_t j = column_order->size(); j-- > 0;) rank[(*column_order)[j]] = j;
    auto key = [&](size_t i) {
      auto it = rank.find(column_[i]);
      size_t r = it == rank.end() ? std::numeric_limits<size_t>::max() : it->second;
      return std::make_tuple(final_row(i) > 0, final_row(i), r);
    };
    std::stable_sort(kept.begin(), kept.end(),
                     [&](size_t a, size_t b) { return key(a) < key(b); });
  }
  Rcpp::IntegerVector row(kept.size());
  Rcpp::CharacterVector column(kept.size()), expected(kept.size()), actual(kept.size());
  for (size_t j = 0; j < kept.size(); ++j) {
    size_t i = kept[j];
    size_t r = final_row(i);
    row[j] = r > 0 ? static_cast<int>(r) : NA_INTEGER;
    SET_STRING_ELT(column, j, r_string(column_[i]));
    SET_STRING_ELT(expected, j, r_string(expected_[i]));
    SET_STRING_ELT(actual, j, r_string(actual_[i]));
  }
  return data_frame({"row", "column", "expected", "actual"},
                    Rcpp::List::create(row, column, expected, actual), kept.size(), false);
}

}  // namespace ec5
