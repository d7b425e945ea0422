// The values library: the text forms of Epicollect5 values, read and written
// by one set of functions, as vroom's DateTimeParser serves both conversion
// and guessing. The column builders (column_*.cpp) convert with it, CSV type
// inference (csv_columns.cpp) guesses with it and the CSV writer
// (csv_write.cpp) renders with it: a column that inference calls a date is
// converted by the same parser, and a value read is written back as the same
// bytes.
//
// The server renders dates with PHP date() in the question's
// `datetime_format`, timestamps as ISO 8601 with milliseconds, and numbers
// with PHP's float-to-string conversion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "json.h"

namespace ec5 {

// --- characters -----------------------------------------------------------------

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
// Space, tab, CR or LF: JSON's whitespace.
inline bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// --- text (UTF-8) ---------------------------------------------------------------

// The byte offset of the first byte that is not part of valid UTF-8 (no
// overlong forms, no surrogates, nothing beyond U+10FFFF), or `text.size()`
// when the text is valid. NUL is valid UTF-8.
std::size_t invalid_utf8_offset(std::string_view text);

// True if `p` holds valid UTF-8 without NUL bytes (R strings cannot hold NUL).
bool valid_text(const char* p, std::size_t n);

// Writes code point `cp` (at most U+10FFFF) as UTF-8 at `q`, which has room
// for 4 bytes; returns the end. Inline: the JSON reader (json_sax.h) calls it
// for every `\u` escape.
inline char* put_utf8(char* q, unsigned long cp) {
  if (cp < 0x80) {
    *q++ = static_cast<char>(cp);
  } else if (cp < 0x800) {
    *q++ = static_cast<char>(0xC0 | (cp >> 6));
    *q++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *q++ = static_cast<char>(0xE0 | (cp >> 12));
    *q++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *q++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *q++ = static_cast<char>(0xF0 | (cp >> 18));
    *q++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *q++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *q++ = static_cast<char>(0x80 | (cp & 0x3F));
  }
  return q;
}

// Short printable rendering of a value for the `actual` field of a problem:
// invalid bytes and NUL as `\xNN`, cut after 80 bytes.
std::string describe_text(const char* p, std::size_t n);
std::string describe_json(const rapidjson::Value& v);

// HTML entities, which the server keeps in question texts and possible
// answers, and so in the mapped labels of choice answers (API-NOTES.md §4.2):
// `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&nbsp;` and numeric
// references (`&#39;`, `&#x27;`) become their characters, in one pass
// (`&amp;lt;` becomes `&lt;`); anything else, a bare `&` among it, is kept.
// Free-text answers are stored as typed and are never decoded.
void decode_entities(std::string_view text, std::string& out);
std::string decode_entities(std::string_view text);
// Whether decode_entities() could change the text (it holds a `&`).
inline bool may_hold_entities(std::string_view text) {
  return text.find('&') != std::string_view::npos;
}

// A readme question's text as plain text: the readme is HTML with its
// markup stored as entities (`&lt;p&gt;Read this&lt;/p&gt;`). Tags are
// removed, a line break or the end of a paragraph, heading, list item or
// division becomes a newline, entities inside the text are decoded and
// blanks at either end are trimmed.
std::string html_to_text(std::string_view stored);

// --- numbers ------------------------------------------------------------------------

// A JSON number or numeric text, kept exactly as parsed.
struct Number {
  enum Kind { kInt, kUint, kDouble } kind = kInt;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double d = 0;
};

// Parses numeric cell text with JSON number rules (surrounding ASCII blanks,
// a leading '+' and leading zeros allowed). Returns false when the text is
// not a finite number.
bool parse_number_text(const char* p, std::size_t n, Number* out);
Number json_number(const rapidjson::Value& v);
// A JSON number as text: integers as digits, others as RapidJSON writes them.
std::string number_text(const rapidjson::Value& v);
// The number as an int64 when it is integral and in range.
bool number_to_int64(const Number& x, std::int64_t* out);
double number_to_double(const Number& x);
// A number given as a JSON number or as numeric text; `fallback` otherwise.
double json_number_or(const rapidjson::Value* v, double fallback);

// PHP's `(string)$float` with the default `precision` of 14 (what fputcsv
// writes for a float): `34.6`, `0.0001`, `1.0E-5`, `1.0E+15`.
void format_php_float(double x, std::string& out);
// A whole number as integer digits (what fputcsv writes for a PHP int);
// beyond 64 bits the server's saturated value (PHP casts with `(int)`), so
// 2^63 is written `9223372036854775807`, never `9.2233720368548E+18`.
void format_whole(double x, std::string& out);

// Whether the value a text parses to is written back as exactly that text:
// `12` and `-3` are canonical integers, `007`, `+3` and `1e3` are not;
// `34.6` is a canonical decimal, `1.50` is not.
bool is_canonical_integer(std::string_view text);
bool is_canonical_decimal(std::string_view text);

// --- calendar -------------------------------------------------------------------------

// Days since 1970-01-01 of a proleptic Gregorian date, and back
// (H. Hinnant's days_from_civil and civil_from_days).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d);
void civil_from_days(std::int64_t days, std::int64_t& y, unsigned& m, unsigned& d);

// --- datetime_format ------------------------------------------------------------------

// A date/time value matched against an Epicollect5 `datetime_format` (tokens
// dd, MM, YYYY, HH, hh, mm, ss, two digits each but the year; any other
// character must match itself). Components the format lacks stay -1.
struct DateParts {
  int year = -1, month = -1, day = -1, hour = -1, minute = -1, second = -1;
};

// Exact matching: `1/9/21` does not match `dd/MM/YYYY`, and neither does
// 31/02/2021; without a year, 29 February matches.
bool match_format(std::string_view format, std::string_view text, DateParts* out);
bool matches_format(std::string_view format, std::string_view text);

// True when `format` has a day, a month and a year, i.e. its values can
// become R Dates.
bool is_full_date_format(std::string_view format);

// A date in a full date format as days since the epoch, and back.
bool parse_date(std::string_view format, std::string_view text, std::int64_t* days);
void format_date(std::int64_t days, std::string_view format, std::string& out);

// --- timestamps -----------------------------------------------------------------------

// `YYYY-MM-DD[T ]HH:MM:SS[.fff][Z|+00:00]` (UTC) as seconds since the epoch.
bool parse_timestamp(std::string_view text, double* seconds);
// Milliseconds since the epoch as the server writes them:
// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
void format_timestamp(std::int64_t ms, std::string& out);

}  // namespace ec5
