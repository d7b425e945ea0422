#include "entries.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <memory>
#include <numeric>
#include <utility>

#include "error_body.h"
#include "glue.h"
#include "r_list.h"
#include "r_vectors.h"
#include "values.h"

namespace ec5 {

namespace {

// At most this many distinct unknown keys are remembered (a hint, not data).
const size_t kMaxUnknownKeys = 20;

// At most this many rows are allocated ahead from `meta.total`.
const double kMaxReserve = 100000;

// A count from the meta block: a number or a numeric string, else NA.
double meta_number(const rapidjson::Value& meta, const char* name) {
  return json_number_or(json_member(meta, name), NA_REAL);
}

std::string meta_string(const rapidjson::Value& meta, const char* name) {
  const rapidjson::Value* v = json_member(meta, name);
  if (!v || !v->IsString() || !valid_text(v->GetString(), v->GetStringLength())) return "";
  return std::string(v->GetString(), v->GetStringLength());
}

}  // namespace

void read_meta(const rapidjson::Value* m, PageMeta* meta) {
  if (!m) return;
  meta->total = meta_number(*m, "total");
  meta->per_page = meta_number(*m, "per_page");
  meta->current_page = meta_number(*m, "current_page");
  meta->last_page = meta_number(*m, "last_page");
  meta->newest = meta_string(*m, "newest");
  meta->oldest = meta_string(*m, "oldest");
}

void read_links(const rapidjson::Value* links, PageMeta* meta) {
  if (links) meta->next = meta_string(*links, "next");
}

void read_mapping(const rapidjson::Value* mapping, PageMeta* meta) {
  if (!mapping) return;
  meta->map_index = meta_number(*mapping, "map_index");
  meta->map_name = meta_string(*mapping, "map_name");
}

namespace {

bool looks_like_entry(const rapidjson::Value& v) {
  return json_member(v, "ec5_uuid") || json_member(v, "ec5_branch_uuid") ||
         json_member(v, "ec5_branch_owner_uuid");
}

// A count as an R integer; NA when absent or not a whole number in range.
Rcpp::RObject r_count(double x) {
  if (std::isfinite(x) && x == std::trunc(x) && std::fabs(x) <= 2147483647.0) {
    return Rcpp::IntegerVector::create(static_cast<int>(x));
  }
  return Rcpp::IntegerVector::create(NA_INTEGER);
}

Rcpp::RObject na_or_string(const std::string& s) {
  return r_scalar(s.empty() ? OptString() : OptString(s));
}

}  // namespace

EntriesParser::EntriesParser(const std::vector<ColumnSpec>& specs, std::string key)
    : table_(specs), key_(std::move(key)) {
  std::vector<std::unique_ptr<Column>>& columns = table_.columns();
  for (size_t i = 0; i < columns.size(); ++i) index_[columns[i]->name()].push_back(i);
  slot_.assign(columns.size(), nullptr);
}

const std::vector<size_t>* EntriesParser::find_key_columns(size_t position,
                                                           std::string_view key) {
  auto it = index_.find(key);
  const std::vector<size_t>* columns = it == index_.end() ? nullptr : &it->second;
  if (position >= hints_.size()) hints_.resize(position + 1);
  // The hint keeps the index's own key, which outlives the page.
  hints_[position] = columns ? KeyHint{it->first, columns} : KeyHint{};
  return columns;
}

void EntriesParser::start_entry() { std::fill(slot_.begin(), slot_.end(), nullptr); }

void EntriesParser::end_entry() {
  std::vector<std::unique_ptr<Column>>& columns = table_.columns();
  for (size_t i = 0; i < columns.size(); ++i) {
    if (slot_[i]) {
      columns[i]->append_json(*slot_[i]);
    } else {
      columns[i]->append_na();
    }
  }
}

void EntriesParser::add_entry(const rapidjson::Value& entry) {
  start_entry();
  size_t position = 0;
  for (const auto& m : entry.GetObject()) {
    entry_member(position++, std::string_view(m.name.GetString(), m.name.GetStringLength()),
                 m.value);
  }
  end_entry();
}

void EntriesParser::add_non_entry(const rapidjson::Value& value) {
  // No row to blame: row 0 becomes NA in the problems table.
  if (!value.IsNull()) table_.problems().add(0, "", "entry object", describe_json(value));
}

// An unknown key is remembered for the warning. One that is not valid UTF-8
// cannot be a question's key as the definition spells it, nor a column name
// in R: it is remembered with its bad bytes escaped, and each of its values
// becomes a problem of the row that holds it, as text, so that it is not
// lost without a trace.
void EntriesParser::add_unknown_key(std::string_view key, const rapidjson::Value& value) {
  if (valid_text(key.data(), key.size())) {
    if (unknown_keys_.size() < kMaxUnknownKeys && !is_system_key(key)) {
      unknown_keys_.insert(std::string(key));
    }
    return;
  }
  const std::string shown = describe_text(key.data(), key.size());
  if (unknown_keys_.size() < kMaxUnknownKeys) unknown_keys_.insert(shown);
  table_.problems().add(table_.nrow() + 1, shown, "a key in UTF-8", describe_json(value));
}

void EntriesParser::add_entries(const rapidjson::Value& entries, PageMeta* meta) {
  for (const rapidjson::Value& entry : entries.GetArray()) {
    if (entry.IsObject()) {
      add_entry(entry);
      ++meta->n;
    } else {
      add_non_entry(entry);
    }
  }
}

void EntriesParser::reserve_for(const PageMeta& meta) {
  if (table_.nrow() == 0 && meta.total > 0) {
    table_.reserve(static_cast<size_t>(std::min(meta.total, kMaxReserve)));
  }
}

PageMeta EntriesParser::feed(const char* data, size_t len) {
  if (finished_) throw Error("argument", "This entries parser has already finished.");
  PageMeta meta;
  if (feed_sax(data, len, &meta)) return meta;
  return feed_dom(data, len);
}

PageMeta EntriesParser::feed_dom(const char* data, size_t len) {
  if (finished_) throw Error("argument", "This entries parser has already finished.");
  rapidjson::Document doc;
  parse_json_insitu(doc, &buffer_, data, len, "entries page");
  PageMeta meta;
  const rapidjson::Value* entries = nullptr;
  bool single = false;
  if (doc.IsArray()) {
    entries = &doc;
  } else if (doc.IsObject()) {
    const rapidjson::Value* body = json_member(doc, "data");
    const rapidjson::Value* errors = json_member(doc, "errors");
    if (body && body->IsArray()) {
      entries = body;
    } else if (body && body->IsObject()) {
      entries = json_member(*body, "entries");
      if (!entries || !entries->IsArray()) {
        throw Error("parse", "The entries page has no `data.entries` array.");
      }
      read_mapping(json_member(*body, "mapping"), &meta);
    } else if (errors && !body) {
      throw_error_body(doc, "entries");
    } else if (!body && looks_like_entry(doc)) {
      single = true;
    } else {
      throw Error("parse", "The JSON is not an entries page: it has no `data` with entries.");
    }
  } else {
    throw Error("parse", "The JSON is not an entries page: it is neither an object nor an array.");
  }
  read_meta(json_member(doc, "meta"), &meta);
  read_links(json_member(doc, "links"), &meta);
  reserve_for(meta);
  last_start_ = table_.nrow();
  if (single) {
    add_entry(doc);
    meta.n = 1;
  } else {
    add_entries(*entries, &meta);
  }
  return meta;
}

SEXP EntriesParser::finish() {
  if (finished_) throw Error("argument", "This entries parser has already finished.");
  finished_ = true;
  Rcpp::List out(table_.finish(FinishOptions{key_}));
  std::vector<std::string> unknown(unknown_keys_.begin(), unknown_keys_.end());
  Rcpp::List result = Rcpp::List::create(Rcpp::Named("columns") = out["columns"],
                                         Rcpp::Named("problems") = out["problems"],
                                         Rcpp::Named("unknown_keys") = r_strings(unknown));
  // The buffers are in R now; free them before the parser object is
  // collected, so that a large result is not held twice.
  hints_.clear();
  index_.clear();
  slot_.clear();
  buffer_ = std::vector<char>();
  table_ = Table({});
  return result;
}

SEXP EntriesParser::last_rows(const std::vector<std::string>& names) {
  if (finished_) throw Error("argument", "This entries parser has already finished.");
  std::vector<size_t> keep(table_.nrow() - last_start_);
  std::iota(keep.begin(), keep.end(), last_start_);
  std::vector<std::string> out_names;
  std::vector<Rcpp::RObject> values;
  for (const auto& column : table_.columns()) {
    bool wanted = std::find(names.begin(), names.end(), column->name()) != names.end();
    bool taken = std::find(out_names.begin(), out_names.end(), column->name()) != out_names.end();
    if (wanted && !taken) column->finish(&keep, &out_names, &values);
  }
  Rcpp::List out(values.size());
  for (size_t i = 0; i < values.size(); ++i) out[i] = values[i];
  out.attr("names") = r_strings(out_names);
  return out;
}

}  // namespace ec5

