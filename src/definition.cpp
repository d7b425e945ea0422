#include "definition.h"

#include <cmath>
#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "error_body.h"
#include "glue.h"
#include "json.h"
#include "r_list.h"
#include "r_vectors.h"
#include "values.h"

namespace ec5 {

std::string auto_map_to(int n, const std::string& question) {
  // The bytes PHP's trim() strips.
  const std::string blanks(" \t\n\r\v\0", 6);
  std::string trimmed;
  size_t first = question.find_first_not_of(blanks);
  if (first != std::string::npos) {
    trimmed = question.substr(first, question.find_last_not_of(blanks) - first + 1);
  }
  std::string raw = std::to_string(n) + "_" + trimmed;
  std::string out;
  bool in_spaces = false;
  for (char c : raw) {
    if (c == ' ') {
      if (!in_spaces) out += '_';
      in_spaces = true;
      continue;
    }
    in_spaces = false;
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (keep) out += c;
  }
  return out.substr(0, 20);
}

namespace {

// Nesting deeper than this cannot come from the formbuilder (a branch may
// hold groups, nothing deeper); it is refused rather than recursed into.
const int kMaxDepth = 8;

// A string field; numbers as their text; anything else (and text that is not
// valid UTF-8) is NA.
OptString text_of(const rapidjson::Value* v) {
  if (!v) return std::nullopt;
  if (v->IsString()) {
    if (!valid_text(v->GetString(), v->GetStringLength())) return std::nullopt;
    return std::string(v->GetString(), v->GetStringLength());
  }
  if (v->IsNumber()) return describe_json(*v);
  return std::nullopt;
}

OptString field(const rapidjson::Value& object, const char* name) {
  return text_of(json_member(object, name));
}

// Text the server may send with HTML entities (question texts, possible
// answers and their mapped labels, API-NOTES.md §4.2), decoded.
OptString decoded(OptString text) {
  if (text && may_hold_entities(*text)) text = decode_entities(*text);
  return text;
}

OptString decoded_field(const rapidjson::Value& object, const char* name) {
  return decoded(field(object, name));
}

// A question's text as readable text: a readme is HTML (its markup stored as
// entities), every other question plain text with entities.
OptString question_text(const OptString& stored, const OptString& type) {
  if (type != "readme" || !stored) return decoded(stored);
  return html_to_text(*stored);
}

// A numeric bound (`min`, `max`): a number or numeric text; null, "" and
// anything else are no bound (NA).
double bound_of(const rapidjson::Value* v) {
  if (v && v->IsString()) {
    Number x;
    return parse_number_text(v->GetString(), v->GetStringLength(), &x) ? number_to_double(x) : NA_REAL;
  }
  return json_number_or(v, NA_REAL);
}

// PHP truthiness, as the server reads these flags: missing, null, false, 0,
// "" and "0" are false.
bool truthy(const rapidjson::Value* v) {
  if (!v || v->IsNull()) return false;
  if (v->IsBool()) return v->GetBool();
  if (v->IsNumber()) return v->GetDouble() != 0;
  if (v->IsString()) {
    std::string s(v->GetString(), v->GetStringLength());
    return !s.empty() && s != "0";
  }
  return true;
}

int int_of(const rapidjson::Value* v, int fallback) {
  double x = json_number_or(v, NA_REAL);
  if (!std::isfinite(x) || x != std::trunc(x) || std::fabs(x) > 2147483647.0) return fallback;
  return static_cast<int>(x);
}

// The members of an "object keyed by ref" that PHP sends as [] when empty.
// A key that is not UTF-8 text (or holds NUL) is no ref and could not become
// an R string (Rf_mkCharLenCE would long-jump out of C++): it is skipped.
template <class F>
void each_member(const rapidjson::Value* v, F f) {
  if (!v || !v->IsObject()) return;
  for (const auto& m : v->GetObject()) {
    if (!valid_text(m.name.GetString(), m.name.GetStringLength())) continue;
    f(std::string(m.name.GetString(), m.name.GetStringLength()), m.value);
  }
}

Rcpp::LogicalVector r_flags(const std::vector<bool>& x) {
  Rcpp::LogicalVector out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = x[i];
  return out;
}

Rcpp::IntegerVector r_ints(const std::vector<int>& x) {
  return Rcpp::IntegerVector(x.begin(), x.end());
}

Rcpp::NumericVector r_doubles(const std::vector<double>& x) {
  return Rcpp::NumericVector(x.begin(), x.end());
}

// --- the definition ------------------------------------------------------------

struct Answer {
  OptString ref, text;
};

struct Input {
  OptString ref, form_ref, parent_ref, branch_ref, type, question, datetime_format;
  // The question as stored: the server names columns from it, entities and all.
  OptString stored_question;
  double min = NA_REAL, max = NA_REAL;
  bool is_title = false, is_required = false;
  std::vector<Answer> answers;
};

struct Form {
  OptString ref, name, slug, parent_ref;
  int level = 0;
};

struct Definition {
  std::vector<Form> forms;
  std::vector<Input> inputs;
};

// Every input depth-first in definition order: a group or branch input comes
// before its children.
void read_inputs(const rapidjson::Value* inputs, const Form& form, const OptString& parent,
                 const OptString& branch, int depth, Definition* out) {
  if (!inputs || !inputs->IsArray()) return;
  if (depth > kMaxDepth) {
    throw Error("parse", "The project definition nests questions deeper than " +
                             std::to_string(kMaxDepth) + " levels.");
  }
  for (const rapidjson::Value& v : inputs->GetArray()) {
    if (!v.IsObject()) continue;
    Input in;
    in.ref = field(v, "ref");
    in.form_ref = form.ref;
    in.parent_ref = parent;
    in.branch_ref = branch;
    in.type = field(v, "type");
    in.stored_question = field(v, "question");
    in.question = question_text(in.stored_question, in.type);
    in.datetime_format = field(v, "datetime_format");
    in.min = bound_of(json_member(v, "min"));
    in.max = bound_of(json_member(v, "max"));
    in.is_title = truthy(json_member(v, "is_title"));
    in.is_required = truthy(json_member(v, "is_required"));
    const rapidjson::Value* answers = json_member(v, "possible_answers");
    if (answers && answers->IsArray()) {
      for (const rapidjson::Value& a : answers->GetArray()) {
        in.answers.push_back({field(a, "answer_ref"), decoded_field(a, "answer")});
      }
    }
    OptString type = in.type;
    OptString ref = in.ref;
    out->inputs.push_back(std::move(in));
    if (type == "group") {
      read_inputs(json_member(v, "group"), form, ref, branch, depth + 1, out);
    } else if (type == "branch") {
      read_inputs(json_member(v, "branch"), form, ref, ref, depth + 1, out);
    }
  }
}

Definition read_definition(const rapidjson::Value& project) {
  const rapidjson::Value* forms = json_member(project, "forms");
  if (!forms || !forms->IsArray()) {
    throw Error("parse", "The project definition has no `forms` array.");
  }
  Definition out;
  OptString parent;
  for (const rapidjson::Value& f : forms->GetArray()) {
    if (!f.IsObject()) continue;
    Form form;
    form.ref = field(f, "ref");
    form.name = field(f, "name");
    form.slug = field(f, "slug");
    form.parent_ref = parent;
    form.level = static_cast<int>(out.forms.size()) + 1;
    read_inputs(json_member(f, "inputs"), form, std::nullopt, std::nullopt, 0, &out);
    parent = form.ref;
    out.forms.push_back(std::move(form));
  }
  if (out.forms.empty()) throw Error("parse", "The project definition has no forms.");
  return out;
}

// --- mappings ------------------------------------------------------------------

struct Mapping {
  int map_index = 0;
  OptString name;
  bool is_default = false;
};

struct MappedInput {
  int map_index = 0;
  std::string input_ref;
  OptString map_to;
  bool hide = false;
  std::vector<std::pair<std::string, OptString>> answers;
};

struct Mappings {
  std::vector<Mapping> maps;
  std::vector<MappedInput> inputs;
  bool generated = false;
};

// One mapped input and, nested under it, its group and branch children.
void read_mapped_input(int map_index, const std::string& ref, const rapidjson::Value& v, int depth,
                       Mappings* out) {
  if (depth > kMaxDepth) {
    throw Error("parse", "The project mapping nests questions deeper than " +
                             std::to_string(kMaxDepth) + " levels.");
  }
  if (!v.IsObject()) return;
  MappedInput in;
  in.map_index = map_index;
  in.input_ref = ref;
  in.map_to = field(v, "map_to");
  in.hide = truthy(json_member(v, "hide"));
  each_member(json_member(v, "possible_answers"), [&in](const std::string& answer_ref, const rapidjson::Value& a) {
    in.answers.emplace_back(answer_ref, decoded_field(a, "map_to"));
  });
  out->inputs.push_back(std::move(in));
  for (const char* nested : {"group", "branch"}) {
    each_member(json_member(v, nested), [&](const std::string& child, const rapidjson::Value& c) {
      read_mapped_input(map_index, child, c, depth + 1, out);
    });
  }
}

void read_mapping(const rapidjson::Value& m, int fallback_index, Mappings* out) {
  if (!m.IsObject()) return;
  Mapping map;
  map.map_index = int_of(json_member(m, "map_index"), fallback_index);
  map.name = field(m, "name");
  map.is_default = truthy(json_member(m, "is_default"));
  out->maps.push_back(map);
  each_member(json_member(m, "forms"), [&](const std::string&, const rapidjson::Value& form) {
    each_member(&form, [&](const std::string& ref, const rapidjson::Value& v) {
      read_mapped_input(map.map_index, ref, v, 0, out);
    });
  });
}

// Exactly one default (API-NOTES.md §5.5): the first one flagged, else map 0, else
// the first map.
void normalise_default(std::vector<Mapping>* maps) {
  if (maps->empty()) return;
  size_t chosen = maps->size();
  for (size_t i = 0; i < maps->size() && chosen == maps->size(); ++i) {
    if ((*maps)[i].is_default) chosen = i;
  }
  for (size_t i = 0; i < maps->size() && chosen == maps->size(); ++i) {
    if ((*maps)[i].map_index == 0) chosen = i;
  }
  if (chosen == maps->size()) chosen = 0;
  for (size_t i = 0; i < maps->size(); ++i) (*maps)[i].is_default = i == chosen;
}

// EC5_AUTO as the server builds it when a project is saved: one counter over
// all forms, depth-first, counting group and branch inputs, skipping readme.
Mappings generate_mapping(const Definition& def) {
  Mappings out;
  out.generated = true;
  out.maps.push_back({0, std::string("EC5_AUTO"), true});
  int counter = 0;
  for (const Input& in : def.inputs) {
    if (in.type == "readme" || !in.ref) continue;
    MappedInput m;
    m.input_ref = *in.ref;
    m.map_to = auto_map_to(++counter, in.stored_question.value_or(""));
    for (const Answer& a : in.answers) {
      if (a.ref) m.answers.emplace_back(*a.ref, a.text);
    }
    out.inputs.push_back(std::move(m));
  }
  return out;
}

Mappings read_mappings(const rapidjson::Value* meta, const Definition& def) {
  Mappings out;
  const rapidjson::Value* pm = meta ? json_member(*meta, "project_mapping") : nullptr;
  if (pm && pm->IsArray()) {
    int i = 0;
    for (const rapidjson::Value& m : pm->GetArray()) read_mapping(m, i++, &out);
  } else if (pm && pm->IsObject()) {
    // A PHP array with a gap: keyed by map_index (API-NOTES.md §5.5).
    for (const auto& m : pm->GetObject()) {
      int key = int_of(&m.name, static_cast<int>(out.maps.size()));
      read_mapping(m.value, key, &out);
    }
  }
  if (out.maps.empty()) return generate_mapping(def);
  normalise_default(&out.maps);
  return out;
}

// --- to R ------------------------------------------------------------------------

SEXP project_list(const rapidjson::Value& project) {
  static const char* const keys[] = {
      "ref",        "name",        "slug",     "access",    "status",   "category",
      "visibility", "description", "small_description", "logo_url", "created_at", "homepage",
      "can_bulk_upload"};
  std::vector<std::string> names;
  Rcpp::List out(std::size(keys) + 1);
  size_t i = 0;
  for (const char* key : keys) {
    names.push_back(key);
    out[i++] = r_scalar(field(project, key));
  }
  std::vector<std::string> limit_refs;
  std::vector<OptString> limits;
  each_member(json_member(project, "entries_limits"), [&](const std::string& ref, const rapidjson::Value& v) {
    limit_refs.push_back(ref);
    limits.push_back(text_of(&v));
  });
  Rcpp::CharacterVector entries_limits = r_strings(limits);
  entries_limits.attr("names") = r_strings(limit_refs);
  names.push_back("entries_limits");
  out[i] = entries_limits;
  out.attr("names") = r_strings(names);
  return out;
}

SEXP forms_frame(const Definition& def) {
  std::vector<OptString> ref, name, slug, parent;
  std::vector<int> level;
  for (const Form& f : def.forms) {
    ref.push_back(f.ref);
    name.push_back(f.name);
    slug.push_back(f.slug);
    level.push_back(f.level);
    parent.push_back(f.parent_ref);
  }
  return data_frame({"ref", "name", "slug", "level", "parent_ref"},
                    Rcpp::List::create(r_strings(ref), r_strings(name), r_strings(slug),
                                       r_ints(level), r_strings(parent)),
                    def.forms.size(), false);
}

SEXP answers_frame(const std::vector<Answer>& answers) {
  std::vector<OptString> ref, text;
  for (const Answer& a : answers) {
    ref.push_back(a.ref);
    text.push_back(a.text);
  }
  return data_frame({"answer_ref", "answer"}, Rcpp::List::create(r_strings(ref), r_strings(text)),
                    answers.size(), true);
}

SEXP inputs_frame(const Definition& def) {
  size_t n = def.inputs.size();
  std::vector<OptString> ref(n), form_ref(n), parent(n), branch(n), type(n), question(n), format(n);
  std::vector<double> min(n), max(n);
  std::vector<bool> is_title(n), is_required(n);
  Rcpp::List answers(n);
  for (size_t i = 0; i < n; ++i) {
    const Input& in = def.inputs[i];
    ref[i] = in.ref;
    form_ref[i] = in.form_ref;
    parent[i] = in.parent_ref;
    branch[i] = in.branch_ref;
    type[i] = in.type;
    question[i] = in.question;
    format[i] = in.datetime_format;
    min[i] = in.min;
    max[i] = in.max;
    is_title[i] = in.is_title;
    is_required[i] = in.is_required;
    min[i] = in.min;
    max[i] = in.max;
    answers[i] = answers_frame(in.answers);
  }
  return data_frame({"ref", "form_ref", "parent_ref", "branch_ref", "type", "question",
                     "datetime_format", "min", "max", "is_title", "is_required",
                     "possible_answers"},
                    Rcpp::List::create(r_strings(ref), r_strings(form_ref), r_strings(parent),
                                       r_strings(branch), r_strings(type), r_strings(question),
                                       r_strings(format), r_doubles(min), r_doubles(max),
                                       r_flags(is_title), r_flags(is_required), answers),
                    n, false);
}

SEXP mappings_frame(const Mappings& m) {
  std::vector<int> index;
  std::vector<OptString> name;
  std::vector<bool> is_default;
  for (const Mapping& map : m.maps) {
    index.push_back(map.map_index);
    name.push_back(map.name);
    is_default.push_back(map.is_default);
  }
  return data_frame({"map_index", "name", "is_default"},
                    Rcpp::List::create(r_ints(index), r_strings(name), r_flags(is_default)),
                    m.maps.size(), false);
}

SEXP mapping_inputs_frame(const Mappings& m) {
  size_t n = m.inputs.size();
  std::vector<int> index(n);
  std::vector<std::string> ref(n);
  std::vector<OptString> map_to(n);
  std::vector<bool> hide(n);
  Rcpp::List answers(n);
  for (size_t i = 0; i < n; ++i) {
    const MappedInput& in = m.inputs[i];
    index[i] = in.map_index;
    ref[i] = in.input_ref;
    map_to[i] = in.map_to;
    hide[i] = in.hide;
    std::vector<std::string> answer_refs;
    std::vector<OptString> answer_map_to;
    for (const auto& a : in.answers) {
      answer_refs.push_back(a.first);
      answer_map_to.push_back(a.second);
    }
    Rcpp::CharacterVector named = r_strings(answer_map_to);
    named.attr("names") = r_strings(answer_refs);
    answers[i] = named;
  }
  return data_frame({"map_index", "input_ref", "map_to", "hide", "answers"},
                    Rcpp::List::create(r_ints(index), r_strings(ref), r_strings(map_to),
                                       r_flags(hide), answers),
                    n, false);
}

// form_counts / branch_counts: {ref: {count, first_entry_created,
// last_entry_created}} or [].
SEXP counts_frame(const rapidjson::Value* counts, const char* ref_name) {
  std::vector<std::string> ref;
  std::vector<double> count;
  std::vector<OptString> first, last;
  each_member(counts, [&](const std::string& r, const rapidjson::Value& v) {
    ref.push_back(r);
    count.push_back(json_number_or(json_member(v, "count"), NA_REAL));
    first.push_back(field(v, "first_entry_created"));
    last.push_back(field(v, "last_entry_created"));
  });
  return data_frame({ref_name, "count", "first_entry_created", "last_entry_created"},
                    Rcpp::List::create(r_strings(ref), r_doubles(count), r_strings(first),
                                       r_strings(last)),
                    ref.size(), false);
}

SEXP stats_list(const rapidjson::Value* meta) {
  const rapidjson::Value* s = meta ? json_member(*meta, "project_stats") : nullptr;
  auto number = [s](const char* key) { return json_number_or(s ? json_member(*s, key) : nullptr, NA_REAL); };
  return Rcpp::List::create(
      Rcpp::Named("total_entries") = number("total_entries"),
      Rcpp::Named("total_users") = number("total_users"),
      Rcpp::Named("total_files") = number("total_files"),
      Rcpp::Named("total_bytes") = number("total_bytes"),
      Rcpp::Named("form_counts") = counts_frame(s ? json_member(*s, "form_counts") : nullptr, "form_ref"),
      Rcpp::Named("branch_counts") =
          counts_frame(s ? json_member(*s, "branch_counts") : nullptr, "branch_ref"),
      Rcpp::Named("structure_last_updated") =
          r_scalar(s ? field(*s, "structure_last_updated") : std::nullopt));
}

}  // namespace

}  // namespace ec5

