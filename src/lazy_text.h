// Text columns as R character vectors whose strings are made on first use
// (an ALTREP class, as vroom reads its text columns). Making R's strings is
// what a table of mostly distinct texts (keys, titles, names) costs most
// once it is parsed: one lookup in R's global string cache per value, and
// most values a new CHARSXP. A lazy column keeps the values in their
// StringStore; an element asked for alone is made alone, and the first
// request for the whole vector (vctrs, a database write), or a 1,001st
// single request (`x == "a"` reads every element), makes all of them once,
// through the same CharsxpCache an eager column would use, and frees the
// store.
//
// The vector behaves as a plain character vector in every other way: it can
// be modified, copied (a copy shares the store until either is made), and
// saveRDS() writes a plain character vector that needs no package to read.
#pragma once

#include <Rcpp.h>
#include <R_ext/Rdynload.h>

#include <memory>

#include "column.h"

namespace ec5 {

// A character vector of `values`, which the vector shares and never changes.
SEXP lazy_text(std::shared_ptr<const StringStore> values);

}  // namespace ec5

// Registers the class: R_init_epicollect5() calls it (RcppExports.cpp), and
// so does the fuzz harness, which embeds R (tools/fuzz/harness.cpp).
void lazy_text_init(DllInfo* dll);
