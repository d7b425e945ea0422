#include "lazy_text.h"

#include <R_ext/Altrep.h>
#include <R_ext/Rdynload.h>

#include <algorithm>
#include <utility>

#include "glue.h"

namespace {

using Shared = std::shared_ptr<const ec5::StringStore>;

R_altrep_class_t text_class;

// data1: an external pointer to a Lazy, cleared once the strings are made;
// data2: the made character vector, or NULL.
struct Lazy {
  Shared values;
  // Elements made one at a time so far. Printing reads a few rows and
  // RStudio's viewer pages of rows; past 1,000 (or the length of a shorter
  // vector) it is being read whole (`==`, is.na(), a loop), and all are
  // made at once, which costs less than making them one by one.
  R_xlen_t reads = 0;
  static constexpr R_xlen_t kSingles = 1000;
};

void release(SEXP holder) {
  auto* lazy = static_cast<Lazy*>(R_ExternalPtrAddr(holder));
  if (!lazy) return;
  R_ClearExternalPtr(holder);
  delete lazy;
}

SEXP wrap(Shared values) {
  auto owned = std::make_unique<Lazy>(Lazy{std::move(values)});
  SEXP holder = PROTECT(R_MakeExternalPtr(nullptr, R_NilValue, R_NilValue));
  R_RegisterCFinalizerEx(holder, release, FALSE);
  R_SetExternalPtrAddr(holder, owned.release());
  SEXP x = R_new_altrep(text_class, holder, R_NilValue);
  UNPROTECT(1);
  return x;
}

bool made(SEXP x) { return R_altrep_data2(x) != R_NilValue; }

Lazy& lazy(SEXP x) { return *static_cast<Lazy*>(R_ExternalPtrAddr(R_altrep_data1(x))); }

const ec5::StringStore& store(SEXP x) { return *lazy(x).values; }

// Every string at once, with the cache of an eager column. R has turned the
// garbage collector off for the methods that call this, and nothing here has
// a destructor to skip if R raises an error (out of memory).
SEXP make_all(SEXP x) {
  if (made(x)) return R_altrep_data2(x);
  const ec5::StringStore& values = store(x);
  const R_xlen_t n = static_cast<R_xlen_t>(values.size());
  SEXP out = PROTECT(Rf_allocVector(STRSXP, n));
  ec5::CharsxpCache cache;
  for (R_xlen_t i = 0; i < n; ++i) SET_STRING_ELT(out, i, values.charsxp(i, &cache));
  R_set_altrep_data2(x, out);
  UNPROTECT(1);
  release(R_altrep_data1(x));
  return out;
}

R_xlen_t text_length(SEXP x) {
  return made(x) ? XLENGTH(R_altrep_data2(x)) : static_cast<R_xlen_t>(store(x).size());
}

SEXP text_elt(SEXP x, R_xlen_t i) {
  if (made(x)) return STRING_ELT(R_altrep_data2(x), i);
  Lazy& l = lazy(x);
  const ec5::StringStore& values = *l.values;
  if (++l.reads > std::min(Lazy::kSingles, static_cast<R_xlen_t>(values.size()))) {
    return STRING_ELT(make_all(x), i);
  }
  return values.charsxp(static_cast<size_t>(i), nullptr);
}

void text_set_elt(SEXP x, R_xlen_t i, SEXP v) { SET_STRING_ELT(make_all(x), i, v); }

void* text_dataptr(SEXP x, Rboolean) {
  return const_cast<SEXP*>(STRING_PTR_RO(make_all(x)));
}

const void* text_dataptr_or_null(SEXP x) {
  return made(x) ? STRING_PTR_RO(R_altrep_data2(x)) : nullptr;
}

// A copy shares the store (it never changes); a made vector is copied by R.
SEXP text_duplicate(SEXP x, Rboolean) {
  if (made(x)) return nullptr;
  try {
    return wrap(lazy(x).values);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

}  // namespace

namespace ec5 {

SEXP lazy_text(std::shared_ptr<const StringStore> values) { return wrap(std::move(values)); }

}  // namespace ec5

// [[Rcpp::init]]
void lazy_text_init(DllInfo* dll) {
  text_class = R_make_altstring_class("ec5_text", "epicollect5", dll);
  R_set_altrep_Length_method(text_class, text_length);
  R_set_altrep_Duplicate_method(text_class, text_duplicate);
  R_set_altvec_Dataptr_method(text_class, text_dataptr);
  R_set_altvec_Dataptr_or_null_method(text_class, text_dataptr_or_null);
  R_set_altstring_Elt_method(text_class, text_elt);
  R_set_altstring_Set_elt_method(text_class, text_set_elt);
}

// What a character vector is, for the tests: "lazy" (no string made yet),
// "materialised", or "plain" (not a lazy text vector).
// [[Rcpp::export(rng = false)]]
SEXP lazy_text_state_cpp(SEXP x) {
  EC5_BEGIN
  const char* state = "plain";
  if (ALTREP(x) && R_altrep_inherits(x, text_class)) state = made(x) ? "materialised" : "lazy";
  return Rf_mkString(state);
  EC5_END
}
