// The SAX reading of an entries page: the in-place reader of json_sax.h
// (RapidJSON's events, faster strings) parses the page and the handler below
// routes each entry's values to the column builders as they come, without
// building the page's DOM (which cost as much as the rest of the
// flattening). Only the usual shapes are read here:
//
//   {"meta": {...}, "links": {...}, "data": {"entries": [...], "mapping": {...}}}
//   {"data": [...]}                 (a JSON archive)
//   [...]                           (a bare array of entries)
//
// with the same meaning as EntriesParser::feed_dom() gives them: the first
// copy of `meta`, `links`, `data`, `entries` and `mapping` counts, other
// members are skipped. Anything else (no `data`, an `errors` body, a single
// bare entry, a malformed envelope) and any parse error stops the reader: the
// rows it added are taken back and feed_dom() reads the page, so that every
// error and every odd shape has one owner.
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "entries.h"
#include "json.h"
#include "json_sax.h"

namespace ec5 {

namespace {

using Allocator = rapidjson::MemoryPoolAllocator<>;

// Builds one nested value (an object or array inside an entry, a page's
// `meta`) from SAX events, as rapidjson::Document does; strings stay in the
// in-place buffer.
class ValueBuilder {
 public:
  explicit ValueBuilder(Allocator* allocator) : allocator_(allocator) {}

  bool active() const { return depth_ > 0; }
  void start() { ++depth_; }
  void add(rapidjson::Value&& v) { stack_.push_back(std::move(v)); }
  // Returns the finished value when this closes the outermost one, else nullptr.
  rapidjson::Value* end_object(rapidjson::SizeType members) {
    rapidjson::Value object(rapidjson::kObjectType);
    object.MemberReserve(members, *allocator_);
    const size_t first = stack_.size() - 2 * static_cast<size_t>(members);
    for (size_t i = first; i < stack_.size(); i += 2) {
      object.AddMember(stack_[i], stack_[i + 1], *allocator_);
    }
    return close(first, std::move(object));
  }
  rapidjson::Value* end_array(rapidjson::SizeType elements) {
    rapidjson::Value array(rapidjson::kArrayType);
    array.Reserve(elements, *allocator_);
    const size_t first = stack_.size() - elements;
    for (size_t i = first; i < stack_.size(); ++i) array.PushBack(stack_[i], *allocator_);
    return close(first, std::move(array));
  }

 private:
  rapidjson::Value* close(size_t first, rapidjson::Value&& v) {
    stack_.resize(first);
    stack_.push_back(std::move(v));
    if (--depth_ > 0) return nullptr;
    result_ = std::move(stack_.back());
    stack_.clear();
    return &result_;
  }

  Allocator* allocator_;
  std::vector<rapidjson::Value> stack_;
  rapidjson::Value result_;
  int depth_ = 0;
};

}  // namespace

class PageReader {
 public:
  PageReader(EntriesParser* parser, PageMeta* meta)
      : parser_(parser),
        meta_(meta),
        entry_pool_(arena_, sizeof(arena_)),
        entry_value_(&entry_pool_),
        page_value_(&page_pool_) {}

  // Whether the page had one of the shapes read here (`data` found).
  bool complete() const { return saw_data_; }

  // --- the SAX handler ---------------------------------------------------------------
  bool Null() { return scalar(); }
  bool Bool(bool b) { return scalar(b); }
  bool Int(int i) { return scalar(i); }
  bool Uint(unsigned u) { return scalar(u); }
  bool Int64(int64_t i) { return scalar(i); }
  bool Uint64(uint64_t u) { return scalar(u); }
  bool Double(double d) { return scalar(d); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return false; }
  bool String(const char* s, rapidjson::SizeType n, bool copy) {
    // In place, strings are never copied: they live in the page's buffer.
    if (copy) return false;
    return scalar(rapidjson::StringRef(s, n));
  }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) {
    if (copy) return false;
    if (skip_ > 0) return true;
    if (builder_ && builder_->active()) {
      builder_->add(rapidjson::Value(rapidjson::StringRef(s, n)));
      return true;
    }
    key_ = std::string_view(s, n);
    return true;
  }
  bool StartObject() { return open(true); }
  bool StartArray() { return open(false); }
  bool EndObject(rapidjson::SizeType members) {
    if (skip_ > 0) return close_skipped();
    if (builder_ && builder_->active()) {
      rapidjson::Value* v = builder_->end_object(members);
      return !v || captured(*v);
    }
    const Place place = places_.back();
    places_.pop_back();
    if (place == kEntry) {
      parser_->end_entry();
      ++meta_->n;
      entry_pool_.Clear();
    }
    // `data` as an object must hold `entries`: feed_dom() names the fault.
    return place != kData || saw_entries_;
  }
  bool EndArray(rapidjson::SizeType elements) {
    if (skip_ > 0) return close_skipped();
    if (builder_ && builder_->active()) {
      rapidjson::Value* v = builder_->end_array(elements);
      return !v || captured(*v);
    }
    places_.pop_back();  // only `entries` arrays are read here
    return true;
  }

 private:
  // Where the reader is: the containers it walks (any other value is built
  // whole or skipped).
  enum Place { kPage, kData, kEntries, kEntry };
  // What the value after a key of the page or of `data` is for.
  enum Target { kSkip, kMeta, kLinks, kMapping, kDataValue, kEntriesValue };

