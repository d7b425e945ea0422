// The incremental entries flattener: pages of the entries export go in one
// at a time, the typed table comes out at the end. A page is read by a SAX
// reader straight into the column buffers, no DOM built (entries_reader.cpp,
// json_sax.h); a page of any other shape than the usual ones, or
// one that fails to parse, takes its rows back and is read again as a DOM,
// which decides what it is.
#pragma once

#include <Rcpp.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "table.h"

namespace ec5 {

// Keys are short: compared 8 bytes at a time inline, without a call to
// memcmp() for every member of every entry.
inline bool same_key(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) return false;
  }
  for (; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// What one page said about the whole result (NA when the page lacked it).
struct PageMeta {
  double total = NA_REAL, per_page = NA_REAL, current_page = NA_REAL, last_page = NA_REAL;
  std::string newest, oldest, map_name, next;
  double map_index = NA_REAL;
  size_t n = 0;  // entries of this page that became rows
};

// The blocks of a page that describe it (`meta`, `links`, `data.mapping`),
// any of them absent (nullptr) or malformed.
void read_meta(const rapidjson::Value* m, PageMeta* meta);
void read_links(const rapidjson::Value* links, PageMeta* meta);
void read_mapping(const rapidjson::Value* mapping, PageMeta* meta);

class EntriesParser {
 public:
  EntriesParser(const std::vector<ColumnSpec>& specs, std::string key);

  // Accepts an entries page `{meta, data: {entries, mapping}, links}` (also
  // the 2017/2019 shapes), a JSON archive `{"data": [...]}`, a bare array of
  // entries, or one bare entry object. Throws ec5::Error("parse") for
  // anything else; the rows of a page are added only if the page parses.
  PageMeta feed(const char* data, size_t len);
  // The same, always through a DOM: what feed() falls back to, and the
  // reference the fuzz target (tools/fuzz/harness.cpp) holds feed() to.
  PageMeta feed_dom(const char* data, size_t len);

  // list(columns, problems, unknown_keys); the parser is spent afterwards.
  SEXP finish();

  // The columns `names` (the first column of each name) of the rows the last
  // feed() added, as R vectors: a page's keys and times, from which R picks
  // the next keyset cursor and checks overlapping pages (R/entries.R).
  SEXP last_rows(const std::vector<std::string>& names);

 private:
  friend class PageReader;

  // The SAX reading of a page: false (and no rows added) when the page is
  // not one of the usual shapes or does not parse.
  bool feed_sax(const char* data, size_t len, PageMeta* meta);
  // Rows are allocated ahead once, from the first page's `meta.total`.
  void reserve_for(const PageMeta& meta);
  // One entry, member by member (later duplicates of a key win), then its
  // row; `value` must live until end_entry().
  void start_entry();
  // Inline: called for every member of every entry.
  void entry_member(size_t position, std::string_view key, const rapidjson::Value& value) {
    const std::vector<size_t>* columns = key_columns(position, key);
    if (!columns) return add_unknown_key(key, value);
    for (size_t i : *columns) slot_[i] = &value;
  }
  void end_entry();
  void add_entry(const rapidjson::Value& entry);
  // An element of `entries` that is not an object: null is skipped, anything
  // else is a problem without a row.
  void add_non_entry(const rapidjson::Value& value);
  void add_unknown_key(std::string_view key, const rapidjson::Value& value);
  // The columns a key fills, or nullptr for an unknown key. The entries of a
  // page list their keys in the same order, so the key at the same position
  // in the previous entry is tried first: a comparison instead of a hash.
  const std::vector<size_t>* key_columns(size_t position, std::string_view key) {
    if (position < hints_.size() && hints_[position].columns &&
        same_key(hints_[position].key, key)) {
      return hints_[position].columns;
    }
    return find_key_columns(position, key);
  }
  // The lookup in the index when the hint missed; it makes the new hint.
  const std::vector<size_t>* find_key_columns(size_t position, std::string_view key);
  void add_entries(const rapidjson::Value& entries, PageMeta* meta);

  Table table_;
  std::string key_;
  // JSON key -> every column it fills (a custom map_to may repeat a system
  // key, see API-NOTES.md §4.1), and the value each column got in the current entry.
  // Keys are views of the column names, which live as long as the table.
  std::unordered_map<std::string_view, std::vector<size_t>> index_;
  std::vector<const rapidjson::Value*> slot_;
  // By position in an entry: the key last seen there and its columns.
  struct KeyHint {
    std::string_view key;
    const std::vector<size_t>* columns = nullptr;
  };
  std::vector<KeyHint> hints_;
  std::set<std::string> unknown_keys_;
  // The page being parsed, in place: reused from page to page, so that its
  // memory is not handed back to the system and faulted in again each time.
  std::vector<char> buffer_;
  bool finished_ = false;
  size_t last_start_ = 0;  // the first row of the last feed()
};

}  // namespace ec5
