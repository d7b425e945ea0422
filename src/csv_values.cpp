#include "csv_values.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace ec5 {
namespace csv {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at `text[pos]`.
bool read_digits(std::string_view text, std::size_t pos, std::size_t n, unsigned& value) {
  if (pos + n > text.size()) return false;
  value = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(text[i])) return false;
    value = value * 10 + static_cast<unsigned>(text[i] - '0');
  }
  return true;
}

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
  static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

void append_padded(std::string& out, std::int64_t value, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*lld", width, static_cast<long long>(value));
  out += buf;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bool starts_with(std::string_view text, std::size_t pos, std::string_view token) {
  return text.compare(pos, token.size(), token) == 0;
}

}  // namespace

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t days, std::int64_t& y, unsigned& m, unsigned& d) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

bool parse_date(std::string_view text, std::string_view format, std::int64_t& days) {
  unsigned y = 0, m = 0, d = 0;
  std::size_t pos = 0;
  for (std::size_t i = 0; i < format.size();) {
    bool ok;
    if (starts_with(format, i, "YYYY")) {
      ok = read_digits(text, pos, 4, y);
      i += 4;
      pos += 4;
    } else if (starts_with(format, i, "MM")) {
      ok = read_digits(text, pos, 2, m);
      i += 2;
      pos += 2;
    } else if (starts_with(format, i, "dd")) {
      ok = read_digits(text, pos, 2, d);
      i += 2;
      pos += 2;
    } else {
      ok = pos < text.size() && text[pos] == format[i];
      ++i;
      ++pos;
    }
    if (!ok) return false;
  }
  if (pos != text.size() || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
    return false;
  }
  days = days_from_civil(y, m, d);
  return true;
}

void format_date(std::int64_t days, std::string_view format, std::string& out) {
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  for (std::size_t i = 0; i < format.size();) {
    if (starts_with(format, i, "YYYY")) {
      append_padded(out, y, 4);
      i += 4;
    } else if (starts_with(format, i, "MM")) {
      append_padded(out, m, 2);
      i += 2;
    } else if (starts_with(format, i, "dd")) {
      append_padded(out, d, 2);
      i += 2;
    } else {
      out += format[i++];
    }
  }
}

bool is_full_date_format(std::string_view format) {
  return format.find("dd") != std::string_view::npos &&
         format.find("MM") != std::string_view::npos &&
         format.find("YYYY") != std::string_view::npos;
}

bool parse_timestamp(std::string_view text, std::int64_t& ms) {
  std::int64_t days;
  if (text.size() < 20 || !parse_date(text.substr(0, 10), "YYYY-MM-dd", days) ||
      text[10] != 'T' || text[13] != ':' || text[16] != ':' || text.back() != 'Z') {
    return false;
  }
  unsigned h, mi, s, frac = 0;
  if (!read_digits(text, 11, 2, h) || !read_digits(text, 14, 2, mi) ||
      !read_digits(text, 17, 2, s) || h > 23 || mi > 59 || s > 59) {
    return false;
  }
  if (text.size() == 24) {
    if (text[19] != '.' || !read_digits(text, 20, 3, frac)) return false;
  } else if (text.size() != 20) {
    return false;
  }
  ms = ((days * 24 + h) * 60 + mi) * 60000 + s * 1000 + frac;
  return true;
}

void format_timestamp(std::int64_t ms, std::string& out) {
  const std::int64_t days = floor_div(ms, 86400000);
  std::int64_t rest = ms - days * 86400000;
  format_date(days, "YYYY-MM-dd", out);
  out += 'T';
  append_padded(out, rest / 3600000, 2);
  rest %= 3600000;
  out += ':';
  append_padded(out, rest / 60000, 2);
  rest %= 60000;
  out += ':';
  append_padded(out, rest / 1000, 2);
  out += '.';
  append_padded(out, rest % 1000, 3);
  out += 'Z';
}

