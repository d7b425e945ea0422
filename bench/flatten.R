# Benchmark: flattening entries pages into the typed table.
#
#   Rscript bench/flatten.R            # all cases and sizes
#   EC5_BENCH_SIZES=1000,10000 Rscript bench/flatten.R
#   EC5_BENCH_LIB=/tmp/lib-bench Rscript bench/flatten.R   # library to load
#
# Compares, on the same pages (bench/pages.R):
#   ec5        ec5_parse_entries(pages, project)
#   jsonlite   jsonlite::fromJSON(page, flatten = TRUE) per page,
#              jsonlite::rbind_pages(), then the conversions to the same table
#   simdjson   RcppSimdJson::fparse(pages, query = "/data/entries"), rbind,
#              then the same conversions
#   rapidjson  the floor: RapidJSON parses each page into a Document (same
#              parse flags as the package) and nothing else
# Time: bench::mark() without memory profiling (median of the iterations,
# GC included). Memory: a second bench::mark(memory = TRUE) run of one
# iteration (mem_alloc: R heap allocated). Table size: utils::object.size()
# of the result (it counts each distinct string once per character vector).
# Writes bench/results/flatten.csv (one row per case, size and method).

lib <- Sys.getenv("EC5_BENCH_LIB")
if (nzchar(lib)) .libPaths(c(lib, .libPaths()))
suppressPackageStartupMessages({
  library(epicollect5)
  library(bench)
})

bench_dir <- Sys.getenv("EC5_BENCH_DIR", local({
  args <- commandArgs(trailingOnly = FALSE)
  file <- sub("^--file=", "", args[startsWith(args, "--file=")])
  if (length(file)) dirname(normalizePath(file)) else "bench"
}))
source(file.path(bench_dir, "pages.R"))

# --- the floor: a bare RapidJSON parse ------------------------------------------

