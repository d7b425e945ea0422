#include "values.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ec5 {

namespace {

// A loop, not compare(): the tokens are a few bytes, and a call to memcmp()
// per token of a format cost 5 % of reading a page of dates and times.
bool starts_with(std::string_view text, std::size_t pos, std::string_view token) {
  if (pos > text.size() || text.size() - pos < token.size()) return false;
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (text[pos + i] != token[i]) return false;
  }
  return true;
}

// Reads exactly `width` digits at `text[pos]`.
bool read_digits(std::string_view text, std::size_t pos, std::size_t width, unsigned* out) {
  if (pos + width > text.size()) return false;
  unsigned v = 0;
  for (std::size_t k = pos; k < pos + width; ++k) {
    if (!is_digit(text[k])) return false;
    v = v * 10 + static_cast<unsigned>(text[k] - '0');
  }
  *out = v;
  return true;
}

void append_padded(std::string& out, std::int64_t value, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*lld", width, static_cast<long long>(value));
  out += buf;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bool leap_year(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
  static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

// Length of the UTF-8 sequence starting at p[0] (1-4), 0 if invalid.
std::size_t utf8_length(const unsigned char* p, std::size_t n) {
  const unsigned char c = p[0];
  if (c < 0x80) return 1;
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no UTF-16 surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;  // nothing beyond U+10FFFF
  } else {
    return 0;
  }
  if (len > n || p[1] < lo || p[1] > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if (p[k] < 0x80 || p[k] > 0xBF) return 0;
  }
  return len;
}

const std::size_t kDescribeMax = 80;

// Collects the single number of a JSON text; anything else fails the parse.
struct NumberHandler : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, NumberHandler> {
  Number* out;
  explicit NumberHandler(Number* o) : out(o) {}
  bool Default() { return false; }
  bool Int(int i) { return Int64(i); }
  bool Uint(unsigned u) { return Int64(u); }
  bool Int64(std::int64_t i) {
    out->kind = Number::kInt;
    out->i = i;
    return true;
  }
  bool Uint64(std::uint64_t u) {
    // RapidJSON reports every non-negative integer beyond 32 bits here.
    if (u <= static_cast<std::uint64_t>(INT64_MAX)) return Int64(static_cast<std::int64_t>(u));
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

// 2^63 as a double: the first value that no longer fits int64.
const double kInt64Limit = 9223372036854775808.0;

}  // namespace

// --- text (UTF-8) ---------------------------------------------------------------

namespace {

// ASCII is checked eight bytes at a time: most text is ASCII.
const std::uint64_t kHighBits = 0x8080808080808080ULL;
const std::uint64_t kOnes = 0x0101010101010101ULL;

std::uint64_t load8(const unsigned char* p) {
  std::uint64_t x;
  std::memcpy(&x, p, sizeof x);
  return x;
}

}  // namespace

std::size_t invalid_utf8_offset(std::string_view text) {
  const auto* u = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    if (i + 8 <= n && (load8(u + i) & kHighBits) == 0) {
      i += 8;
      continue;
    }
    if (u[i] < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = utf8_length(u + i, n - i);
    if (len == 0) return i;
    i += len;
  }
  return n;
}

bool valid_text(const char* p, std::size_t n) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n;) {
    if (i + 8 <= n) {
      // Eight bytes in 0x20..0x7F: no high bit, and no byte below 0x20
      // (subtracting 0x20 from each byte borrows into its high bit).
      const std::uint64_t x = load8(u + i);
      if (((x | (x - 0x20 * kOnes)) & kHighBits) == 0) {
        i += 8;
        continue;
      }
    }
    if (u[i] >= 0x20 && u[i] < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = utf8_length(u + i, n - i);
    if (len == 0 || u[i] == 0) return false;
    i += len;
  }
  return true;
}

std::string describe_text(const char* p, std::size_t n) {
  std::string out;
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  std::size_t i = 0;
  while (i < n && out.size() < kDescribeMax) {
    const std::size_t len = u[i] == 0 ? 0 : utf8_length(u + i, n - i);
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

namespace {

// The UTF-8 bytes of code point `c`; false for one no text may hold (NUL,
// surrogates, beyond U+10FFFF).
bool append_code_point(unsigned long c, std::string& out) {
  if (c == 0 || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) return false;
  char bytes[4];
  out.append(bytes, static_cast<std::size_t>(put_utf8(bytes, c) - bytes));
  return true;
}

// `&#N;` or `&#xH;` (`ref` is what lies between `&#` and `;`).
bool append_numeric_reference(std::string_view ref, std::string& out) {
  const bool hex = !ref.empty() && (ref[0] == 'x' || ref[0] == 'X');
  if (hex) ref.remove_prefix(1);
  if (ref.empty() || ref.size() > 7) return false;
  unsigned long c = 0;
  for (char ch : ref) {
    int digit = -1;
    if (is_digit(ch)) {
      digit = ch - '0';
    } else if (hex && ch >= 'a' && ch <= 'f') {
      digit = ch - 'a' + 10;
    } else if (hex && ch >= 'A' && ch <= 'F') {
      digit = ch - 'A' + 10;
    }
    if (digit < 0) return false;
    c = c * (hex ? 16 : 10) + static_cast<unsigned long>(digit);
  }
  return append_code_point(c, out);
}

struct NamedEntity {
  std::string_view name;
  const char* text;
};
constexpr NamedEntity kNamedEntities[] = {
    {"amp", "&"},  {"lt", "<"},   {"gt", ">"},
    {"quot", "\""}, {"apos", "'"}, {"nbsp", "\xC2\xA0"},
};

// Decodes the entity at `text[0] == '&'`; returns the bytes consumed, 0
// when there is none.
std::size_t decode_entity(std::string_view text, std::string& out) {
  const std::size_t semi = text.find(';', 1);
  if (semi == std::string_view::npos || semi > 10) return 0;
  const std::string_view ref = text.substr(1, semi - 1);
  if (!ref.empty() && ref[0] == '#') return append_numeric_reference(ref.substr(1), out) ? semi + 1 : 0;
  for (const NamedEntity& e : kNamedEntities) {
    if (ref == e.name) {
      out += e.text;
      return semi + 1;
    }
  }
  return 0;
}

bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Tags whose end is the end of a line of text.
bool ends_line(std::string_view tag) {
  std::string name;
  for (char c : tag) {
    if (c == '/' && name.empty()) continue;
    if (!is_ascii_letter(c) && !(is_digit(c) && !name.empty())) break;
    name += static_cast<char>(c | 0x20);
  }
  static const char* const kLineTags[] = {"br", "p", "div", "li", "h1", "h2", "h3",
                                          "h4", "h5", "h6", "tr", "ul", "ol"};
  for (const char* t : kLineTags) {
    if (name == t) return name == "br" || tag.find('/') == 0;
  }
  return false;
}

}  // namespace

void decode_entities(std::string_view text, std::string& out) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t amp = text.find('&', i);
    if (amp == std::string_view::npos) {
      out.append(text.substr(i));
      return;
    }
    out.append(text.substr(i, amp - i));
    const std::size_t used = decode_entity(text.substr(amp), out);
    if (used == 0) out += '&';
    i = amp + (used == 0 ? 1 : used);
  }
}

std::string decode_entities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  decode_entities(text, out);
  return out;
}

