// libFuzzer targets over the package's parsers, with R embedded (the parsers
// build R vectors). Built by tools/fuzz/run.sh with one of
//   -DEC5_FUZZ_DEFINITION  definition_read_cpp() on the input
//   -DEC5_FUZZ_ENTRIES     the entries flattener: the first byte selects a
//                          column spec, the rest is a page fed twice (the
//                          second copy exercises de-duplication); the SAX
//                          reader must give what the DOM reader gives
//   -DEC5_FUZZ_CSV         csv_open_cpp(), then type inference and conversion
//                          planned as R/csv.R plans them, from memory and
//                          again from a file read in blocks of 1 to 8 bytes,
//                          which must give the identical table or error
//   -DEC5_FUZZ_JSON        json_parse_cpp(), auth_token_parse_cpp() and
//                          error_body_cpp(), the readers of every other
//                          response body
//
// Each input runs inside R_ToplevelExec, inside the same kind of try/catch
// as the Rcpp glue. A finding (abort, which libFuzzer reports as a crash) is:
// a C++ exception escaping an entry point, an R error long-jumping out of one
// (it would skip C++ destructors), a failure of kind "internal" or "memory"
// (a non-ec5 exception caught by EC5_END), or a result that breaks the
// table's invariants. ASan and UBSan reports abort on their own.
//
// Needs R_HOME and EC5_FUZZ_SPECS (the specs.rds of tools/fuzz/corpus.R).
// EC5_FUZZ_GCTORTURE=1 runs R's garbage collector at every allocation
// (gctorture), which turns a missing PROTECT into a crash; it is slow, for
// replaying small inputs only.
#include <Rcpp.h>
#include <Rembedded.h>
#define R_INTERFACE_PTRS
#define CSTACK_DEFNS
#include <Rinterface.h>
#include <R_ext/Parse.h>

#include "entries.h"
#include "lazy_text.h"
#include "table_layout.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>

#include <unistd.h>

SEXP definition_read_cpp(SEXP json);
SEXP entries_parser_new_cpp(SEXP spec, SEXP options);
SEXP entries_parser_feed_cpp(SEXP parser, SEXP json);
SEXP entries_parser_finish_cpp(SEXP parser);
SEXP csv_open_cpp(SEXP input, double block);
SEXP csv_infer_cpp(SEXP handle, Rcpp::IntegerVector which);
SEXP csv_convert_cpp(SEXP handle, Rcpp::List plan, double size);
SEXP csv_finish_cpp(SEXP handle, std::string key, Rcpp::List problems);
SEXP csv_header_types_cpp(SEXP header);
SEXP table_layout_cpp();
SEXP json_parse_cpp(SEXP json);
SEXP auth_token_parse_cpp(SEXP body);
SEXP error_body_cpp(SEXP body);

