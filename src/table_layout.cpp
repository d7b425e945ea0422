#include "table_layout.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <utility>

#include "glue.h"
#include "r_list.h"
#include "r_vectors.h"
#include "values.h"

namespace ec5 {

namespace {

struct TypeKind {
  const char* type;
  ColumnKind kind;
};

// Input types that are not text. A date is a Date only when its format has
// a day, a month and a year (column_kind()).
constexpr TypeKind kTypeKinds[] = {
    {"integer", ColumnKind::whole},     {"branch", ColumnKind::integer},
    {"decimal", ColumnKind::decimal},   {"date", ColumnKind::date},
    {"datetime", ColumnKind::datetime}, {"radio", ColumnKind::factor},
    {"dropdown", ColumnKind::factor},   {"checkbox", ColumnKind::list},
    {"searchsingle", ColumnKind::list}, {"searchmultiple", ColumnKind::list},
    {"location", ColumnKind::location},
};

// Inputs that make no column: a group's questions are columns, a readme is
// text for the person collecting.
constexpr const char* kNoColumnTypes[] = {"group", "readme"};

bool present(Presence p, const TableOptions& o) {
  switch (p) {
    case Presence::top_or_child_form:
      return !o.branch;
    case Presence::child_form:
      return !o.branch && o.child;
    case Presence::branch:
      return o.branch;
    case Presence::always:
      return true;
    case Presence::private_project:
      return o.is_private;
  }
  return false;
}

bool flag(SEXP options, const char* name) {
  SEXP x = list_elt(options, name);
  if (TYPEOF(x) != LGLSXP || Rf_xlength(x) != 1 || LOGICAL(x)[0] == NA_LOGICAL) {
    throw Error("argument", std::string("`options$") + name + "` must be TRUE or FALSE.");
  }
  return LOGICAL(x)[0] != 0;
}

bool branch_mode(SEXP options) {
  SEXP mode = list_elt(options, "mode");
  const std::string m =
      TYPEOF(mode) == STRSXP && Rf_xlength(mode) == 1 ? utf8_at(mode, 0) : std::string();
  if (m != "form" && m != "branch") {
    throw Error("argument", "`options$mode` must be \"form\" or \"branch\".");
  }
  return m == "branch";
}

SEXP spec_column(SEXP spec, const char* name, SEXPTYPE type) {
  SEXP x = list_elt(spec, name);
  if (static_cast<SEXPTYPE>(TYPEOF(x)) != type) {
    throw Error("argument", std::string("The column spec has no valid `") + name + "` column.");
  }
  return x;
}

// `min` or `max` of the spec: a double column, or none (no bounds).
SEXP spec_bounds(SEXP spec, const char* name) {
  SEXP x = list_elt(spec, name);
  return Rf_isNull(x) ? x : spec_column(spec, name, REALSXP);
}

double bound_at(SEXP bounds, R_xlen_t i) {
  return Rf_isNull(bounds) ? std::numeric_limits<double>::quiet_NaN() : REAL(bounds)[i];
}

}  // namespace

// The columns of `spec` after checking them: name, type, format, levels.
struct SpecColumns {
  SEXP name, type, format, levels, min, max;
  R_xlen_t n;
};

SpecColumns spec_columns(SEXP spec) {
  if (TYPEOF(spec) != VECSXP) throw Error("argument", "The column spec must be a data frame.");
  SpecColumns c{spec_column(spec, "name", STRSXP), spec_column(spec, "type", STRSXP),
                spec_column(spec, "format", STRSXP), spec_column(spec, "levels", VECSXP),
                spec_bounds(spec, "min"), spec_bounds(spec, "max"), 0};
  c.n = Rf_xlength(c.name);
  const bool bounds_fit = (Rf_isNull(c.min) || Rf_xlength(c.min) == c.n) &&
                          (Rf_isNull(c.max) || Rf_xlength(c.max) == c.n);
  if (Rf_xlength(c.type) != c.n || Rf_xlength(c.format) != c.n || Rf_xlength(c.levels) != c.n ||
      !bounds_fit) {
    throw Error("argument", "The columns of the column spec differ in length.");
  }
  return c;
}

std::vector<ColumnSpec> system_specs(const TableOptions& options) {
  std::vector<ColumnSpec> out;
  for (const SystemColumn& c : kSystemColumns) {
    if (!present(c.presence, options)) continue;
    ColumnSpec spec{c.name, c.type, "", {}};
    spec.placeholder = c.placeholder;
    out.push_back(std::move(spec));
  }
  return out;
}

bool is_system_key(std::string_view key) {
  return key == "ec5_branch_ref" ||
         std::any_of(kSystemColumns.begin(), kSystemColumns.end(),
                     [key](const SystemColumn& c) { return key == c.name; });
}

ColumnSpec location_part_spec(const LocationPart& part, const std::string& question) {
  return {part.prefix + question, part.type, "", {}};
}

const char* system_placeholder(std::string_view name) {
  for (const SystemColumn& c : kSystemColumns) {
    if (name == c.name) return c.placeholder;
  }
  return "";
}

bool bounded_within_int32(double min, double max) {
  // INT32_MIN is R's NA_integer_.
  return min > -2147483648.0 && max <= 2147483647.0 && min <= max;
}

ColumnKind column_kind(const ColumnSpec& spec) {
  const ColumnKind kind = column_kind(spec.type, spec.format);
  if (kind == ColumnKind::whole && bounded_within_int32(spec.min, spec.max)) return ColumnKind::integer;
  return kind;
}

ColumnKind column_kind(const std::string& type, const std::string& format) {
  for (const TypeKind& t : kTypeKinds) {
    if (type != t.type) continue;
    if (t.kind == ColumnKind::date && !is_full_date_format(format)) return ColumnKind::text;
    return t.kind;
  }
  return ColumnKind::text;
}

std::unique_ptr<Column> make_column(const ColumnSpec& spec, Problems* problems) {
  switch (column_kind(spec)) {
    case ColumnKind::integer:
      return integer_column(spec.name, problems, false);
    case ColumnKind::whole:
      return integer_column(spec.name, problems, true);
    case ColumnKind::decimal:
      return decimal_column(spec.name, problems);
    case ColumnKind::date:
      return date_column(spec.name, problems, spec.format);
    case ColumnKind::datetime:
      return datetime_column(spec.name, problems);
    case ColumnKind::factor:
      return factor_column(spec.name, problems, spec.levels);
    case ColumnKind::list:
      return list_column(spec.name, problems);
    case ColumnKind::location:
      return location_column(spec.name, problems);
    case ColumnKind::text:
      break;
  }
  // Times and partial dates keep their format: values must match it.
  const bool formatted = spec.type == "date" || spec.type == "time";
  return text_column(spec.name, problems, formatted ? spec.format : "", spec.placeholder);
}

TableOptions table_options(SEXP options) {
  TableOptions o;
  o.branch = branch_mode(options);
  o.child = flag(options, "child");
  o.is_private = flag(options, "private");
  return o;
}

const char* key_column(bool branch) { return branch ? "ec5_branch_uuid" : "ec5_uuid"; }

const char* link_column(bool branch) { return branch ? "ec5_branch_owner_uuid" : "ec5_parent_uuid"; }

std::vector<ColumnSpec> table_specs(SEXP spec, const TableOptions& options) {
  std::vector<ColumnSpec> out = system_specs(options);
  const SpecColumns c = spec_columns(spec);
  for (R_xlen_t i = 0; i < c.n; ++i) {
    ColumnSpec s{utf8_at(c.name, i), utf8_at(c.type, i), utf8_at(c.format, i), {}};
    s.min = bound_at(c.min, i);
    s.max = bound_at(c.max, i);
    SEXP lv = VECTOR_ELT(c.levels, i);
    if (TYPEOF(lv) == STRSXP) {
      for (R_xlen_t k = 0; k < Rf_xlength(lv); ++k) s.levels.push_back(utf8_at(lv, k));
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace ec5

// The rules of the table layout, for R: the system columns (name, type,
// placeholder) in the server's order, the key of a form's and of a branch's
// entries, the six parts of a location (prefix, member of the location
// object, type, label), the input types whose columns hold the labels of
// possible answers, those read as whole numbers, and those that make no column.
// [[Rcpp::export(rng = false)]]
SEXP table_layout_cpp() {
  EC5_BEGIN
  std::vector<std::string> sys_name, sys_type, sys_placeholder, prefix, member, part_type,
      part_label, choices,
      integers;
  const std::vector<std::string> no_column(std::begin(ec5::kNoColumnTypes),
                                           std::end(ec5::kNoColumnTypes));
  for (const ec5::SystemColumn& c : ec5::kSystemColumns) {
    sys_name.push_back(c.name);
    sys_type.push_back(c.type);
    sys_placeholder.push_back(c.placeholder);
  }
  for (const ec5::LocationPart& p : ec5::kLocationParts) {
    prefix.push_back(p.prefix);
    member.push_back(p.member);
    part_type.push_back(p.type);
    part_label.push_back(p.label);
  }
  for (const ec5::TypeKind& t : ec5::kTypeKinds) {
    if (t.kind == ec5::ColumnKind::factor || t.kind == ec5::ColumnKind::list) {
      choices.push_back(t.type);
    }
    if (t.kind == ec5::ColumnKind::integer || t.kind == ec5::ColumnKind::whole) {
      integers.push_back(t.type);
    }
  }
  Rcpp::CharacterVector keys = Rcpp::CharacterVector::create(
      Rcpp::Named("form") = ec5::key_column(false), Rcpp::Named("branch") = ec5::key_column(true));
  Rcpp::CharacterVector links = Rcpp::CharacterVector::create(
      Rcpp::Named("form") = ec5::link_column(false), Rcpp::Named("branch") = ec5::link_column(true));
  Rcpp::List system = Rcpp::List::create(ec5::r_strings(sys_name), ec5::r_strings(sys_type),
                                         ec5::r_strings(sys_placeholder));
  Rcpp::List location = Rcpp::List::create(ec5::r_strings(prefix), ec5::r_strings(member),
                                           ec5::r_strings(part_type), ec5::r_strings(part_label));
  return Rcpp::List::create(
      Rcpp::Named("system") =
          ec5::data_frame({"name", "type", "placeholder"}, system, sys_name.size(), false),
      Rcpp::Named("keys") = keys, Rcpp::Named("links") = links,
      Rcpp::Named("location") =
          ec5::data_frame({"prefix", "member", "type", "label"}, location, prefix.size(), false),
      Rcpp::Named("choice_types") = ec5::r_strings(choices),
      Rcpp::Named("integer_types") = ec5::r_strings(integers),
      Rcpp::Named("no_column_types") = ec5::r_strings(no_column));
  EC5_END
}

// The columns of the table a column spec makes, location parts expanded:
// name, type (of the builder), format and levels (as in the spec; NA and
// none for system columns and location parts), question (the spec row
// the column comes from, NA for system columns) and part (the member of a
// location part, NA for other columns).
// [[Rcpp::export(rng = false)]]
SEXP table_columns_cpp(SEXP spec, SEXP options) {
  EC5_BEGIN
  const ec5::TableOptions o = ec5::table_options(options);
  const std::vector<ec5::ColumnSpec> system = ec5::system_specs(o);
  const ec5::SpecColumns c = ec5::spec_columns(spec);
  std::vector<bool> location(static_cast<size_t>(c.n));
  size_t n = system.size();
  for (R_xlen_t i = 0; i < c.n; ++i) {
    location[i] = ec5::column_kind(ec5::utf8_at(c.type, i), ec5::utf8_at(c.format, i)) ==
                  ec5::ColumnKind::location;
    n += location[i] ? ec5::kLocationParts.size() : 1;
  }
  Rcpp::CharacterVector name(n), type(n), format(n);
  Rcpp::List levels(n);
  Rcpp::IntegerVector question(n, NA_INTEGER);
  Rcpp::CharacterVector part(n, NA_STRING);
  size_t row = 0;
  auto add = [&](const ec5::ColumnSpec& s, int q) {
    SET_STRING_ELT(name, row, ec5::r_string(s.name));
    SET_STRING_ELT(type, row, ec5::r_string(s.type));
    SET_STRING_ELT(format, row, NA_STRING);
    levels[row] = Rcpp::CharacterVector(0);
    question[row++] = q;
  };
  for (const ec5::ColumnSpec& s : system) add(s, NA_INTEGER);
  for (R_xlen_t i = 0; i < c.n; ++i) {
    const int q = static_cast<int>(i + 1);
    if (location[i]) {
      const std::string question_name = ec5::utf8_at(c.name, i);
      for (const ec5::LocationPart& p : ec5::kLocationParts) {
        SET_STRING_ELT(part, row, ec5::r_string(p.member));
        add(ec5::location_part_spec(p, question_name), q);
      }
      continue;
    }
    SET_STRING_ELT(name, row, STRING_ELT(c.name, i));
    SET_STRING_ELT(type, row, STRING_ELT(c.type, i));
    SET_STRING_ELT(format, row, STRING_ELT(c.format, i));
    SEXP lv = VECTOR_ELT(c.levels, i);
    levels[row] = TYPEOF(lv) == STRSXP ? Rcpp::RObject(lv)
                                       : Rcpp::RObject(Rcpp::CharacterVector(0));
    question[row++] = q;
  }
  return ec5::data_frame({"name", "type", "format", "levels", "question", "part"},
                         Rcpp::List::create(name, type, format, levels, question, part), n,
                         false);
  EC5_END
}

namespace {

// For each column of `names`, its part (1 to 6, in the order of
// kLocationParts) when it is one of six adjacent columns `lat_X` ...
// `UTM_Zone_X` (a complete location), else 0.
std::vector<int> header_location_parts(const std::vector<std::string>& names) {
  std::vector<int> parts(names.size(), 0);
  const std::string first = ec5::kLocationParts[0].prefix;
  const size_t width = ec5::kLocationParts.size();
  for (size_t j = 0; j + width <= names.size(); ++j) {
    if (names[j].compare(0, first.size(), first) != 0) continue;
    const std::string question = names[j].substr(first.size());
    bool complete = true;
    for (size_t k = 0; k < width && complete; ++k) {
      complete = names[j + k] == ec5::kLocationParts[k].prefix + question;
    }
    for (size_t k = 0; k < width && complete; ++k) parts[j + k] = static_cast<int>(k + 1);
  }
  return parts;
}

std::vector<std::string> header_names(SEXP header) {
  if (TYPEOF(header) != STRSXP) {
    throw ec5::Error("argument", "`header` must be a character vector.");
  }
  std::vector<std::string> names(static_cast<size_t>(Rf_xlength(header)));
  for (size_t j = 0; j < names.size(); ++j) names[j] = ec5::utf8_at(header, j);
  return names;
}

}  // namespace

// The builder type of each column of a CSV header that the layout alone
// decides: system columns, and complete locations (six adjacent columns
// `lat_X` ... `UTM_Zone_X`); "infer" for the others.
// [[Rcpp::export(rng = false)]]
SEXP csv_header_types_cpp(SEXP header) {
  EC5_BEGIN
  const std::vector<std::string> names = header_names(header);
  std::vector<std::string> types(names.size(), "infer");
  for (size_t j = 0; j < names.size(); ++j) {
    for (const ec5::SystemColumn& c : ec5::kSystemColumns) {
      if (names[j] == c.name) types[j] = c.type;
    }
  }
  const std::vector<int> parts = header_location_parts(names);
  for (size_t j = 0; j < names.size(); ++j) {
    if (parts[j] > 0) types[j] = ec5::kLocationParts[parts[j] - 1].type;
  }
  return ec5::r_strings(types);
  EC5_END
}

// The location part (1 to 6, as in kLocationParts) of each column of a
// header with export names, 0 for columns that are not part of a complete
// location.
// [[Rcpp::export(rng = false)]]
SEXP location_parts_cpp(SEXP header) {
  EC5_BEGIN
  const std::vector<int> parts = header_location_parts(header_names(header));
  return Rcpp::IntegerVector(parts.begin(), parts.end());
  EC5_END
}
