// Epicollect5 CSV exports as PHP's fputcsv writes them (League\Csv on the
// server): comma, `"` enclosure, `\` escape, LF line ends. A field is quoted
// only when it holds a space, comma, quote, backslash, tab, CR or LF; inside
// quotes a `"` is doubled unless a backslash precedes it.
//
// The reader accepts what editors make of such files (CRLF, no final
// newline, RFC quoting) and records every departure from the server's form in
// a Layout, so that a re-saved file can be told from a raw one.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ec5 {
namespace csv {

// A count of one kind of departure and the file line of its first instance.
struct Tally {
  std::size_t count = 0;
  std::size_t first_line = 0;
  void add(std::size_t line) {
    if (count++ == 0) first_line = line;
  }
};

struct Layout {
  bool bom = false;
  bool final_newline = false;
  Tally crlf;             // records ended by CR LF
  Tally lone_cr;          // records ended by a lone CR
  Tally blank_lines;      // empty lines between records (skipped)
  Tally unquoted;         // fields fputcsv would have quoted
  Tally overquoted;       // quoted fields fputcsv would have left bare
  Tally escaping;         // quoted fields escaped otherwise than fputcsv does
  Tally after_quote;      // text after a closing quote
};

// A field of the last record: bytes of the file, or of the record's own
// buffer when quoting had to be undone.
struct Field {
  bool decoded = false;
  std::size_t offset = 0, size = 0;
};

// Splits a whole file (already checked to be UTF-8) into records.
class Reader {
 public:
  explicit Reader(std::string_view text);
  // Reads the next record into `fields`; false when the input is exhausted.
  bool next(std::vector<Field>& fields);
  // The text of a field of the last record (valid until the next record).
  std::string_view text(const Field& f) const {
    return f.decoded ? std::string_view(record_).substr(f.offset, f.size)
                     : text_.substr(f.offset, f.size);
  }
  // The file line on which the last record returned by next() started.
  std::size_t record_line() const { return record_line_; }
  const Layout& layout() const { return layout_; }

 private:
  enum class End { field, record, input };
  End read_field(Field& out);
  // Appends the content of the quoted field at pos_ to record_; returns
  // false when text follows the closing quote.
  bool read_quoted();
  End read_terminator();
  void check_form(std::string_view raw, std::string_view content, bool quoted,
                  std::size_t line);

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::size_t record_line_ = 1;
  Layout layout_;
  std::string record_;  // the decoded quoted fields of the last record
  std::string scratch_;
};

// Whether fputcsv encloses a field.
bool needs_quotes(std::string_view field);
// Appends `field` as fputcsv writes it.
void append_field(std::string& out, std::string_view field);

}  // namespace csv
}  // namespace ec5
