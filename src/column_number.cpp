#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "column.h"
#include "values.h"

namespace ec5 {

namespace {

// Integers: an R integer, or with `whole` a double (exact up to 2^53), as
// the table layout decided. Non-integral values, values beyond 64 bits and,
// for an R integer, values beyond 32 bits are problems.
class IntegerColumn : public Column {
 public:
  IntegerColumn(std::string name, Problems* problems, bool whole)
      : Column(std::move(name), problems), whole_(whole) {}

  void append_json(const rapidjson::Value& v) override {
    if (!v.IsNumber() && append_json_scalar(v)) return;
    if (!v.IsNumber() || !append_number(json_number(v))) {
      problem_json(expected(), v);
      append_na();
    }
  }
  void append_text(const char* p, size_t n) override {
    if (n == 0) return append_na();
    Number x;
    if (!parse_number_text(p, n, &x) || !append_number(x)) {
      problem_text(expected(), p, n);
      append_na();
    }
  }
  void append_na() override {
    values_.push_back(0);
    na_.push_back(true);
  }
  void reserve(size_t n) override {
    values_.reserve(n);
    na_.reserve(n);
  }
  size_t size() const override { return values_.size(); }
  void truncate(size_t n) override {
    values_.resize(n);
    na_.resize(n);
  }
  void finish(const std::vector<size_t>* keep, std::vector<std::string>* names,
              std::vector<Rcpp::RObject>* out) const override {
    size_t n = out_length(keep, size());
    names->push_back(name());
    if (!whole_) {
      Rcpp::IntegerVector x(n);
      for (size_t i = 0; i < n; ++i) {
        size_t r = source_row(keep, i);
        x[i] = na_[r] ? NA_INTEGER : static_cast<int>(values_[r]);
      }
      out->push_back(x);
    } else {
      Rcpp::NumericVector x(n);
      for (size_t i = 0; i < n; ++i) {
        size_t r = source_row(keep, i);
        x[i] = na_[r] ? NA_REAL : static_cast<double>(values_[r]);
      }
      out->push_back(x);
    }
  }

 private:
  std::string expected() const override {
    return whole_ ? "integer" : "integer from -2147483647 to 2147483647";
  }
  bool append_number(const Number& x) {
    int64_t v;
    if (!number_to_int64(x, &v)) return false;
    // INT32_MIN is R's NA_integer_.
    if (!whole_ && (v <= INT32_MIN || v > INT32_MAX)) return false;
    values_.push_back(v);
    na_.push_back(false);
    return true;
  }

  bool whole_;
  std::vector<int64_t> values_;
  std::vector<bool> na_;
};

// Doubles, optionally with an R class (Date, POSIXct) and a text parser.
class DoubleColumn : public Column {
 public:
  DoubleColumn(std::string name, Problems* problems) : Column(std::move(name), problems) {}

  void append_json(const rapidjson::Value& v) override {
    if (v.IsNumber() && accepts_numbers()) return values_.push_back(v.GetDouble());
    if (append_json_scalar(v)) return;
    problem_json(expected(), v);
    append_na();
  }
  void append_text(const char* p, size_t n) override {
    if (n == 0) return append_na();
    double v;
    if (parse(p, n, &v)) {
      values_.push_back(v);
    } else {
      problem_text(expected(), p, n);
      append_na();
    }
  }
  void append_na() override { values_.push_back(NA_REAL); }
  void reserve(size_t n) override { values_.reserve(n); }
  size_t size() const override { return values_.size(); }
  void truncate(size_t n) override { values_.resize(n); }
  void finish(const std::vector<size_t>* keep, std::vector<std::string>* names,
              std::vector<Rcpp::RObject>* out) const override {
    size_t n = out_length(keep, size());
    Rcpp::NumericVector x(n);
    for (size_t i = 0; i < n; ++i) x[i] = values_[source_row(keep, i)];
    Rcpp::RObject obj(x);
    decorate(obj);
    names->push_back(name());
    out->push_back(obj);
  }

 protected:
  virtual bool accepts_numbers() const { return true; }
  std::string expected() const override { return "number"; }
  virtual bool parse(const char* p, size_t n, double* out) const {
    Number x;
    if (!parse_number_text(p, n, &x)) return false;
    *out = number_to_double(x);
    return true;
  }
  virtual void decorate(Rcpp::RObject&) const {}

 private:
  std::vector<double> values_;
};

// Dates in a datetime_format with day, month and year; strictly checked, so
// `11/9/21` (an Excel re-save) is a problem, never a wrong date.
class DateColumn : public DoubleColumn {
 public:
  DateColumn(std::string name, Problems* problems, std::string format)
      : DoubleColumn(std::move(name), problems), format_(std::move(format)) {}

 protected:
  bool accepts_numbers() const override { return false; }
  std::string expected() const override { return "date " + format_; }
  bool parse(const char* p, size_t n, double* out) const override {
    int64_t days;
    if (!parse_date(format_, std::string_view(p, n), &days)) return false;
    *out = static_cast<double>(days);
    return true;
  }
  void decorate(Rcpp::RObject& x) const override { set_class(x, {"Date"}); }

 private:
  std::string format_;
};

// The created_at / uploaded_at system columns.
class DateTimeColumn : public DoubleColumn {
 public:
  DateTimeColumn(std::string name, Problems* problems) : DoubleColumn(std::move(name), problems) {}

 protected:
  bool accepts_numbers() const override { return false; }
  std::string expected() const override { return "ISO 8601 date-time"; }
  bool parse(const char* p, size_t n, double* out) const override {
    return parse_timestamp(std::string_view(p, n), out);
  }
  void decorate(Rcpp::RObject& x) const override {
    set_class(x, {"POSIXct", "POSIXt"});
    x.attr("tzone") = "UTC";
  }
};

}  // namespace

std::unique_ptr<Column> integer_column(std::string name, Problems* problems, bool whole) {
  return std::make_unique<IntegerColumn>(std::move(name), problems, whole);
}

std::unique_ptr<Column> decimal_column(std::string name, Problems* problems) {
  return std::make_unique<DoubleColumn>(std::move(name), problems);
}

std::unique_ptr<Column> date_column(std::string name, Problems* problems, std::string format) {
  return std::make_unique<DateColumn>(std::move(name), problems, std::move(format));
}

std::unique_ptr<Column> datetime_column(std::string name, Problems* problems) {
  return std::make_unique<DateTimeColumn>(std::move(name), problems);
}

}  // namespace ec5