std::string html_to_text(std::string_view stored) {
  const std::string html = decode_entities(stored);
  std::string text;
  for (std::size_t i = 0; i < html.size();) {
    const char next = i + 1 < html.size() ? html[i + 1] : '\0';
    const bool tag = html[i] == '<' && (is_ascii_letter(next) || next == '/' || next == '!');
    const std::size_t close = tag ? html.find('>', i) : std::string::npos;
    if (close == std::string::npos) {
      text += html[i++];
      continue;
    }
    if (ends_line(std::string_view(html).substr(i + 1, close - i - 1))) text += '\n';
    i = close + 1;
  }
  std::string out = decode_entities(text);
  const char* blanks = " \t\r\n";
  const std::size_t first = out.find_first_not_of(blanks);
  if (first == std::string::npos) return std::string();
  return out.substr(first, out.find_last_not_of(blanks) - first + 1);
}

// --- numbers ------------------------------------------------------------------------

bool parse_number_text(const char* p, std::size_t n, Number* out) {
  while (n > 0 && is_blank(*p)) {
    ++p;
    --n;
  }
  while (n > 0 && is_blank(p[n - 1])) --n;
  std::string text(p, n);
  if (!text.empty() && text[0] == '+') text.erase(0, 1);
  // JSON forbids leading zeros; devices and spreadsheets do not.
  const std::size_t digits = !text.empty() && text[0] == '-' ? 1 : 0;
  while (text.size() > digits + 1 && text[digits] == '0' && is_digit(text[digits + 1])) {
    text.erase(digits, 1);
  }
  // Only a digit may start: this rejects NaN, Infinity and other literals.
  if (text.size() <= digits || !is_digit(text[digits])) return false;
  rapidjson::Reader reader;
  rapidjson::MemoryStream stream(text.data(), text.size());
  NumberHandler handler(out);
  return !reader.Parse<rapidjson::kParseFullPrecisionFlag>(stream, handler).IsError();
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

std::string number_text(const rapidjson::Value& v) {
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.Double(v.GetDouble());
  return std::string(buffer.GetString(), buffer.GetSize());
}

bool number_to_int64(const Number& x, std::int64_t* out) {
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
      *out = static_cast<std::int64_t>(x.d);
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
  return NAN;
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
  if (x >= kInt64Limit) {
    out += "9223372036854775807";
    return;
  }
  if (x <= -kInt64Limit) {
    out += "-9223372036854775808";
    return;
  }
  char buf[400];
  std::snprintf(buf, sizeof buf, "%.0f", x == 0 ? 0.0 : x);
  out += buf;
}

bool is_canonical_integer(std::string_view text) {
  const std::size_t i = !text.empty() && text[0] == '-' ? 1 : 0;
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
  Number n;
  if (!parse_number_text(text.data(), text.size(), &n)) return false;
  const double x = number_to_double(n);
  // A negative zero would come back from the column builders as 0.
  if (!std::isfinite(x) || (x == 0 && std::signbit(x))) return false;
  std::string back;
  format_php_float(x, back);
  return back == text;
}

// --- calendar -------------------------------------------------------------------------

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

// --- datetime_format ------------------------------------------------------------------

bool match_format(std::string_view format, std::string_view text, DateParts* out) {
  std::size_t pos = 0;
  for (std::size_t f = 0; f < format.size();) {
    int* slot = nullptr;
    std::size_t width = 2;
    if (starts_with(format, f, "YYYY")) {
      slot = &out->year;
      width = 4;
    } else if (starts_with(format, f, "dd")) {
      slot = &out->day;
    } else if (starts_with(format, f, "MM")) {
      slot = &out->month;
    } else if (starts_with(format, f, "HH") || starts_with(format, f, "hh")) {
      slot = &out->hour;
    } else if (starts_with(format, f, "mm")) {
      slot = &out->minute;
    } else if (starts_with(format, f, "ss")) {
      slot = &out->second;
    }
    if (slot) {
      unsigned v;
      if (!read_digits(text, pos, width, &v)) return false;
      *slot = static_cast<int>(v);
      pos += width;
      f += width;
    } else {
      if (pos >= text.size() || text[pos] != format[f]) return false;
      ++pos;
      ++f;
    }
  }
  if (pos != text.size()) return false;
  if (out->month != -1 && (out->month < 1 || out->month > 12)) return false;
  if (out->day != -1) {
    // Without a year, 29 February is possible.
    const unsigned max =
        out->month == -1 ? 31
                         : days_in_month(out->year == -1 ? 2000 : out->year,
                                         static_cast<unsigned>(out->month));
    if (out->day < 1 || static_cast<unsigned>(out->day) > max) return false;
  }
  return out->hour <= 23 && out->minute <= 59 && out->second <= 59;
}

bool matches_format(std::string_view format, std::string_view text) {
  DateParts parts;
  return match_format(format, text, &parts);
}

bool is_full_date_format(std::string_view format) {
  return format.find("dd") != std::string_view::npos &&
         format.find("MM") != std::string_view::npos &&
         format.find("YYYY") != std::string_view::npos;
}

bool parse_date(std::string_view format, std::string_view text, std::int64_t* days) {
  DateParts d;
  if (!match_format(format, text, &d) || d.year == -1 || d.month == -1 || d.day == -1) {
    return false;
  }
  *days = days_from_civil(d.year, static_cast<unsigned>(d.month), static_cast<unsigned>(d.day));
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

// --- timestamps -----------------------------------------------------------------------

bool parse_timestamp(std::string_view text, double* seconds) {
  unsigned y, mo, d, h, mi, s;
  if (!read_digits(text, 0, 4, &y) || text.size() < 19 || text[4] != '-' ||
      !read_digits(text, 5, 2, &mo) || text[7] != '-' || !read_digits(text, 8, 2, &d) ||
      (text[10] != 'T' && text[10] != ' ') || !read_digits(text, 11, 2, &h) ||
      text[13] != ':' || !read_digits(text, 14, 2, &mi) || text[16] != ':' ||
      !read_digits(text, 17, 2, &s)) {
    return false;
  }
  std::size_t pos = 19;
  // The fraction as an integer count of its unit (up to nanoseconds), so
  // that the result is one correctly rounded division: the nearest double
  // to the time sent, which the local copy (R/store-columns.R) computes
  // again from milliseconds.
  std::int64_t fraction = 0;
  double unit = 1;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const std::size_t digits = pos;
    for (; pos < text.size() && is_digit(text[pos]); ++pos) {
      if (pos - digits < 9) {
        fraction = fraction * 10 + (text[pos] - '0');
        unit *= 10;
      }
    }
    if (pos == digits) return false;
  }
  const std::string_view zone = text.substr(pos);
  if (!(zone.empty() || zone == "Z" || zone == "+00:00")) return false;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59) {
    return false;
  }
  const std::int64_t whole = static_cast<std::int64_t>(days_from_civil(y, mo, d)) * 86400 +
                            h * 3600 + mi * 60 + s;
  *seconds = static_cast<double>(whole * static_cast<std::int64_t>(unit) + fraction) / unit;
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

}  // namespace ec5