namespace {

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "\n==ec5-fuzz== FINDING: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

// Evaluates R code at setup; any error is fatal.
SEXP eval_text(const char* code) {
  ParseStatus status;
  SEXP text = PROTECT(Rf_mkString(code));
  SEXP exprs = PROTECT(R_ParseVector(text, -1, &status, R_NilValue));
  if (status != PARSE_OK) finding(std::string("cannot parse setup code: ") + code);
  SEXP value = R_NilValue;
  for (R_xlen_t i = 0; i < Rf_xlength(exprs); ++i) {
    int error = 0;
    value = R_tryEval(VECTOR_ELT(exprs, i), R_GlobalEnv, &error);
    if (error) finding(std::string("R setup code failed: ") + code);
  }
  UNPROTECT(2);
  return value;
}

SEXP element(SEXP list, const char* name) {
  SEXP names = Rf_getAttrib(list, R_NamesSymbol);
  for (R_xlen_t i = 0; i < Rf_xlength(list); ++i) {
    if (std::strcmp(CHAR(STRING_ELT(names, i)), name) == 0) return VECTOR_ELT(list, i);
  }
  return R_NilValue;
}

// A failure value of EC5_END is fine when it is an ec5::Error; a caught
// non-ec5 exception means a bug surfaced as "internal".
bool failed(SEXP x, const char* where) {
  if (!Rf_inherits(x, "ec5_cpp_failure")) return false;
  std::string kind = CHAR(STRING_ELT(element(x, "kind"), 0));
  if (kind == "internal" || kind == "memory") {
    finding(std::string(where) + " failed with kind " + kind + ": " +
            CHAR(STRING_ELT(element(x, "message"), 0)));
  }
  return true;
}

// Every column of a finished table has `n` rows; problem rows are NA or in
// 1..n.
void check_table(SEXP columns, SEXP problems, R_xlen_t n, const char* where) {
  for (R_xlen_t j = 0; j < Rf_xlength(columns); ++j) {
    if (Rf_xlength(VECTOR_ELT(columns, j)) != n) {
      finding(std::string(where) + ": column " + std::to_string(j) + " has " +
              std::to_string(Rf_xlength(VECTOR_ELT(columns, j))) + " rows, not " +
              std::to_string(n));
    }
  }
  if (problems == R_NilValue) return;
  SEXP row = element(problems, "row");
  for (R_xlen_t i = 0; i < Rf_xlength(row); ++i) {
    int r = INTEGER(row)[i];
    if (r != NA_INTEGER && (r < 1 || r > n)) {
      finding(std::string(where) + ": problem row " + std::to_string(r) + " outside 1.." +
              std::to_string(n));
    }
  }
}

SEXP raw_vector(const uint8_t* data, size_t size) {
  SEXP x = Rf_allocVector(RAWSXP, static_cast<R_xlen_t>(size));
  if (size) std::memcpy(RAW(x), data, size);
  return x;
}

SEXP g_specs = R_NilValue;     // list of list(id, spec, options)
SEXP g_csv_plan = R_NilValue;  // data.frame name, type, format, levels

struct Input {
  const uint8_t* data;
  size_t size;
};

#if defined(EC5_FUZZ_DEFINITION)

void run_one(const Input& in) {
  SEXP json = PROTECT(raw_vector(in.data, in.size));
  failed(definition_read_cpp(json), "definition_read_cpp");
  UNPROTECT(1);
}

#elif defined(EC5_FUZZ_ENTRIES)

// What one feed gave: its meta, or its error.
std::string outcome(ec5::EntriesParser* p, bool dom, const uint8_t* data, size_t size) {
  try {
    const char* text = reinterpret_cast<const char*>(data);
    ec5::PageMeta m = dom ? p->feed_dom(text, size) : p->feed(text, size);
    return std::to_string(m.total) + " " + std::to_string(m.per_page) + " " +
           std::to_string(m.current_page) + " " + std::to_string(m.last_page) + " " +
           std::to_string(m.map_index) + " [" + m.newest + "] [" + m.oldest + "] [" +
           m.map_name + "] [" + m.next + "] " + std::to_string(m.n);
  } catch (const ec5::Error& e) {
    return std::string("error ") + e.kind() + ": " + e.what();
  }
}

// The page read twice by feed() and twice by feed_dom() (the reference):
// the same meta or error for each feed, an identical table.
void check_sax_against_dom(SEXP spec, const uint8_t* data, size_t size) {
  const ec5::TableOptions o = ec5::table_options(element(spec, "options"));
  ec5::EntriesParser sax(ec5::table_specs(element(spec, "spec"), o), ec5::key_column(o.branch));
  ec5::EntriesParser dom(ec5::table_specs(element(spec, "spec"), o), ec5::key_column(o.branch));
  for (int copy = 0; copy < 2; ++copy) {
    std::string a = outcome(&sax, false, data, size), b = outcome(&dom, true, data, size);
    if (a != b) finding("SAX and DOM readers differ: " + a + " / " + b);
  }
  SEXP a = PROTECT(sax.finish());
  SEXP b = PROTECT(dom.finish());
  if (!R_compute_identical(a, b, 16)) finding("SAX and DOM readers made different tables");
  UNPROTECT(2);
}

void run_one(const Input& in) {
  if (in.size == 0) return;
  SEXP spec = VECTOR_ELT(g_specs, in.data[0] % Rf_xlength(g_specs));
  SEXP parser = PROTECT(entries_parser_new_cpp(element(spec, "spec"), element(spec, "options")));
  if (failed(parser, "entries_parser_new_cpp")) finding("a fixture spec was refused");
  check_sax_against_dom(spec, in.data + 1, in.size - 1);
  SEXP page = PROTECT(raw_vector(in.data + 1, in.size - 1));
  int fed = 0;
  for (int copy = 0; copy < 2; ++copy) {
    SEXP meta = PROTECT(entries_parser_feed_cpp(parser, page));
    if (!failed(meta, "entries_parser_feed_cpp")) fed += INTEGER(element(meta, "n"))[0];
    UNPROTECT(1);
  }
  SEXP out = PROTECT(entries_parser_finish_cpp(parser));
  if (failed(out, "entries_parser_finish_cpp")) finding("finish failed");
  SEXP columns = element(out, "columns");
  R_xlen_t n = Rf_xlength(columns) ? Rf_xlength(VECTOR_ELT(columns, 0)) : 0;
  if (n > fed) finding("more rows than entries fed");
  check_table(columns, element(out, "problems"), n, "entries");
  // A spent parser refuses more pages.
  SEXP again = PROTECT(entries_parser_feed_cpp(parser, page));
  if (!failed(again, "entries_parser_feed_cpp")) finding("a finished parser took a page");
  UNPROTECT(4);
}

#elif defined(EC5_FUZZ_CSV)

// The plan R/csv.R makes: the questions of the fixture specs by their type,
// system columns and locations as the table layout types them, everything
// else as inferred.
SEXP make_plan(SEXP header, SEXP inferred) {
  static std::unordered_map<std::string, R_xlen_t> known;
  SEXP plan_name = element(g_csv_plan, "name");
  if (known.empty()) {
    for (R_xlen_t i = 0; i < Rf_xlength(plan_name); ++i) known.emplace(CHAR(STRING_ELT(plan_name, i)), i);
  }
  R_xlen_t n = Rf_xlength(header);
  SEXP layout = PROTECT(csv_header_types_cpp(header));
  if (failed(layout, "csv_header_types_cpp")) finding("the header was refused");
  SEXP type = PROTECT(Rf_allocVector(STRSXP, n));
  SEXP format = PROTECT(Rf_allocVector(STRSXP, n));
  SEXP levels = PROTECT(Rf_allocVector(VECSXP, n));
  SEXP min = PROTECT(Rf_allocVector(REALSXP, n));
  SEXP max = PROTECT(Rf_allocVector(REALSXP, n));
  for (R_xlen_t j = 0; j < n; ++j) {
    std::string name = CHAR(STRING_ELT(header, j));
    SET_STRING_ELT(type, j, STRING_ELT(element(inferred, "type"), j));
    SET_STRING_ELT(format, j, STRING_ELT(element(inferred, "format"), j));
    SET_VECTOR_ELT(levels, j, Rf_allocVector(STRSXP, 0));
    REAL(min)[j] = NA_REAL;
    REAL(max)[j] = NA_REAL;
    auto it = known.find(name);
    if (it != known.end()) {
      SET_STRING_ELT(type, j, STRING_ELT(element(g_csv_plan, "type"), it->second));
      SET_STRING_ELT(format, j, STRING_ELT(element(g_csv_plan, "format"), it->second));
      SET_VECTOR_ELT(levels, j, VECTOR_ELT(element(g_csv_plan, "levels"), it->second));
      REAL(min)[j] = REAL(element(g_csv_plan, "min"))[it->second];
      REAL(max)[j] = REAL(element(g_csv_plan, "max"))[it->second];
    }
    if (std::strcmp(CHAR(STRING_ELT(layout, j)), "infer") != 0) {
      SET_STRING_ELT(type, j, STRING_ELT(layout, j));
    }
  }
  SEXP plan = PROTECT(Rf_allocVector(VECSXP, 6));
  SET_VECTOR_ELT(plan, 0, header);
  SET_VECTOR_ELT(plan, 1, type);
  SET_VECTOR_ELT(plan, 2, format);
  SET_VECTOR_ELT(plan, 3, levels);
  SET_VECTOR_ELT(plan, 4, min);
  SET_VECTOR_ELT(plan, 5, max);
  SEXP names = PROTECT(Rf_allocVector(STRSXP, 6));
  const char* const plan_names[] = {"name", "type", "format", "levels", "min", "max"};
  for (int k = 0; k < 6; ++k) SET_STRING_ELT(names, k, Rf_mkChar(plan_names[k]));
  Rf_setAttrib(plan, R_NamesSymbol, names);
  UNPROTECT(8);
  return plan;
}

// The key R/csv.R picks: a branch's key when the header has it, else a
// form's; "" (no de-duplication) when it has neither.
std::string entry_key(SEXP header) {
  SEXP keys = PROTECT(table_layout_cpp());
  keys = element(keys, "keys");
  std::string key;
  for (const char* kind : {"form", "branch"}) {
    SEXP name = STRING_ELT(keys, std::strcmp(kind, "form") == 0 ? 0 : 1);
    for (R_xlen_t j = 0; j < Rf_xlength(header); ++j) {
      if (std::strcmp(CHAR(STRING_ELT(header, j)), CHAR(name)) == 0) key = CHAR(name);
    }
  }
  UNPROTECT(1);
  return key;
}

// Reads `input` (bytes or a path) as R/csv.R does, every column inferred
// unless the plan types it; checks the table's invariants and returns
// list(message) when the input is refused, else list(table, problems,
// converted, layout, ragged).
SEXP read_csv(SEXP input, double block, R_xlen_t size) {
  SEXP opened = PROTECT(csv_open_cpp(input, block));
  if (failed(opened, "csv_open_cpp")) return UNPROTECT(1), opened;
  SEXP handle = element(opened, "handle");
  SEXP header = element(opened, "header");
  SEXP which = PROTECT(Rf_allocVector(INTSXP, Rf_xlength(header)));
  for (R_xlen_t j = 0; j < Rf_xlength(header); ++j) INTEGER(which)[j] = static_cast<int>(j + 1);
  SEXP inferred = PROTECT(csv_infer_cpp(handle, which));
  if (failed(inferred, "csv_infer_cpp")) return UNPROTECT(3), inferred;
  SEXP plan = PROTECT(make_plan(header, inferred));
  SEXP read = PROTECT(csv_convert_cpp(handle, plan, static_cast<double>(size)));
  // The inference pass read the same bytes: conversion cannot refuse them.
  if (failed(read, "csv_convert_cpp")) finding("conversion failed");
  R_xlen_t n = static_cast<R_xlen_t>(REAL(element(read, "rows"))[0]);
  check_table(R_NilValue, element(inferred, "problems"), n, "csv_infer_cpp");
  SEXP finished = PROTECT(csv_finish_cpp(handle, entry_key(header), element(inferred, "problems")));
  if (failed(finished, "csv_finish_cpp")) finding("finishing failed");
  // Duplicated entries keep their last copy: no more rows than records.
  SEXP kept = element(finished, "columns");
  if (Rf_xlength(kept) != Rf_xlength(header)) finding("csv: columns and header differ");
  R_xlen_t rows = Rf_xlength(kept) ? Rf_xlength(VECTOR_ELT(kept, 0)) : 0;
  if (rows > n) finding("csv: more rows than records");
  check_table(kept, element(finished, "problems"), rows, "csv_finish_cpp");
  check_table(R_NilValue, element(finished, "converted"), n, "csv_finish_cpp");
  SEXP out = PROTECT(Rf_allocVector(VECSXP, 5));
  SET_VECTOR_ELT(out, 0, kept);
  SET_VECTOR_ELT(out, 1, element(finished, "problems"));
  SET_VECTOR_ELT(out, 2, element(finished, "converted"));
  SET_VECTOR_ELT(out, 3, element(read, "layout"));
  SET_VECTOR_ELT(out, 4, element(read, "ragged"));
  UNPROTECT(7);
  return out;
}

// The input read from memory, then from a file in small blocks: records
// cut anywhere by a block's end must read as they do whole.
void run_one(const Input& in) {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/ec5-fuzz-csv-" + std::to_string(getpid()) + ".csv";
  }();
  SEXP bytes = PROTECT(raw_vector(in.data, in.size));
  SEXP whole = PROTECT(read_csv(bytes, 1, static_cast<R_xlen_t>(in.size)));
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (in.size && std::fwrite(in.data, 1, in.size, f) != in.size) || std::fclose(f) != 0) {
    finding("cannot write " + path);
  }
  const double block = 1 + (in.size ? in.data[in.size - 1] % 8 : 0);
  SEXP file = PROTECT(Rf_mkString(path.c_str()));
  SEXP blocks = PROTECT(read_csv(file, block, static_cast<R_xlen_t>(in.size)));
  if (!R_compute_identical(whole, blocks, 16)) {
    finding("csv: the file read in blocks of " + std::to_string(static_cast<int>(block)) +
            " bytes differs from the same bytes read whole");
  }
  UNPROTECT(4);
}