namespace {

ec5::EntriesParser* parser_pointer(SEXP parser) {
  if (TYPEOF(parser) != EXTPTRSXP || !Rf_inherits(parser, "ec5_entries_parser")) {
    throw ec5::Error("argument", "`parser` must come from entries_parser_new_cpp().");
  }
  auto* p = static_cast<ec5::EntriesParser*>(R_ExternalPtrAddr(parser));
  if (!p) throw ec5::Error("argument", "The entries parser is no longer valid.");
  return p;
}

}  // namespace

// [[Rcpp::export(rng = false)]]
SEXP entries_parser_new_cpp(SEXP spec, SEXP options) {
  EC5_BEGIN
  const ec5::TableOptions o = ec5::table_options(options);
  auto parser = std::make_unique<ec5::EntriesParser>(ec5::table_specs(spec, o),
                                                     ec5::key_column(o.branch));
  Rcpp::XPtr<ec5::EntriesParser> ptr(parser.release(), true);
  ptr.attr("class") = "ec5_entries_parser";
  return ptr;
  EC5_END
}

// [[Rcpp::export(rng = false)]]
SEXP entries_parser_feed_cpp(SEXP parser, SEXP json) {
  EC5_BEGIN
  ec5::EntriesParser* p = parser_pointer(parser);
  std::string_view text = ec5::json_input(json);
  ec5::PageMeta m = p->feed(text.data(), text.size());
  return Rcpp::List::create(
      Rcpp::Named("total") = ec5::r_count(m.total),
      Rcpp::Named("per_page") = ec5::r_count(m.per_page),
      Rcpp::Named("current_page") = ec5::r_count(m.current_page),
      Rcpp::Named("last_page") = ec5::r_count(m.last_page),
      Rcpp::Named("newest") = ec5::na_or_string(m.newest),
      Rcpp::Named("oldest") = ec5::na_or_string(m.oldest),
      Rcpp::Named("map_index") = ec5::r_count(m.map_index),
      Rcpp::Named("map_name") = ec5::na_or_string(m.map_name),
      Rcpp::Named("next") = ec5::na_or_string(m.next),
      Rcpp::Named("n") = static_cast<int>(m.n));
  EC5_END
}

// [[Rcpp::export(rng = false)]]
SEXP entries_parser_last_rows_cpp(SEXP parser, SEXP names) {
  EC5_BEGIN
  return parser_pointer(parser)->last_rows(Rcpp::as<std::vector<std::string>>(names));
  EC5_END
}

// [[Rcpp::export(rng = false)]]
SEXP entries_parser_finish_cpp(SEXP parser) {
  EC5_BEGIN
  return parser_pointer(parser)->finish();
  EC5_END
}
