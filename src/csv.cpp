#include "csv.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "errors.h"
#include "interrupt.h"
#include "values.h"

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

void Reader::feed(std::string_view block, bool last) {
  text_ = block;
  last_ = last;
  pos_ = 0;
  if (!started_ && (!block.empty() || last)) {
    started_ = true;
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") {
      layout_.bom = true;
      pos_ = 3;
    }
  }
  if (!block.empty()) layout_.final_newline = block.back() == '\n' || block.back() == '\r';
}

Reader::Status Reader::next(std::vector<Field>& fields) {
  while (pos_ < text_.size()) {
    // A record cut by the end of the block is read again from its start
    // with the next block, so what it counted is taken back.
    const std::size_t pos = pos_, line = line_;
    const Layout layout = layout_;
    try {
      if (read_record(fields)) return Status::record;
    } catch (const Starved&) {
      pos_ = pos;
      line_ = line;
      layout_ = layout;
      return Status::more;
    }
  }
  return last_ ? Status::end : Status::more;
}

bool Reader::read_record(std::vector<Field>& fields) {
  fields.clear();
  record_.clear();
  const std::size_t record_line = line_;
  const bool starts_quoted = text_[pos_] == '"';
  End end;
  do {
    fields.emplace_back();
    end = read_field(fields.back());
  } while (end == End::field);
  if (fields.size() == 1 && fields[0].size == 0 && !starts_quoted) {
    layout_.blank_lines.add(record_line);
    return false;
  }
  return true;
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
    check_form(text_.substr(begin, pos_ - begin), text(out), line);
    return read_terminator();
  }
  // One scan finds the field's end and whether fputcsv would have quoted
  // it: the first byte of kQuoted is the end unless it is a space, quote,
  // backslash or tab.
  std::size_t end = kQuoted.find(text_, pos_);
  if (end < text_.size() && !is_field_end(text_[end])) {
    layout_.unquoted.add(line);
    end = kFieldEnd.find(text_, end);
  }
  if (end == text_.size()) starve_at_end();
  out.offset = pos_;
  out.size = end - pos_;
  pos_ = end;
  return read_terminator();
}

bool Reader::read_quoted() {
  const std::size_t start_line = line_;
  ++pos_;
  bool escaped = false;
  for (;;) {
    const std::size_t stop = kInQuotes.find(text_, pos_);
    if (stop == text_.size()) {
      starve_at_end();
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
    if (pos_ + 1 >= text_.size()) starve_at_end();
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
  if (end == text_.size()) starve_at_end();
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
  if (c == '\r' && pos_ + 1 == text_.size()) starve_at_end();
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

void Reader::check_form(std::string_view raw, std::string_view content, std::size_t line) {
  if (!needs_quotes(content)) {
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

std::size_t count_lines(std::string_view text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

Records::Records(const std::string& path, std::size_t block) : block_size_(std::max<std::size_t>(block, 1)) {
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) throw Error("io", "The file cannot be opened: " + std::string(std::strerror(errno)) + ".");
  refill();
}

Records::Records(std::string_view bytes) : block_(bytes), eof_(true) {
  check(0, bytes.size());
  checked_ = bytes.size();
  reader_.feed(block_, true);
}

Records::~Records() {
  if (file_) std::fclose(file_);
}

bool Records::next(std::vector<Field>& fields) {
  for (;;) {
    switch (reader_.next(fields)) {
      case Reader::Status::record:
        return true;
      case Reader::Status::end:
        return false;
      case Reader::Status::more:
        refill();
    }
  }
}

void Records::refill() {
  if (eof_) throw Error("internal", "The CSV reader asked for more of a finished input.");
  const std::size_t consumed = reader_.consumed();
  buffer_.erase(0, consumed);
  dropped_ += consumed;
  checked_ -= consumed;
  for (;;) {
    // A large file takes seconds: the user may stop it between blocks.
    check_interrupt();
    const std::size_t size = buffer_.size();
    buffer_.resize(size + block_size_);
    const std::size_t n = std::fread(&buffer_[size], 1, block_size_, file_);
    buffer_.resize(size + n);
    if (n < block_size_ && std::ferror(file_)) {
      throw Error("io", "The file cannot be read: " + std::string(std::strerror(errno)) + ".");
    }
    if (n == 0) {
      eof_ = true;
      check(checked_, buffer_.size());
      checked_ = buffer_.size();
      break;
    }
    // Only whole lines are checked: a line end never falls inside a UTF-8
    // sequence, the end of a block may.
    const std::size_t end = buffer_.find_last_of("\r\n");
    if (end != std::string::npos && end >= checked_) {
      check(checked_, end + 1);
      checked_ = end + 1;
      break;
    }
  }
  block_ = std::string_view(buffer_).substr(0, checked_);
  reader_.feed(block_, eof_);
}

void Records::check(std::size_t from, std::size_t to) {
  const std::string_view bytes = (file_ ? std::string_view(buffer_) : block_).substr(from, to - from);
  // The first bad byte of the file is reported, whichever the block size.
  const std::size_t bad = invalid_utf8_offset(bytes);
  // R strings cannot hold NUL: refused here, it would be an R error (a long
  // jump through the reader) when the cell becomes a string.
  const std::size_t nul = bytes.substr(0, bad).find('\0');
  if (nul != std::string_view::npos) {
    throw Error("parse", "The file is not text: line " +
                             std::to_string(lines_ + count_lines(bytes.substr(0, nul)) + 1) +
                             " holds a NUL byte.");
  }
  if (bad < bytes.size()) {
    throw Error("parse", "The file is not UTF-8: line " +
                             std::to_string(lines_ + count_lines(bytes.substr(0, bad)) + 1) +
                             " holds a byte that is not valid UTF-8.");
  }
  lines_ += count_lines(bytes);
}

}  // namespace csv
}  // namespace ec5