#elif defined(EC5_FUZZ_JSON)

void run_one(const Input& in) {
  SEXP json = PROTECT(raw_vector(in.data, in.size));
  failed(json_parse_cpp(json), "json_parse_cpp");
  failed(auth_token_parse_cpp(json), "auth_token_parse_cpp");
  failed(error_body_cpp(json), "error_body_cpp");
  UNPROTECT(1);
}

#else
#error "Define EC5_FUZZ_DEFINITION, EC5_FUZZ_ENTRIES, EC5_FUZZ_CSV or EC5_FUZZ_JSON"
#endif

// Runs inside R_ToplevelExec: no C++ exception may leave it.
void run_protected(void* data) {
  try {
    run_one(*static_cast<const Input*>(data));
  } catch (const std::exception& e) {
    finding(std::string("uncaught C++ exception: ") + e.what());
  } catch (...) {
    finding("uncaught non-standard C++ exception (an R error inside Rcpp?)");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* specs = std::getenv("EC5_FUZZ_SPECS");
  if (!std::getenv("R_HOME") || !specs) {
    std::fprintf(stderr, "Set R_HOME and EC5_FUZZ_SPECS (see tools/fuzz/run.sh).\n");
    std::exit(2);
  }
  // R must not install its own signal handlers (the sanitizers own SIGSEGV)
  // nor check the C stack (ASan's frames are larger than R expects).
  R_SignalHandlers = 0;
  char arg0[] = "R", arg1[] = "--vanilla", arg2[] = "--silent", arg3[] = "--no-save";
  char* argv[] = {arg0, arg1, arg2, arg3};
  Rf_initEmbeddedR(4, argv);
  R_CStackLimit = static_cast<uintptr_t>(-1);
  // Text columns are ALTREP vectors of the package's class.
  lazy_text_init(R_getEmbeddingDllInfo());
  // Rcpp's header-only parts call into Rcpp.so through R_GetCCallable.
  eval_text("loadNamespace('Rcpp')");
  std::string load = std::string("readRDS('") + specs + "')";
  SEXP all = eval_text(load.c_str());
  R_PreserveObject(all);
  g_specs = element(all, "specs");
  g_csv_plan = element(all, "csv_plan");
  if (Rf_xlength(g_specs) == 0) finding("no specs in EC5_FUZZ_SPECS");
  const char* torture = std::getenv("EC5_FUZZ_GCTORTURE");
  if (torture && std::strcmp(torture, "1") == 0) eval_text("gctorture(TRUE)");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in{data, size};
  if (!R_ToplevelExec(run_protected, &in)) {
    finding("an R error long-jumped out of the C++ code (see the R message above)");
  }
  return 0;
}