bool parse_time(std::string_view text, std::string_view format) {
  std::size_t pos = 0;
  for (std::size_t i = 0; i < format.size();) {
    unsigned v;
    if (starts_with(format, i, "HH") || starts_with(format, i, "hh")) {
      if (!read_digits(text, pos, 2, v) || v > 23) return false;
    } else if (starts_with(format, i, "mm") || starts_with(format, i, "ss")) {
      if (!read_digits(text, pos, 2, v) || v > 59) return false;
    } else {
      if (pos >= text.size() || text[pos] != format[i]) return false;
      ++i;
      ++pos;
      continue;
    }
    i += 2;
    pos += 2;
  }
  return pos == text.size();
}

bool parse_number(std::string_view text, double& x) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  if (i < n && text[i] == '-') ++i;
  std::size_t digits = 0;
  for (; i < n && is_digit(text[i]); ++i) ++digits;
  if (i < n && text[i] == '.') {
    for (++i; i < n && is_digit(text[i]); ++i) ++digits;
  }
  if (digits == 0) return false;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
    std::size_t exponent = 0;
    for (; i < n && is_digit(text[i]); ++i) ++exponent;
    if (exponent == 0) return false;
  }
  if (i != n) return false;
  // strtod needs a terminated string; R keeps LC_NUMERIC at "C".
  const std::string copy(text);
  char* end = nullptr;
  x = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size() && std::isfinite(x);
}

void format_php_float(double x, std::string& out) {
  if (std::isnan(x)) {
    out += "NAN";
    return;
  }
  if (std::isinf(x)) {
    out += x < 0 ? "-INF" : "INF";
    return;
  }
  // 14 significant digits, correctly rounded, as zend_dtoa(mode 2) gives.
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.13e", x);
  const char* p = buf;
  if (*p == '-') {
    out += '-';
    ++p;
  }
  std::string digits(1, *p++);
  for (; *p && *p != 'e' && *p != 'E'; ++p) {
    if (is_digit(*p)) digits += *p;
  }
  const int decpt = std::atoi(p + 1) + 1;
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  if (digits == "0") {
    out += '0';
    return;
  }
  // php_gcvt: exponential when the point is more than 3 places left of the
  // first digit or beyond the precision, with at least one fraction digit.
  if (decpt < 0 ? decpt < -3 : decpt > 14) {
    const int exponent = decpt - 1;
    out += digits[0];
    out += '.';
    out += digits.size() > 1 ? digits.substr(1) : "0";
    out += exponent < 0 ? "E-" : "E+";
    out += std::to_string(std::abs(exponent));
  } else if (decpt <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-decpt), '0');
    out += digits;
  } else {
    const auto point = static_cast<std::size_t>(decpt);
    if (digits.size() <= point) {
      out += digits;
      out.append(point - digits.size(), '0');
    } else {
      out.append(digits, 0, point);
      out += '.';
      out.append(digits, point, std::string::npos);
    }
  }
}

void format_whole(double x, std::string& out) {
  char buf[400];
  std::snprintf(buf, sizeof buf, "%.0f", x == 0 ? 0.0 : x);
  out += buf;
}

bool is_canonical_integer(std::string_view text) {
  std::size_t i = text.size() && text[0] == '-' ? 1 : 0;
  const std::size_t digits = text.size() - i;
  // Up to 15 digits, so that the value is exact as a double.
  if (digits == 0 || digits > 15) return false;
  for (std::size_t k = i; k < text.size(); ++k) {
    if (!is_digit(text[k])) return false;
  }
  if (text[i] == '0' && digits > 1) return false;
  return text != "-0";
}

bool is_canonical_decimal(std::string_view text) {
  double x;
  // A negative zero would come back from the column builders as 0.
  if (!parse_number(text, x) || (x == 0 && std::signbit(x))) return false;
  std::string back;
  format_php_float(x, back);
  return back == text;
}

}  // namespace csv
}  // namespace ec5