Rcpp::sourceCpp(code = '
// [[Rcpp::depends(rapidjsonr)]]
#include <Rcpp.h>
#include <rapidjson/document.h>

// Parses every page into a Document with the flags the package uses
// (src/json.h), and returns the number of entries seen.
// [[Rcpp::export]]
int rapidjson_parse(Rcpp::CharacterVector pages) {
  int n = 0;
  for (R_xlen_t i = 0; i < pages.size(); ++i) {
    SEXP s = STRING_ELT(pages, i);
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseFullPrecisionFlag | rapidjson::kParseNanAndInfFlag |
              rapidjson::kParseIterativeFlag>(CHAR(s), LENGTH(s));
    if (doc.HasParseError()) Rcpp::stop("parse error");
    n += doc["data"]["entries"].Size();
  }
  return n;
}
')

# --- what a user writes to reach the same table -------------------------------

# The column spec says which conversion each column needs (a user would read
# the same from the project definition).
r_date_format <- function(format) {
  format <- gsub("YYYY", "%Y", format, fixed = TRUE)
  format <- gsub("MM", "%m", format, fixed = TRUE)
  gsub("dd", "%d", format, fixed = TRUE)
}

full_date <- function(format) {
  !is.na(format) && all(vapply(c("dd", "MM", "YYYY"), grepl, TRUE, format, fixed = TRUE))
}

blank_na <- function(x) {
  x <- as.character(x)
  x[!is.na(x) & x == ""] <- NA_character_
  x
}

as_number <- function(x) suppressWarnings(as.numeric(blank_na(x)))

as_whole <- function(x) {
  x <- as_number(x)
  if (all(is.na(x) | abs(x) <= .Machine$integer.max)) as.integer(x) else x
}

as_time <- function(x) as.POSIXct(blank_na(x), format = "%Y-%m-%dT%H:%M:%OS", tz = "UTC")

as_answers <- function(x) {
  lapply(x, function(v) if (length(v)) blank_na(v) else character())
}

location_keys <- c(lat = "latitude", long = "longitude", accuracy = "accuracy",
                   UTM_Northing = "UTM_Northing", UTM_Easting = "UTM_Easting",
                   UTM_Zone = "UTM_Zone")

# The six parts of a location: flattened columns `name.key` (jsonlite), or a
# list of objects (RcppSimdJson).
location_columns <- function(df, name) {
  parts <- lapply(location_keys, function(key) {
    flat <- paste0(name, ".", key)
    if (flat %in% names(df)) {
      df[[flat]]
    } else {
      vapply(df[[name]], function(o) {
        v <- if (is.list(o)) o[[key]]
        if (is.null(v)) NA_character_ else as.character(v)
      }, "")
    }
  })
  out <- lapply(names(location_keys), function(k) {
    if (k == "UTM_Zone") blank_na(parts[[k]]) else as_number(parts[[k]])
  })
  stats::setNames(out, paste0(names(location_keys), "_", name))
}

question_column <- function(x, type, format, levels) {
  switch(type,
    integer = , branch = as_whole(x),
    decimal = as_number(x),
    date = if (full_date(format)) as.Date(blank_na(x), format = r_date_format(format)) else blank_na(x),
    radio = , dropdown = factor(blank_na(x), levels = unique(levels)),
    checkbox = , searchsingle = , searchmultiple = as_answers(x),
    blank_na(x)
  )
}

# The entries data frame (one column per JSON key) -> the typed tibble.
user_table <- function(df, cs) {
  spec <- cs$spec
  system <- c(
    if (cs$options$mode == "branch") c("ec5_branch_owner_uuid", "ec5_branch_uuid")
    else c("ec5_uuid", if (cs$options$child) "ec5_parent_uuid"),
    "created_at", "uploaded_at", if (cs$options$private) "created_by", "title"
  )
  out <- lapply(system, function(name) {
    if (name %in% c("created_at", "uploaded_at")) as_time(df[[name]]) else blank_na(df[[name]])
  })
  names(out) <- system
  for (i in seq_len(nrow(spec))) {
    name <- spec$name[i]
    if (spec$type[i] == "location") {
      parts <- location_columns(df, name)
      for (p in names(parts)) out[[p]] <- structure(parts[[p]], label = spec$label[i])
    } else {
      column <- question_column(df[[name]], spec$type[i], spec$format[i], spec$levels[[i]])
      out[[name]] <- structure(column, label = spec$label[i])
    }
  }
  key <- if (cs$options$mode == "branch") "ec5_branch_uuid" else "ec5_uuid"
  keep <- !duplicated(out[[key]], fromLast = TRUE)
  if (!all(keep)) out <- lapply(out, function(x) x[keep])
  tibble::new_tibble(out, nrow = sum(keep))
}

via_jsonlite <- function(pages, cs) {
  frames <- lapply(pages, function(p) jsonlite::fromJSON(p, flatten = TRUE)$data$entries)
  user_table(jsonlite::rbind_pages(frames), cs)
}

via_simdjson <- function(pages, cs) {
  frames <- RcppSimdJson::fparse(pages, query = "/data/entries")
  if (is.data.frame(frames)) frames <- list(frames)
  user_table(do.call(rbind, unname(frames)), cs)
}

via_ec5 <- function(pages, project) ec5_parse_entries(pages, project)

# --- checks: every path gives the same table --------------------------------------

same_table <- function(a, b) {
  a <- as.list(a)
  b <- as.list(b)
  if (!identical(names(a), names(b))) return("column names differ")
  bad <- names(a)[!vapply(names(a), function(n) isTRUE(all.equal(a[[n]], b[[n]])), TRUE)]
  if (length(bad)) paste("columns differ:", paste(bad, collapse = ", ")) else "same"
}

# --- run -----------------------------------------------------------------------------

sizes <- as.integer(strsplit(Sys.getenv("EC5_BENCH_SIZES", "1000,10000,100000"), ",")[[1]])
iterations <- function(n) if (n <= 1000) 10L else if (n <= 10000) 3L else 1L

machine <- function() {
  cpu <- grep("^model name", readLines("/proc/cpuinfo"), value = TRUE)[1]
  cxx <- system2(strsplit(system2(file.path(R.home("bin"), "R"), c("CMD", "config", "CXX17"),
                                  stdout = TRUE), " ")[[1]][1], "--version", stdout = TRUE)[1]
  list(
    nproc = system2("nproc", stdout = TRUE),
    cpu = sub("^model name\\s*:\\s*", "", cpu),
    r = R.version.string,
    compiler = cxx,
    flags = system2(file.path(R.home("bin"), "R"), c("CMD", "config", "CXX17FLAGS"), stdout = TRUE),
    load = readLines("/proc/loadavg")
  )
}

run_case <- function(case, n) {
  project <- bench_project(case$slug)
  cs <- epicollect5:::ec5_column_spec(project)
  pages <- bench_pages(case$slug, case$form, n)
  mb <- sum(nchar(pages, type = "bytes")) / 1e6
  table <- via_ec5(pages, project)
  checks <- c(
    jsonlite = same_table(table, via_jsonlite(pages, cs)),
    simdjson = same_table(table, via_simdjson(pages, cs))
  )
  size <- as.numeric(utils::object.size(table))
  exprs <- list(
    ec5 = quote(via_ec5(pages, project)),
    jsonlite = quote(via_jsonlite(pages, cs)),
    simdjson = quote(via_simdjson(pages, cs)),
    rapidjson = quote(rapidjson_parse(pages))
  )
  rows <- lapply(names(exprs), function(method) {
    gc()
    timing <- bench::mark(exprs = exprs[method], iterations = iterations(n), memory = FALSE,
                          check = FALSE, filter_gc = FALSE, time_unit = "s")
    gc()
    memory <- bench::mark(exprs = exprs[method], iterations = 1L, memory = TRUE,
                          check = FALSE, filter_gc = FALSE)
    data.frame(
      project = case$slug, entries = n, columns = ncol(table), mb = mb, method = method,
      seconds = as.numeric(timing$median), min_seconds = as.numeric(timing$min),
      iterations = iterations(n), mb_per_s = mb / as.numeric(timing$median),
      mem_alloc_mb = as.numeric(memory$mem_alloc) / 1e6, table_mb = size / 1e6,
      same_table = if (method %in% names(checks)) checks[[method]] else "",
      stringsAsFactors = FALSE
    )
  })
  do.call(rbind, rows)
}

main <- function() {
  info <- machine()
  message("Machine: ", paste(names(info), unlist(info), sep = " = ", collapse = "; "))
  results <- list()
  cases <- bench_cases()
  for (n in sizes) {
    for (i in seq_len(nrow(cases))) {
      message(sprintf("%s, %d entries ...", cases$slug[i], n))
      r <- run_case(cases[i, ], n)
      print(r[, c("method", "seconds", "mb_per_s", "mem_alloc_mb", "table_mb", "same_table")], digits = 3)
      results[[length(results) + 1L]] <- r
    }
  }
  results <- do.call(rbind, results)
  dir.create(file.path(bench_dir, "results"), showWarnings = FALSE, recursive = TRUE)
  out <- file.path(bench_dir, "results", Sys.getenv("EC5_BENCH_OUT", "flatten.csv"))
  utils::write.csv(results, out, row.names = FALSE)
  writeLines(paste(names(info), unlist(info), sep = ": "), sub("\\.csv$", "-machine.txt", out))
  summary_ratios(results)
}

# Ratios against the targets: ec5 >= 20x faster than jsonlite, faster than
# simdjson, within 2x of the raw parse; allocation within 1.5x of the table.
summary_ratios <- function(results) {
  wide <- split(results, paste(results$project, results$entries))
  ratios <- do.call(rbind, lapply(wide, function(r) {
    t <- stats::setNames(r$seconds, r$method)
    ec5 <- r[r$method == "ec5", ]
    data.frame(
      project = ec5$project, entries = ec5$entries,
      jsonlite_over_ec5 = t[["jsonlite"]] / t[["ec5"]],
      simdjson_over_ec5 = t[["simdjson"]] / t[["ec5"]],
      ec5_over_rapidjson = t[["ec5"]] / t[["rapidjson"]],
      alloc_over_table = ec5$mem_alloc_mb / ec5$table_mb
    )
  }))
  rownames(ratios) <- NULL
  print(ratios, digits = 3)
  invisible(ratios)
}

if (sys.nframe() == 0L) main()
