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
#include <cstdio>
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

// Splits text into records, a block at a time: a record is returned only
// when the block holds all of it, so that a file can be read in blocks
// without holding it whole.
class Reader {
 public:
  enum class Status { record, more, end };
  // Gives the reader its next block, which starts where the last whole
  // record of the previous block ended (consumed()); `last` when the block
  // ends the input.
  void feed(std::string_view block, bool last);
  // Reads the next record into `fields`: `more` when the rest of the block
  // is not a whole record and the input goes on, `end` when it is exhausted.
  Status next(std::vector<Field>& fields);
  // The bytes of the block read as whole records.
  std::size_t consumed() const { return pos_; }
  // The text of a field of the last record (valid until the next record).
  std::string_view text(const Field& f) const {
    return f.decoded ? std::string_view(record_).substr(f.offset, f.size)
                     : text_.substr(f.offset, f.size);
  }
  const Layout& layout() const { return layout_; }

 private:
  enum class End { field, record, input };
  // Thrown where a record runs past the end of a block that is not the last.
  struct Starved {};
  void starve_at_end() const {
    if (!last_) throw Starved();
  }
  bool read_record(std::vector<Field>& fields);
  End read_field(Field& out);
  // Appends the content of the quoted field at pos_ to record_; returns
  // false when text follows the closing quote.
  bool read_quoted();
  End read_terminator();
  // Tallies how a quoted field departs from fputcsv's form.
  void check_form(std::string_view raw, std::string_view content, std::size_t line);

  std::string_view text_;
  bool last_ = false;
  bool started_ = false;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  Layout layout_;
  std::string record_;  // the decoded quoted fields of the last record
  std::string scratch_;
};

// The records of a file, or of bytes in memory, read in blocks that are
// checked to be UTF-8 text without NUL as they are read (a parse error names
// the line of the first bad byte).
class Records {
 public:
  // Reads the file at `path` (bytes as the OS takes them), `block` bytes at
  // a time.
  Records(const std::string& path, std::size_t block);
  // Reads `bytes`, which must outlive this object.
  explicit Records(std::string_view bytes);
  ~Records();
  Records(const Records&) = delete;
  Records& operator=(const Records&) = delete;
  // Reads the next record into `fields`; false at the end of the input.
  bool next(std::vector<Field>& fields);
  std::string_view text(const Field& f) const { return reader_.text(f); }
  const Layout& layout() const { return reader_.layout(); }
  // The bytes of the input read as records so far.
  std::size_t offset() const { return dropped_ + reader_.consumed(); }

 private:
  // Drops the bytes read as records and reads on until the checked part of
  // the block ends a line further, or the file ends.
  void refill();
  void check(std::size_t from, std::size_t to);

  std::FILE* file_ = nullptr;
  std::size_t block_size_ = 0;
  std::string buffer_;
  std::string_view block_;  // buffer_, or the bytes in memory
  std::size_t checked_ = 0;
  std::size_t dropped_ = 0;  // bytes of the file before buffer_
  std::size_t lines_ = 0;  // line ends in the checked bytes dropped or kept
  bool eof_ = false;
  Reader reader_;
};

// Whether fputcsv encloses a field.
bool needs_quotes(std::string_view field);
// Appends `field` as fputcsv writes it.
void append_field(std::string& out, std::string_view field);

}  // namespace csv
}  // namespace ec5
