// The text forms of values in an Epicollect5 CSV export, in both directions:
// the server renders dates with PHP date(), timestamps as ISO 8601 with
// milliseconds, and numbers with PHP's float-to-string conversion. Reading
// and writing through the same functions is what lets a raw export be written
// back byte for byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ec5 {
namespace csv {

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d);
void civil_from_days(std::int64_t days, std::int64_t& y, unsigned& m, unsigned& d);

// A date laid out as an Epicollect5 `datetime_format` (tokens `dd`, `MM`,
// `YYYY`; every other character literal). Parsing is exact: `1/9/21` does
// not match `dd/MM/YYYY`, and neither does 31/02/2021.
bool parse_date(std::string_view text, std::string_view format, std::int64_t& days);
void format_date(std::int64_t days, std::string_view format, std::string& out);

// True when `format` has a day, a month and a year, i.e. its values can
// become R Dates.
bool is_full_date_format(std::string_view format);

// `YYYY-MM-DDTHH:MM:SS.mmmZ` (milliseconds optional when reading) as
// milliseconds since the epoch, so that no floating point is involved.
bool parse_timestamp(std::string_view text, std::int64_t& ms);
void format_timestamp(std::int64_t ms, std::string& out);

// A time laid out as `HH:mm:ss`, `HH:mm` or `mm:ss` (two digits each).
bool parse_time(std::string_view text, std::string_view format);

// Numbers as a person or a server writes them: an optional minus, digits
// with an optional fraction and exponent. No `+`, no `inf`, no spaces.
bool parse_number(std::string_view text, double& x);

// PHP's `(string)$float` with the default `precision` of 14 (what fputcsv
// writes for a float): `34.6`, `0.0001`, `1.0E-5`, `1.0E+15`.
void format_php_float(double x, std::string& out);

// A whole number as integer digits (what fputcsv writes for a PHP int).
void format_whole(double x, std::string& out);

// Whether the value a text parses to is written back as exactly that text:
// `12` and `-3` are canonical integers, `007`, `+3` and `1e3` are not;
// `34.6` is a canonical decimal, `1.50` is not.
bool is_canonical_integer(std::string_view text);
bool is_canonical_decimal(std::string_view text);

}  // namespace csv
}  // namespace ec5
