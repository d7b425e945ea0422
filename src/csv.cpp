#include "csv.h"

#include <Rcpp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "values.h"
#include "glue.h"

namespace ec5 {
namespace csv {

namespace {

bool is_field_end(char c) { return c == ',' || c == '\n' || c == '\r'; }

// Byte classes for the scans: a table lookup per byte, where
// string_view::find_first_of() calls memchr() on the set for every byte.
struct ByteSet {
  explicit constexpr ByteSet(const char* chars) : member() {
    for (; *chars; ++chars) member[static_cast<unsigned char>(*chars)] = true;
  }
  // The offset of the first member in `text` from `from`, or text.size().
  std::size_t find(std::string_view text, std::size_t from) const {
    const auto* u = reinterpret_cast<const unsigned char*>(text.data());
    while (from < text.size() && !member[u[from]]) ++from;
    return from;
  }
  bool member[256];
};

constexpr ByteSet kFieldEnd(",\r\n");
constexpr ByteSet kInQuotes("\"\\");
constexpr ByteSet kQuoted(" ,\"\\\t\r\n");

}  // namespace

Reader::Reader(std::string_view text) : text_(text) {
  if (text_.substr(0, 3) == "\xEF\xBB\xBF") {
    layout_.bom = true;
    pos_ = 3;
  }
  layout_.final_newline = !text_.empty() && (text_.back() == '\n' || text_.back() == '\r');
}

bool Reader::next(std::vector<Field>& fields) {
  while (pos_ < text_.size()) {
    fields.clear();
    record_.clear();
    record_line_ = line_;
    const bool starts_quoted = text_[pos_] == '"';
    End end;
    do {
      fields.emplace_back();
      end = read_field(fields.back());
    } while (end == End::field);
    if (fields.size() == 1 && fields[0].size == 0 && !starts_quoted) {
      layout_.blank_lines.add(record_line_);
      continue;
    }
    return true;
  }
  return false;
}

Reader::End Reader::read_field(Field& out) {
  const std::size_t begin = pos_;
  const std::size_t line = line_;
  const bool quoted = pos_ < text_.size() && text_[pos_] == '"';
  if (quoted) {
    out.decoded = true;
    out.offset = record_.size();
    const bool clean = read_quoted();
    out.size = record_.size() - out.offset;
    if (!clean) return read_terminator();
  } else {
    const std::size_t end = kFieldEnd.find(text_, pos_);
    out.offset = pos_;
    out.size = end - pos_;
    pos_ = end;
  }
  check_form(text_.substr(begin, pos_ - begin), text(out), quoted, line);
  return read_terminator();
}

bool Reader::read_quoted() {
  const std::size_t start_line = line_;
  ++pos_;
  bool escaped = false;
  for (;;) {
    const std::size_t stop = kInQuotes.find(text_, pos_);
    if (stop == text_.size()) {
      throw Error("parse", "The quoted field that starts on line " +
                               std::to_string(start_line) + " is never closed.");
    }
    if (stop > pos_) {
      const std::string_view chunk = text_.substr(pos_, stop - pos_);
      line_ += static_cast<std::size_t>(std::count(chunk.begin(), chunk.end(), '\n'));
      record_.append(chunk);
      escaped = false;
      pos_ = stop;
    }
    if (text_[pos_] == '\\') {
      record_ += '\\';
      escaped = true;
      ++pos_;
      continue;
    }
    const bool at_field_end = pos_ + 1 >= text_.size() || is_field_end(text_[pos_ + 1]);
    if (escaped && !at_field_end) {
      // fputcsv leaves a quote after a backslash undoubled. Followed by a
      // field end it is the closing quote of a value ending in a backslash.
      record_ += '"';
      escaped = false;
      ++pos_;
    } else if (!escaped && !at_field_end && text_[pos_ + 1] == '"') {
      record_ += '"';
      pos_ += 2;
    } else {
      ++pos_;
      break;
    }
  }
  const std::size_t end = kFieldEnd.find(text_, pos_);
  if (end > pos_) {
    layout_.after_quote.add(line_);
    record_.append(text_.substr(pos_, end - pos_));
    pos_ = end;
    return false;
  }
  return true;
}

Reader::End Reader::read_terminator() {
  if (pos_ >= text_.size()) return End::input;
  const char c = text_[pos_];
  if (c == ',') {
    ++pos_;
    return End::field;
  }
  if (c == '\r') {
    if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
      layout_.crlf.add(line_);
      ++pos_;
    } else {
      layout_.lone_cr.add(line_);
    }
  }
  ++pos_;
  ++line_;
  return End::record;
}

void Reader::check_form(std::string_view raw, std::string_view content, bool quoted,
                        std::size_t line) {
  const bool should_quote = needs_quotes(content);
  if (!quoted) {
    if (should_quote) layout_.unquoted.add(line);
    return;
  }
  if (!should_quote) {
    layout_.overquoted.add(line);
    return;
  }
  // Without a quote or backslash inside, fputcsv's form is the content
  // between two quotes, which is what was read.
  if (kInQuotes.find(content, 0) == content.size()) return;
  scratch_.clear();
  append_field(scratch_, content);
  if (scratch_ != raw) layout_.escaping.add(line);
}

bool needs_quotes(std::string_view field) { return kQuoted.find(field, 0) < field.size(); }

void append_field(std::string& out, std::string_view field) {
  if (!needs_quotes(field)) {
    out.append(field);
    return;
  }
  // php_fputcsv: a quote is doubled unless the escape character precedes it.
  out += '"';
  bool escaped = false;
  for (const char c : field) {
    if (c == '\\') {
      escaped = true;
    } else if (!escaped && c == '"') {
      out += '"';
    } else {
      escaped = false;
    }
    out += c;
  }
  out += '"';
}

namespace {

SEXP mkchar(std::string_view s) {
  return Rf_mkCharLenCE(s.data(), static_cast<int>(s.size()), CE_UTF8);
}

// The cells of one column: bytes of the file, or of `decoded` (the
// contents of quoted fields, bit 63 of the offset set).
struct Cells {
  static constexpr std::uint64_t kDecoded = std::uint64_t{1} << 63;
  std::vector<std::uint64_t> offset;
  std::vector<std::uint32_t> size;
};

// A column of cells as a character vector (empty cells NA). A cell equal to
// the one above reuses its string: answers repeat down a column, and R's
// string cache is a hash lookup per string.
Rcpp::CharacterVector strings(const Cells& cells, std::string_view text,
                              const std::string& decoded) {
  Rcpp::CharacterVector out(cells.offset.size());
  std::string_view last;
  SEXP last_string = NA_STRING;
  for (std::size_t i = 0; i < cells.offset.size(); ++i) {
    const std::uint64_t at = cells.offset[i];
    const std::string_view cell =
        (at & Cells::kDecoded ? std::string_view(decoded) : text)
            .substr(at & ~Cells::kDecoded, cells.size[i]);
    if (cell.empty()) {
      SET_STRING_ELT(out, static_cast<R_xlen_t>(i), NA_STRING);
      continue;
    }
    if (last_string == NA_STRING || cell != last) {
      last = cell;
      last_string = mkchar(cell);
    }
    SET_STRING_ELT(out, static_cast<R_xlen_t>(i), last_string);
  }
  return out;
}

Rcpp::IntegerVector tally(const Tally& t) {
  return Rcpp::IntegerVector::create(static_cast<int>(t.count),
                                     static_cast<int>(t.first_line));
}

Rcpp::List layout_list(const Layout& l) {
  return Rcpp::List::create(
      Rcpp::Named("bom") = l.bom, Rcpp::Named("final_newline") = l.final_newline,
      Rcpp::Named("crlf") = tally(l.crlf), Rcpp::Named("lone_cr") = tally(l.lone_cr),
      Rcpp::Named("blank_lines") = tally(l.blank_lines),
      Rcpp::Named("unquoted") = tally(l.unquoted),
      Rcpp::Named("overquoted") = tally(l.overquoted),
      Rcpp::Named("escaping") = tally(l.escaping),
      Rcpp::Named("after_quote") = tally(l.after_quote));
}

std::size_t line_of(std::string_view text, std::size_t offset) {
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + offset, '\n'));
}

}  // namespace

}  // namespace csv
}  // namespace ec5

