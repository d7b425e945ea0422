#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "column.h"
#include "r_vectors.h"
#include "values.h"

namespace ec5 {

namespace {

// The label of a choice answer as the levels hold it: the server maps an
// answer to its text as stored, HTML entities and all (`R&amp;D`), and the
// definition's labels are decoded (definition.cpp). `buffer` holds the
// decoded text when there were entities.
std::string_view answer_label(const char* p, size_t n, std::string& buffer) {
  const std::string_view label(p, n);
  if (!may_hold_entities(label)) return label;
  buffer.clear();
  decode_entities(label, buffer);
  return buffer;
}

// radio / dropdown: integer codes into the levels (the mapped labels, first
// copy of a duplicated label wins).
class FactorColumn final : public Column {
 public:
  FactorColumn(std::string name, Problems* problems, const std::vector<std::string>& levels)
      : Column(std::move(name), problems) {
    for (const std::string& level : levels) {
      if (std::find(levels_.begin(), levels_.end(), level) == levels_.end()) {
        levels_.push_back(level);
      }
    }
    for (size_t i = 0; i < levels_.size(); ++i) code_.emplace(levels_[i], static_cast<int>(i + 1));
  }

  void append_json(const rapidjson::Value& v) override {
    if (v.IsString()) return append_text(v.GetString(), v.GetStringLength());
    append_json_as_text(v);
  }
  void append_text(const char* p, size_t n) override {
    if (n == 0) return append_na();
    const int code = lookup(answer_label(p, n, buffer_));
    if (code == NA_INTEGER) {
      problem_text(expected(), p, n);
      append_na();
    } else {
      codes_.push_back(code);
    }
  }
  void append_na() override { codes_.push_back(NA_INTEGER); }
  void reserve(size_t n) override { codes_.reserve(n); }
  size_t size() const override { return codes_.size(); }
  void truncate(size_t n) override { codes_.resize(n); }
  void finish(const std::vector<size_t>* keep, std::vector<std::string>* names,
              std::vector<Rcpp::RObject>* out) const override {
    size_t n = out_length(keep, size());
    Rcpp::IntegerVector x(n);
    for (size_t i = 0; i < n; ++i) x[i] = codes_[source_row(keep, i)];
    Rcpp::RObject obj(x);
    obj.attr("levels") = r_strings(levels_);
    set_class(obj, {"factor"});
    names->push_back(name());
    out->push_back(obj);
  }

 private:
  std::string expected() const override {
    return "one of the " + std::to_string(levels_.size()) + " answers";
  }
  // The code of a label, NA_INTEGER if none. Answers repeat: the last one
  // found is compared first, which spares hashing the whole label.
  int lookup(std::string_view label) {
    if (last_ != NA_INTEGER && levels_[static_cast<size_t>(last_ - 1)] == label) return last_;
    auto it = code_.find(label);
    if (it == code_.end()) return NA_INTEGER;
    last_ = it->second;
    return last_;
  }

  std::vector<std::string> levels_;  // stable: code_ keys point into it
  std::unordered_map<std::string_view, int> code_;
  std::vector<int> codes_;
  std::string buffer_;
  int last_ = NA_INTEGER;
};

// checkbox / searchsingle / searchmultiple: a character vector per row.
// No answer (`[]`, `""`, null, missing) is character(0); a value that cannot
// be read is NA_character_ (and a problem). A scalar string is read as a
// one-answer array. CSV text is split the way the server joins it: labels
// separated by ", ", a label holding a comma wrapped in double quotes.
class ListColumn : public Column {
 public:
  using Column::Column;

