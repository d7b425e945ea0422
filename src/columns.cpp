#include "columns.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "glue.h"
#include "rvectors.h"

namespace ec5 {

// --- problems ---------------------------------------------------------------

void Problems::add(size_t row, const std::string& column, const std::string& expected,
                   const std::string& actual) {
  row_.push_back(row);
  column_.push_back(column);
  expected_.push_back(expected);
  actual_.push_back(actual);
}

SEXP Problems::to_data_frame(const std::vector<size_t>* new_row) const {
  std::vector<size_t> kept;
  for (size_t i = 0; i < row_.size(); ++i) {
    bool dropped = new_row && row_[i] > 0 && (*new_row)[row_[i] - 1] == 0;
    if (!dropped) kept.push_back(i);
  }
  Rcpp::IntegerVector row(kept.size());
  Rcpp::CharacterVector column(kept.size()), expected(kept.size()), actual(kept.size());
  for (size_t j = 0; j < kept.size(); ++j) {
    size_t i = kept[j];
    size_t r = row_[i] > 0 && new_row ? (*new_row)[row_[i] - 1] : row_[i];
    row[j] = r > 0 ? static_cast<int>(r) : NA_INTEGER;
    SET_STRING_ELT(column, j, r_string(column_[i]));
    SET_STRING_ELT(expected, j, r_string(expected_[i]));
    SET_STRING_ELT(actual, j, r_string(actual_[i]));
  }
  return data_frame({"row", "column", "expected", "actual"},
                    Rcpp::List::create(row, column, expected, actual), kept.size(), false);
}

// --- text and numbers ---------------------------------------------------------

namespace {

// Length of the UTF-8 sequence starting at p[0] (1-4), 0 if invalid.
size_t utf8_length(const unsigned char* p, size_t n) {
  unsigned char c = p[0];
  if (c < 0x80) return c == 0 ? 0 : 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no UTF-16 surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (len > n || p[1] < lo || p[1] > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (p[k] < 0x80 || p[k] > 0xBF) return 0;
  }
  return len;
}

const size_t kDescribeMax = 80;

std::string number_text(const rapidjson::Value& v) {
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.Double(v.GetDouble());
  return std::string(buffer.GetString(), buffer.GetSize());
}

Number json_number(const rapidjson::Value& v) {
  Number out;
  if (v.IsInt64()) {
    out.kind = Number::kInt;
    out.i = v.GetInt64();
  } else if (v.IsUint64()) {
    out.kind = Number::kUint;
    out.u = v.GetUint64();
  } else {
    out.kind = Number::kDouble;
    out.d = v.GetDouble();
  }
  return out;
}

// Collects the single number of a JSON text; anything else fails the parse.
struct NumberHandler : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, NumberHandler> {
  Number* out;
  explicit NumberHandler(Number* o) : out(o) {}
  bool Default() { return false; }
  bool Int(int i) { return Int64(i); }
  bool Uint(unsigned u) { return Int64(u); }
  bool Int64(int64_t i) {
    out->kind = Number::kInt;
    out->i = i;
    return true;
  }
  bool Uint64(uint64_t u) {
    // RapidJSON reports every non-negative integer beyond 32 bits here.
    if (u <= static_cast<uint64_t>(INT64_MAX)) return Int64(static_cast<int64_t>(u));
    out->kind = Number::kUint;
    out->u = u;
    return true;
  }
  bool Double(double d) {
    out->kind = Number::kDouble;
    out->d = d;
    return true;
  }
};

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// 2^63 as a double: the first value that no longer fits int64.
const double kInt64Limit = 9223372036854775808.0;

bool number_to_int64(const Number& x, int64_t* out) {
  switch (x.kind) {
    case Number::kInt:
      *out = x.i;
      return true;
    case Number::kUint:
      return false;
    case Number::kDouble:
      if (!std::isfinite(x.d) || x.d != std::trunc(x.d) || x.d < -kInt64Limit ||
          x.d >= kInt64Limit) {
        return false;
      }
      *out = static_cast<int64_t>(x.d);
      return true;
  }
  return false;
}

double number_to_double(const Number& x) {
  switch (x.kind) {
    case Number::kInt:
      return static_cast<double>(x.i);
    case Number::kUint:
      return static_cast<double>(x.u);
    case Number::kDouble:
      return x.d;
  }
  return NA_REAL;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

// Reads exactly `width` digits.
bool read_digits(const char*& p, const char* end, int width, int* out) {
  if (end - p < width) return false;
  int v = 0;
  for (int k = 0; k < width; ++k) {
    if (p[k] < '0' || p[k] > '9') return false;
    v = v * 10 + (p[k] - '0');
  }
  p += width;
  *out = v;
  return true;
}

// A date/time value matched against an Epicollect5 datetime_format
// (dd, MM, YYYY, HH, hh, mm, ss; any other character must match itself).
// Components the format lacks stay -1.
struct DateParts {
  int year = -1, month = -1, day = -1, hour = -1, minute = -1, second = -1;
};

bool match_format(const std::string& format, const char* p, size_t n, DateParts* out) {
  const char* end = p + n;
  const char* f = format.c_str();
  while (*f) {
    int* slot = nullptr;
    int width = 2;
    if (std::strncmp(f, "YYYY", 4) == 0) {
      slot = &out->year;
      width = 4;
    } else if (std::strncmp(f, "dd", 2) == 0) {
      slot = &out->day;
    } else if (std::strncmp(f, "MM", 2) == 0) {
      slot = &out->month;
    } else if (std::strncmp(f, "HH", 2) == 0 || std::strncmp(f, "hh", 2) == 0) {
      slot = &out->hour;
    } else if (std::strncmp(f, "mm", 2) == 0) {
      slot = &out->minute;
    } else if (std::strncmp(f, "ss", 2) == 0) {
      slot = &out->second;
    }
    if (slot) {
      if (!read_digits(p, end, width, slot)) return false;
      f += width;
    } else {
      if (p == end || *p != *f) return false;
      ++p;
      ++f;
    }
  }
  if (p != end) return false;
  if (out->month != -1 && (out->month < 1 || out->month > 12)) return false;
  if (out->day != -1) {
    // Without a year, 29 February is possible.
    int max = out->month == -1 ? 31 : days_in_month(out->year == -1 ? 2000 : out->year, out->month);
    if (out->day < 1 || out->day > max) return false;
  }
  if (out->hour > 23 || out->minute > 59 || out->second > 59) return false;
  return true;
}

bool full_date_format(const std::string& format) {
  return format.find("dd") != std::string::npos && format.find("MM") != std::string::npos &&
         format.find("YYYY") != std::string::npos;
}

// `YYYY-MM-DD[T ]HH:MM:SS[.fff][Z|+00:00]` (UTC) to seconds since the epoch.
bool parse_datetime(const char* p, size_t n, double* out) {
  const char* end = p + n;
  int y, mo, d, h, mi, s;
  if (!read_digits(p, end, 4, &y) || p == end || *p++ != '-' || !read_digits(p, end, 2, &mo) ||
      p == end || *p++ != '-' || !read_digits(p, end, 2, &d) || p == end ||
      (*p != 'T' && *p != ' ') || !read_digits(++p, end, 2, &h) || p == end || *p++ != ':' ||
      !read_digits(p, end, 2, &mi) || p == end || *p++ != ':' || !read_digits(p, end, 2, &s)) {
    return false;
  }
  // The fraction as an integer count of its unit (up to nanoseconds), so
  // that the result is one correctly rounded division: the nearest double
  // to the time sent, as the CSV reader and the local copy (R/store-columns.R)
  // compute it from milliseconds.
  int64_t fraction = 0;
  double unit = 1;
  if (p != end && *p == '.') {
    ++p;
    const char* digits = p;
    while (p != end && *p >= '0' && *p <= '9') {
      if (p - digits < 9) {
        fraction = fraction * 10 + (*p - '0');
        unit *= 10;
      }
      ++p;
    }
    if (p == digits) return false;
  }
  std::string_view zone(p, static_cast<size_t>(end - p));
  if (!(zone.empty() || zone == "Z" || zone == "+00:00")) return false;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59) {
    return false;
  }
  const int64_t seconds = static_cast<int64_t>(days_from_civil(y, mo, d)) * 86400 + h * 3600 +
                          mi * 60 + s;
  *out = static_cast<double>(seconds * static_cast<int64_t>(unit) + fraction) / unit;
  return true;
}

}  // namespace

bool valid_text(const char* p, size_t n) {
  const unsigned char* u = reinterpret_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n;) {
    if (u[i] >= 0x20 && u[i] < 0x80) {
      ++i;
      continue;
    }
    size_t len = utf8_length(u + i, n - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string describe_text(const char* p, size_t n) {
  std::string out;
  const unsigned char* u = reinterpret_cast<const unsigned char*>(p);
  size_t i = 0;
  while (i < n && out.size() < kDescribeMax) {
    size_t len = utf8_length(u + i, n - i);
    if (len == 0) {
      static const char hex[] = "0123456789ABCDEF";
      out += "\\x";
      out += hex[u[i] >> 4];
      out += hex[u[i] & 0xF];
      ++i;
    } else {
      out.append(p + i, len);
      i += len;
    }
  }
  if (i < n) out += "...";
  return out;
}

std::string describe_json(const rapidjson::Value& v) {
  if (v.IsString()) return describe_text(v.GetString(), v.GetStringLength());
  if (v.IsNumber()) return number_text(v);
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsObject()) return "an object";
  if (v.IsArray()) return "an array";
  return "null";
}

bool parse_number_text(const char* p, size_t n, Number* out) {
  while (n > 0 && is_blank(*p)) {
    ++p;
    --n;
  }
  while (n > 0 && is_blank(p[n - 1])) --n;
  std::string text(p, n);
  if (!text.empty() && text[0] == '+') text.erase(0, 1);
  // JSON forbids leading zeros; devices and spreadsheets do not.
  size_t digits = !text.empty() && text[0] == '-' ? 1 : 0;
  while (text.size() > digits + 1 && text[digits] == '0' && text[digits + 1] >= '0' &&
         text[digits + 1] <= '9') {
    text.erase(digits, 1);
  }
  // Only a digit may start: this rejects NaN, Infinity and other literals.
  if (text.size() <= digits || text[digits] < '0' || text[digits] > '9') return false;
  rapidjson::Reader reader;
  rapidjson::MemoryStream stream(text.data(), text.size());
  NumberHandler handler(out);
  return !reader.Parse<rapidjson::kParseFullPrecisionFlag>(stream, handler).IsError();
}

bool Column::append_json_scalar(const rapidjson::Value& v) {
  if (v.IsNull()) {
    append_na();
  } else if (v.IsString()) {
    append_text(v.GetString(), v.GetStringLength());
  } else {
    return false;
  }
  return true;
}

void Column::append_json_as_text(const rapidjson::Value& v) {
  if (append_json_scalar(v)) return;
  if (v.IsNumber()) {
    std::string text = number_text(v);
    append_text(text.data(), text.size());
  } else {
    problem_json(expected(), v);
    append_na();
  }
}

const rapidjson::Value* json_member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

double json_number_or(const rapidjson::Value* v, double fallback) {
  if (!v) return fallback;
  if (v->IsNumber()) return v->GetDouble();
  Number x;
  if (v->IsString() && parse_number_text(v->GetString(), v->GetStringLength(), &x)) {
    return number_to_double(x);
  }
  return fallback;
}

// --- storage -----------------------------------------------------------------

namespace {

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
  bool is_na(size_t i) const { return length_[i] < 0; }
  std::string_view at(size_t i) const {
    return std::string_view(bytes_.data() + start_[i], static_cast<size_t>(length_[i]));
  }
  SEXP charsxp(size_t i) const {
    if (is_na(i)) return NA_STRING;
    return Rf_mkCharLenCE(bytes_.data() + start_[i], static_cast<int>(length_[i]), CE_UTF8);
  }

 private:
  std::string bytes_;
  std::vector<size_t> start_;
  std::vector<int64_t> length_;
};

size_t out_length(const std::vector<size_t>* keep, size_t n) { return keep ? keep->size() : n; }
size_t source_row(const std::vector<size_t>* keep, size_t i) { return keep ? (*keep)[i] : i; }

void set_class(Rcpp::RObject& x, std::initializer_list<const char*> classes) {
  Rcpp::CharacterVector cls(classes.size());
  size_t i = 0;
  for (const char* c : classes) cls[i++] = c;
  x.attr("class") = cls;
}

// --- character -----------------------------------------------------------------

// Text as sent. With a datetime_format (time, partial dates) the value must
// match it; a value that does not is NA and a problem, so a column never mixes
// formats.
class TextColumn : public Column {
 public:
  TextColumn(std::string name, Problems* problems, std::string format = "")
      : Column(std::move(name), problems), format_(std::move(format)) {}

  void append_json(const rapidjson::Value& v) override { append_json_as_text(v); }
  void append_text(const char* p, size_t n) override {
    if (n == 0) {
      append_na();
    } else if (!valid_text(p, n)) {
      problem_text("UTF-8 text", p, n);
      append_na();
    } else if (!format_.empty() && !matches(p, n)) {
      problem_text(expected(), p, n);
      append_na();
    } else {
      values_.push(p, n);
    }
  }
  void append_na() override { values_.push_na(); }
  void reserve(size_t n) override { values_.reserve(n); }
  size_t size() const override { return values_.size(); }
  bool text_at(size_t i, std::string_view* out) const override {
    if (values_.is_na(i)) return false;
    *out = values_.at(i);
    return true;
  }
  void finish(const std::vector<size_t>* keep, std::vector<std::string>* names,
              std::vector<Rcpp::RObject>* out) const override {
    size_t n = out_length(keep, size());
    Rcpp::CharacterVector x(n);
    for (size_t i = 0; i < n; ++i) SET_STRING_ELT(x, i, values_.charsxp(source_row(keep, i)));
    names->push_back(name());
    out->push_back(x);
  }

 private:
  std::string expected() const override {
    return format_.empty() ? "text" : "format " + format_;
  }
  bool matches(const char* p, size_t n) const {
    DateParts parts;
    return match_format(format_, p, n, &parts);
  }

  std::string format_;
  StringStore values_;
};

// --- numbers ---------------------------------------------------------------------

// Integers; the R vector is integer when every value fits int32, else double
// (exact up to 2^53). Non-integral values and values beyond 64 bits are
// problems.
class IntegerColumn : public Column {
 public:
  using Column::Column;

  void append_json(const rapidjson::Value& v) override {
    if (append_json_scalar(v)) return;
    if (!v.IsNumber() || !append_number(json_number(v))) {
      problem_json("integer", v);
      append_na();
    }
  }
  void append_text(const char* p, size_t n) override {
    if (n == 0) return append_na();
    Number x;
    if (!parse_number_text(p, n, &x) || !append_number(x)) {
      problem_text("integer", p, n);
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
  void finish(const std::vector<size_t>* keep, std::vector<std::string>* names,
              std::vector<Rcpp::RObject>* out) const override {
    size_t n = out_length(keep, size());
    bool fits = true;
    for (size_t i = 0; i < n && fits; ++i) {
      size_t r = source_row(keep, i);
      fits = na_[r] || (values_[r] > INT32_MIN && values_[r] <= INT32_MAX);
    }
    names->push_back(name());
    if (fits) {
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
  bool append_number(const Number& x) {
    int64_t v;
    if (!number_to_int64(x, &v)) return false;
    values_.push_back(v);
    na_.push_back(false);
    return true;
  }

  std::vector<int64_t> values_;
  std::vector<bool> na_;
};

// Doubles, optionally with an R class (Date, POSIXct) and a text parser.
class DoubleColumn : public Column {
 public:
  DoubleColumn(std::string name, Problems* problems) : Column(std::move(name), problems) {}

  void append_json(const rapidjson::Value& v) override {
    if (append_json_scalar(v)) return;
    if (v.IsNumber() && accepts_numbers()) {
      values_.push_back(v.GetDouble());
    } else {
      problem_json(expected(), v);
      append_na();
    }
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
    DateParts d;
    if (!match_format(format_, p, n, &d)) return false;
    *out = static_cast<double>(days_from_civil(d.year, d.month, d.day));
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
    return parse_datetime(p, n, out);
  }
  void decorate(Rcpp::RObject& x) const override {
    set_class(x, {"POSIXct", "POSIXt"});
    x.attr("tzone") = "UTC";
  }
};

// --- choices ---------------------------------------------------------------------

// radio / dropdown: integer codes into the levels (the mapped labels, first
// copy of a duplicated label wins).
class FactorColumn : public Column {
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

  void append_json(const rapidjson::Value& v) override { append_json_as_text(v); }
  void append_text(const char* p, size_t n) override {
    if (n == 0) return append_na();
    auto it = code_.find(std::string_view(p, n));
    if (it == code_.end()) {
      problem_text(expected(), p, n);
      append_na();
    } else {
      codes_.push_back(it->second);
    }
  }
  void append_na() override { codes_.push_back(NA_INTEGER); }
  void reserve(size_t n) override { codes_.reserve(n); }
  size_t size() const override { return codes_.size(); }
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

  std::vector<std::string> levels_;  // stable: code_ keys point into it
  std::unordered_map<std::string_view, int> code_;
  std::vector<int> codes_;
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
  void finish(const std::vector<size_t>* keep, std::vector<std::string>* names,
              std::vector<Rcpp::RObject>* out) const override {
    size_t n = out_length(keep, size());
    Rcpp::List x(n);
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
        SET_STRING_ELT(answers, static_cast<R_xlen_t>(k - from), elements_.charsxp(k));
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
      elements_.push(p, n);
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
};

// --- location --------------------------------------------------------------------

// Six columns from one object. Missing members (2019 exports have no UTM
// keys) and `""` members are NA; a blank location (`""`, null) is six NAs.
class LocationColumn : public Column {
 public:
  LocationColumn(const std::string& name, Problems* problems) : Column(name, problems) {
    parts_[0] = std::make_unique<DoubleColumn>("lat_" + name, problems);
    parts_[1] = std::make_unique<DoubleColumn>("long_" + name, problems);
    parts_[2] = std::make_unique<DoubleColumn>("accuracy_" + name, problems);
    parts_[3] = std::make_unique<DoubleColumn>("UTM_Northing_" + name, problems);
    parts_[4] = std::make_unique<DoubleColumn>("UTM_Easting_" + name, problems);
    parts_[5] = std::make_unique<TextColumn>("UTM_Zone_" + name, problems);
  }

  void append_json(const rapidjson::Value& v) override {
    if (!v.IsObject()) {
      if (!(v.IsNull() || (v.IsString() && v.GetStringLength() == 0))) {
        problem_json("location object", v);
      }
      return append_na();
    }
    static const std::array<const char*, 6> keys = {"latitude",     "longitude",   "accuracy",
                                                     "UTM_Northing", "UTM_Easting", "UTM_Zone"};
    std::array<const rapidjson::Value*, 6> slot{};
    for (const auto& m : v.GetObject()) {
      std::string_view key(m.name.GetString(), m.name.GetStringLength());
      for (size_t k = 0; k < keys.size(); ++k) {
        if (key == keys[k]) slot[k] = &m.value;
      }
    }
    for (size_t k = 0; k < parts_.size(); ++k) {
      if (slot[k]) {
        parts_[k]->append_json(*slot[k]);
      } else {
        parts_[k]->append_na();
      }
    }
  }
  void append_text(const char* p, size_t n) override {
    if (n > 0) problem_text("location object", p, n);
    append_na();
  }
  void append_na() override {
    for (auto& part : parts_) part->append_na();
  }
  void reserve(size_t n) override {
    for (auto& part : parts_) part->reserve(n);
  }
  size_t size() const override { return parts_[0]->size(); }
  size_t width() const override { return parts_.size(); }
  Column& part(size_t i) override { return *parts_.at(i); }
  void finish(const std::vector<size_t>* keep, std::vector<std::string>* names,
              std::vector<Rcpp::RObject>* out) const override {
    for (const auto& part : parts_) part->finish(keep, names, out);
  }

 private:
  std::array<std::unique_ptr<Column>, 6> parts_;
};

}  // namespace

// --- factory and table -----------------------------------------------------------

std::unique_ptr<Column> make_column(const ColumnSpec& spec, Problems* problems) {
  const std::string& t = spec.type;
  if (t == "integer" || t == "branch") return std::make_unique<IntegerColumn>(spec.name, problems);
  if (t == "decimal") return std::make_unique<DoubleColumn>(spec.name, problems);
  if (t == "datetime") return std::make_unique<DateTimeColumn>(spec.name, problems);
  if (t == "date" && full_date_format(spec.format)) {
    return std::make_unique<DateColumn>(spec.name, problems, spec.format);
  }
  if (t == "date" || t == "time") {
    return std::make_unique<TextColumn>(spec.name, problems, spec.format);
  }
  if (t == "radio" || t == "dropdown") {
    return std::make_unique<FactorColumn>(spec.name, problems, spec.levels);
  }
  if (t == "checkbox" || t == "searchsingle" || t == "searchmultiple") {
    return std::make_unique<ListColumn>(spec.name, problems);
  }
  if (t == "location") return std::make_unique<LocationColumn>(spec.name, problems);
  return std::make_unique<TextColumn>(spec.name, problems);
}

Table::Table(const std::vector<ColumnSpec>& specs) {
  columns_.reserve(specs.size());
  for (const ColumnSpec& spec : specs) columns_.push_back(make_column(spec, &problems_));
}

void Table::reserve(size_t n) {
  for (auto& column : columns_) column->reserve(n);
}

SEXP Table::finish(const std::string& key) const {
  size_t n = nrow();
  std::vector<size_t> keep;
  const Column* key_column = nullptr;
  for (const auto& column : columns_) {
    if (!key.empty() && column->name() == key) key_column = column.get();
  }
  if (key_column) {
    std::unordered_set<std::string_view> seen;
    for (size_t i = n; i-- > 0;) {
      std::string_view value;
      if (!key_column->text_at(i, &value) || seen.insert(value).second) keep.push_back(i);
    }
    std::reverse(keep.begin(), keep.end());
  }
  bool dedup = key_column && keep.size() < n;
  std::vector<size_t> new_row;
  if (dedup) {
    new_row.assign(n, 0);
    for (size_t i = 0; i < keep.size(); ++i) new_row[keep[i]] = i + 1;
  }
  std::vector<std::string> names;
  std::vector<Rcpp::RObject> values;
  for (const auto& column : columns_) column->finish(dedup ? &keep : nullptr, &names, &values);
  Rcpp::List columns(values.size());
  for (size_t i = 0; i < values.size(); ++i) columns[i] = values[i];
  columns.attr("names") = r_strings(names);
  return Rcpp::List::create(Rcpp::Named("columns") = columns,
                            Rcpp::Named("problems") =
                                problems_.to_data_frame(dedup ? &new_row : nullptr));
}

namespace {

SEXP list_element(SEXP list, const char* name) {
  SEXP names = Rf_getAttrib(list, R_NamesSymbol);
  if (TYPEOF(list) != VECSXP || TYPEOF(names) != STRSXP) return R_NilValue;
  for (R_xlen_t i = 0; i < Rf_xlength(list); ++i) {
    if (std::strcmp(CHAR(STRING_ELT(names, i)), name) == 0) return VECTOR_ELT(list, i);
  }
  return R_NilValue;
}

std::string string_at(SEXP x, R_xlen_t i) {
  SEXP s = STRING_ELT(x, i);
  if (s == NA_STRING) return std::string();
  // R refuses to translate "bytes"; they are taken as they are.
  return std::string(Rf_getCharCE(s) == CE_BYTES ? CHAR(s) : Rf_translateCharUTF8(s));
}

bool flag(SEXP options, const char* name) {
  SEXP x = list_element(options, name);
  if (TYPEOF(x) != LGLSXP || Rf_xlength(x) != 1 || LOGICAL(x)[0] == NA_LOGICAL) {
    throw Error("argument", std::string("`options$") + name + "` must be TRUE or FALSE.");
  }
  return LOGICAL(x)[0] != 0;
}

bool branch_mode(SEXP options) {
  SEXP mode = list_element(options, "mode");
  if (TYPEOF(mode) != STRSXP || Rf_xlength(mode) != 1) {
    throw Error("argument", "`options$mode` must be \"form\" or \"branch\".");
  }
  std::string m = string_at(mode, 0);
  if (m != "form" && m != "branch") {
    throw Error("argument", "`options$mode` must be \"form\" or \"branch\".");
  }
  return m == "branch";
}

SEXP spec_column(SEXP spec, const char* name, SEXPTYPE type) {
  SEXP x = list_element(spec, name);
  if (static_cast<SEXPTYPE>(TYPEOF(x)) != type) {
    throw Error("argument", std::string("The column spec has no valid `") + name + "` column.");
  }
  return x;
}

}  // namespace

std::vector<ColumnSpec> table_specs(SEXP spec, SEXP options) {
  bool branch = branch_mode(options);
  bool child = flag(options, "child");
  bool is_private = flag(options, "private");
  std::vector<ColumnSpec> out;
  auto add = [&out](const char* name, const char* type) { out.push_back({name, type, "", {}}); };
  if (branch) {
    add("ec5_branch_owner_uuid", "text");
    add("ec5_branch_uuid", "text");
  } else {
    add("ec5_uuid", "text");
    if (child) add("ec5_parent_uuid", "text");
  }
  add("created_at", "datetime");
  add("uploaded_at", "datetime");
  if (is_private) add("created_by", "text");
  add("title", "text");

  if (TYPEOF(spec) != VECSXP) throw Error("argument", "The column spec must be a data frame.");
  SEXP name = spec_column(spec, "name", STRSXP);
  SEXP type = spec_column(spec, "type", STRSXP);
  SEXP format = spec_column(spec, "format", STRSXP);
  SEXP levels = spec_column(spec, "levels", VECSXP);
  R_xlen_t n = Rf_xlength(name);
  if (Rf_xlength(type) != n || Rf_xlength(format) != n || Rf_xlength(levels) != n) {
    throw Error("argument", "The columns of the column spec differ in length.");
  }
  for (R_xlen_t i = 0; i < n; ++i) {
    ColumnSpec c{string_at(name, i), string_at(type, i), string_at(format, i), {}};
    SEXP lv = VECTOR_ELT(levels, i);
    if (TYPEOF(lv) == STRSXP) {
      for (R_xlen_t k = 0; k < Rf_xlength(lv); ++k) c.levels.push_back(string_at(lv, k));
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::string key_column(SEXP options) {
  return branch_mode(options) ? "ec5_branch_uuid" : "ec5_uuid";
}

}  // namespace ec5

// Types a table given as text, one character vector per output column
// (system columns, then the questions with each location as its six
// columns): the path a CSV export takes, through the same builders as JSON.
// [[Rcpp::export(rng = false)]]
SEXP columns_from_text_cpp(SEXP spec, SEXP options, SEXP cells) {
  EC5_BEGIN
  ec5::Table table(ec5::table_specs(spec, options));
  std::vector<ec5::Column*> parts;
  for (auto& column : table.columns()) {
    for (size_t i = 0; i < column->width(); ++i) parts.push_back(&column->part(i));
  }
  if (TYPEOF(cells) != VECSXP || static_cast<size_t>(Rf_xlength(cells)) != parts.size()) {
    throw ec5::Error("argument", "`cells` must be a list of " + std::to_string(parts.size()) +
                                     " character vectors, one per column.");
  }
  R_xlen_t n = parts.empty() ? 0 : Rf_xlength(VECTOR_ELT(cells, 0));
  for (size_t k = 0; k < parts.size(); ++k) {
    SEXP column = VECTOR_ELT(cells, k);
    if (TYPEOF(column) != STRSXP || Rf_xlength(column) != n) {
      throw ec5::Error("argument", "Every element of `cells` must be a character vector of the same length.");
    }
  }
  table.reserve(static_cast<size_t>(n));
  for (R_xlen_t row = 0; row < n; ++row) {
    for (size_t k = 0; k < parts.size(); ++k) {
      SEXP s = STRING_ELT(VECTOR_ELT(cells, k), row);
      if (s == NA_STRING) {
        parts[k]->append_na();
        continue;
      }
      const char* p = Rf_getCharCE(s) == CE_BYTES ? CHAR(s) : Rf_translateCharUTF8(s);
      parts[k]->append_text(p, std::strlen(p));
    }
  }
  return table.finish(ec5::key_column(options));
  EC5_END
}