// Splits the bytes of a CSV file into a header and one character vector per
// column (empty cells NA), with the records' field counts where they differ
// from the header's and the file's layout (BOM, line ends, quoting).
// [[Rcpp::export(rng = false)]]
SEXP csv_read_cpp(Rcpp::RawVector bytes) {
  EC5_BEGIN
  using namespace ec5::csv;
  const std::string_view text(reinterpret_cast<const char*>(RAW(bytes)),
                              static_cast<std::size_t>(bytes.size()));
  const std::size_t bad = ec5::invalid_utf8_offset(text);
  if (bad < text.size()) {
    throw ec5::Error("parse", "The file is not UTF-8: line " +
                                  std::to_string(line_of(text, bad)) +
                                  " holds a byte that is not valid UTF-8.");
  }
  // R strings cannot hold NUL: refused here, it would be an R error (a long
  // jump through this function) when the cell becomes a string.
  const std::size_t nul = text.find('\0');
  if (nul != std::string_view::npos) {
    throw ec5::Error("parse", "The file is not text: line " + std::to_string(line_of(text, nul)) +
                                  " holds a NUL byte.");
  }
  Reader reader(text);
  std::vector<Field> fields;
  if (!reader.next(fields)) throw ec5::Error("parse", "The file is empty.");
  std::vector<std::string> header;
  for (const Field& f : fields) header.emplace_back(reader.text(f));
  std::vector<Cells> columns(header.size());
  std::string decoded;
  std::vector<int> lines, ragged_row, ragged_fields;
  while (reader.next(fields)) {
    lines.push_back(static_cast<int>(reader.record_line()));
    if (fields.size() != header.size()) {
      ragged_row.push_back(static_cast<int>(lines.size()));
      ragged_fields.push_back(static_cast<int>(fields.size()));
      fields.resize(header.size());
    }
    for (std::size_t j = 0; j < header.size(); ++j) {
      const Field& f = fields[j];
      std::uint64_t at = f.offset;
      if (f.decoded) {
        at = decoded.size() | Cells::kDecoded;
        decoded.append(reader.text(f));
      }
      columns[j].offset.push_back(at);
      columns[j].size.push_back(static_cast<std::uint32_t>(f.size));
    }
  }
  Rcpp::List cols(header.size());
  for (std::size_t j = 0; j < header.size(); ++j) {
    cols[j] = strings(columns[j], text, decoded);
    columns[j] = Cells();
  }
  Rcpp::CharacterVector names(header.size());
  for (std::size_t j = 0; j < header.size(); ++j) SET_STRING_ELT(names, j, mkchar(header[j]));
  return Rcpp::List::create(
      Rcpp::Named("header") = names, Rcpp::Named("columns") = cols,
      Rcpp::Named("lines") = Rcpp::wrap(lines),
      Rcpp::Named("ragged") = Rcpp::List::create(Rcpp::Named("row") = Rcpp::wrap(ragged_row),
                                                 Rcpp::Named("fields") = Rcpp::wrap(ragged_fields)),
      Rcpp::Named("layout") = layout_list(reader.layout()));
  EC5_END
}