  void append_json(const rapidjson::Value& v) override {
    if (v.IsArray()) {
      if (!all_elements_readable(v)) {
        problem_json("array of answers", v);
        return append_failed();
      }
      for (const rapidjson::Value& e : v.GetArray()) {
        if (e.IsString()) {
          push_element(e.GetString(), e.GetStringLength());
        } else if (e.IsNumber()) {
          std::string text = number_text(e);
          push_element(text.data(), text.size());
        } else {
          elements_.push_na();
        }
      }
      return end_row();
    }
    if (v.IsNull() || (v.IsString() && v.GetStringLength() == 0)) return append_na();
    if (v.IsString() && valid_text(v.GetString(), v.GetStringLength())) {
      push_element(v.GetString(), v.GetStringLength());
      return end_row();
    }
    if (v.IsNumber()) {
      std::string text = number_text(v);
      push_element(text.data(), text.size());
      return end_row();
    }
    problem_json("array of answers", v);
    append_failed();
  }
  void append_text(const char* p, size_t n) override {
    if (n == 0) return append_na();
    if (!valid_text(p, n)) {
      problem_text("UTF-8 text", p, n);
      return append_failed();
    }
    split_labels(p, n);
    end_row();
  }
  void append_na() override { end_row(); }
  void reserve(size_t n) override { row_end_.reserve(n); }
  size_t size() const override { return row_end_.size(); }
  void truncate(size_t n) override {
    elements_.truncate(n == 0 ? 0 : row_end_[n - 1]);
    row_end_.resize(n);
    failed_.resize(n);
  }
  void finish(const std::vector<size_t>* keep, std::vector<std::string>* names,
              std::vector<Rcpp::RObject>* out) const override {
    size_t n = out_length(keep, size());
    Rcpp::List x(n);
    CharsxpCache cache;
    for (size_t i = 0; i < n; ++i) {
      size_t r = source_row(keep, i);
      size_t from = r == 0 ? 0 : row_end_[r - 1];
      // Plain R vectors: an Rcpp vector per row costs more than its few
      // strings. Each is protected by `x` as soon as it is made.
      if (failed_[r]) {
        SET_VECTOR_ELT(x, i, Rf_ScalarString(NA_STRING));
        continue;
      }
      SEXP answers = Rf_allocVector(STRSXP, static_cast<R_xlen_t>(row_end_[r] - from));
      SET_VECTOR_ELT(x, i, answers);
      for (size_t k = from; k < row_end_[r]; ++k) {
        SET_STRING_ELT(answers, static_cast<R_xlen_t>(k - from), elements_.charsxp(k, &cache));
      }
    }
    names->push_back(name());
    out->push_back(x);
  }

 private:
  bool all_elements_readable(const rapidjson::Value& v) const {
    for (const rapidjson::Value& e : v.GetArray()) {
      if (e.IsString() ? !valid_text(e.GetString(), e.GetStringLength())
                       : !(e.IsNumber() || e.IsNull())) {
        return false;
      }
    }
    return true;
  }
  void push_element(const char* p, size_t n) {
    if (n == 0) {
      elements_.push_na();
    } else {
      const std::string_view label = answer_label(p, n, buffer_);
      elements_.push(label.data(), label.size());
    }
  }
  void split_labels(const char* p, size_t n) {
    const size_t npos = std::string_view::npos;
    std::string_view rest(p, n);
    while (!rest.empty()) {
      size_t close = npos;
      if (rest[0] == '"') {
        close = rest.find("\", ", 1);
        if (close == npos && rest.size() >= 2 && rest.back() == '"') close = rest.size() - 1;
      }
      // `next` is where the ", " after this label starts (npos: last label).
      size_t next = close != npos ? close + 1 : rest.find(", ");
      std::string_view label =
          close != npos ? rest.substr(1, close - 1) : rest.substr(0, next);
      push_element(label.data(), label.size());
      if (next == npos || next >= rest.size()) break;
      rest.remove_prefix(next + 2);
    }
  }
  void end_row() {
    row_end_.push_back(elements_.size());
    failed_.push_back(false);
  }
  void append_failed() {
    row_end_.push_back(elements_.size());
    failed_.push_back(true);
  }

  StringStore elements_;
  std::vector<size_t> row_end_;
  std::vector<bool> failed_;
  std::string buffer_;
};

}  // namespace

std::unique_ptr<Column> factor_column(std::string name, Problems* problems,
                                      const std::vector<std::string>& levels) {
  return std::make_unique<FactorColumn>(std::move(name), problems, levels);
}

std::unique_ptr<Column> list_column(std::string name, Problems* problems) {
  return std::make_unique<ListColumn>(std::move(name), problems);
}

}  // namespace ec5