// [[Rcpp::export(rng = false)]]
SEXP definition_read_cpp(SEXP json) {
  EC5_BEGIN
  std::string_view text = ec5::json_input(json);
  rapidjson::Document doc;
  ec5::parse_json(doc, text.data(), text.size(), "project definition");
  const rapidjson::Value* body = ec5::json_member(doc, "data");
  const rapidjson::Value* project = body ? ec5::json_member(*body, "project") : nullptr;
  const rapidjson::Value* meta = ec5::json_member(doc, "meta");
  if (!project && ec5::json_member(doc, "forms")) project = &doc;
  if (!project || !project->IsObject()) {
    if (ec5::json_member(doc, "errors")) ec5::throw_error_body(doc, "a project definition");
    throw ec5::Error("parse", "The JSON is not a project definition: it has no `data.project`.");
  }
  ec5::Definition def = ec5::read_definition(*project);
  ec5::Mappings mappings = ec5::read_mappings(meta, def);
  return Rcpp::List::create(
      Rcpp::Named("project") = ec5::project_list(*project),
      Rcpp::Named("forms") = ec5::forms_frame(def),
      Rcpp::Named("inputs") = ec5::inputs_frame(def),
      Rcpp::Named("mappings") = ec5::mappings_frame(mappings),
      Rcpp::Named("mapping_inputs") = ec5::mapping_inputs_frame(mappings),
      Rcpp::Named("mapping_generated") = mappings.generated,
      Rcpp::Named("stats") = ec5::stats_list(meta));
  EC5_END
}