  Target target() {
    auto first = [](bool* seen) {
      if (*seen) return false;
      *seen = true;
      return true;
    };
    if (places_.back() == kPage) {
      if (key_ == "data" && first(&saw_data_)) return kDataValue;
      if (key_ == "meta" && first(&saw_meta_)) return kMeta;
      if (key_ == "links" && first(&saw_links_)) return kLinks;
    } else {
      if (key_ == "entries" && first(&saw_entries_)) return kEntriesValue;
      if (key_ == "mapping" && first(&saw_mapping_)) return kMapping;
    }
    return kSkip;
  }

  bool open(bool object) {
    if (skip_ > 0) {
      ++skip_;
      return true;
    }
    if (builder_ && builder_->active()) {
      builder_->start();
      return true;
    }
    if (places_.empty()) {
      // The page itself, or a bare array of entries.
      places_.push_back(object ? kPage : kEntries);
      if (!object) saw_data_ = true;
      return true;
    }
    switch (places_.back()) {
      case kEntries:
        if (!object) return build(&entry_value_, kNonEntry);
        parser_->start_entry();
        position_ = 0;
        places_.push_back(kEntry);
        return true;
      case kEntry:
        return build(&entry_value_, kMember);
      default:
        break;
    }
    const Target t = target();
    switch (t) {
      case kDataValue:
        places_.push_back(object ? kData : kEntries);
        if (!object) return entries_start();
        return true;
      case kEntriesValue:
        if (object) return false;
        places_.push_back(kEntries);
        return entries_start();
      case kMeta:
      case kLinks:
      case kMapping:
        block_ = t;
        return build(&page_value_, kBlock);
      case kSkip:
        skip_ = 1;
        return true;
    }
    return false;
  }

  // A scalar: an entry's value, an element of `entries`, or a member of the
  // page or of `data`. `args` make the rapidjson::Value where it is kept: one
  // made on the stack and moved costs a stalled 16-byte load per value.
  template <typename... Args>
  bool scalar(Args... args) {
    if (skip_ > 0) return true;
    if (builder_ && builder_->active()) {
      builder_->add(rapidjson::Value(args...));
      return true;
    }
    if (places_.empty()) return false;  // a bare scalar is no page
    switch (places_.back()) {
      case kEntry:
        return member(new (entry_pool_.Malloc(sizeof(rapidjson::Value)))
                          rapidjson::Value(args...));
      case kEntries:
        parser_->add_non_entry(rapidjson::Value(args...));
        return true;
      default:
        break;
    }
    switch (target()) {
      case kSkip:
        return true;
      case kMeta:
      case kLinks:
      case kMapping:
        // Not an object: read as absent members, as feed_dom() reads it.
        return true;
      default:
        return false;  // `data` or `entries` of the wrong type
    }
  }

  // What a finished nested value is for.
  enum Use { kMember, kNonEntry, kBlock };

  bool build(ValueBuilder* builder, Use use) {
    builder_ = builder;
    use_ = use;
    builder_->start();
    return true;
  }

  // An entry's value, kept in the entry pool until the entry's row is made.
  bool member(const rapidjson::Value* stored) {
    parser_->entry_member(position_++, key_, *stored);
    return true;
  }
  bool member(rapidjson::Value&& v) {
    return member(new (entry_pool_.Malloc(sizeof(rapidjson::Value))) rapidjson::Value(std::move(v)));
  }

  bool captured(rapidjson::Value& v) {
    builder_ = nullptr;
    switch (use_) {
      case kMember:
        return member(std::move(v));
      case kNonEntry:
        parser_->add_non_entry(v);
        entry_pool_.Clear();
        return true;
      case kBlock:
        if (block_ == kMeta) {
          read_meta(&v, meta_);
        } else if (block_ == kLinks) {
          read_links(&v, meta_);
        } else {
          read_mapping(&v, meta_);
        }
        return true;
    }
    return false;
  }

  bool entries_start() {
    parser_->reserve_for(*meta_);
    return true;
  }

  bool close_skipped() {
    --skip_;
    return true;
  }

  EntriesParser* parser_;
  PageMeta* meta_;
  std::vector<Place> places_;
  std::string_view key_;
  size_t position_ = 0;  // of the next member in the current entry
  int skip_ = 0;         // depth inside a skipped value
  bool saw_data_ = false, saw_meta_ = false, saw_links_ = false, saw_entries_ = false,
       saw_mapping_ = false;
  Target block_ = kSkip;
  Use use_ = kMember;
  // An entry's values live in a pool cleared after each entry; its first
  // chunk is this arena, so that an entry costs no allocation.
  alignas(16) char arena_[16384];
  Allocator entry_pool_;
  Allocator page_pool_;
  ValueBuilder entry_value_, page_value_;
  ValueBuilder* builder_ = nullptr;  // the value being built, if any
};

bool EntriesParser::feed_sax(const char* data, size_t len, PageMeta* meta) {
  char* text = insitu_buffer(&buffer_, data, len);
  const size_t rows = table_.nrow();
  const size_t problems = table_.problems().size();
  const std::set<std::string> unknown = unknown_keys_;
  auto take_back = [&]() {
    table_.problems().truncate(problems);
    for (auto& column : table_.columns()) column->truncate(rows);
    unknown_keys_ = unknown;
    *meta = PageMeta();
  };
  bool ok = false;
  try {
    auto reader = std::make_unique<PageReader>(this, meta);
    json_sax::Reader<PageReader> sax(reader.get());
    ok = sax.parse(text) && reader->complete();
  } catch (...) {
    take_back();
    throw;
  }
  if (!ok) {
    take_back();
    return false;
  }
  last_start_ = rows;
  return true;
}

}  // namespace ec5
