# Benchmark: flattening entries pages into the typed table.
#
#   Rscript bench/flatten.R            # all cases and sizes
#   EC5_BENCH_SIZES=1000,10000 Rscript bench/flatten.R
#   EC5_BENCH_LIB=/tmp/lib-bench Rscript bench/flatten.R   # library to load
#   EC5_BENCH_METHODS=ec5,rapidjson EC5_BENCH_OUT=before.csv Rscript bench/flatten.R
#   EC5_BENCH_CASES=ec5-demo EC5_BENCH_CLOCK=cpu EC5_BENCH_CHUNKS=2 Rscript bench/flatten.R
#
# Compares, on the same pages (bench/pages.R):
#   ec5        ec5_parse_entries(pages, project)
#   ec5_strings  the same, then every string of the text columns read once
#              (they are made on first use: src/lazy_text.h)
#   jsonlite   jsonlite::fromJSON(page, flatten = TRUE) per page,
#              jsonlite::rbind_pages(), then the conversions to the same table
#   simdjson   RcppSimdJson::fparse(pages, query = "/data/entries"), rbind,
#              then the same conversions
#   rapidjson  the floor: RapidJSON parses each page into a Document (same
#              parse flags as the package) and nothing else
#   rapidjson_insitu  the same parse done in place with SSE2 string scans, as
#              the package parses pages since this benchmark
# Time: bench::mark() without memory profiling, in three rounds that
# alternate the methods (the C++ ones; jsonlite and simdjson run in the first
# round only); median and minimum over all iterations, GC included.
# Memory: a second bench::mark(memory = TRUE) run of one iteration
# (mem_alloc: R heap allocated in vectors of more than 128 bytes;
# small_pages: pages of small objects R had to add, about 2 kB each, a lower
# bound for the rest). Table size: utils::object.size() of the result (it
# counts each distinct string once per character vector), and the part of it
# bench can see (mem_alloc of a deep copy of the table).
# Writes bench/results/flatten.csv (one row per case, size and method;
# EC5_BENCH_RESULTS moves the folder, EC5_BENCH_OUT renames the file).

bench_dir <- Sys.getenv("EC5_BENCH_DIR", local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(file)) dirname(normalizePath(file)) else "bench"
}))
source(file.path(bench_dir, "common.R"))

# --- the floor: a bare RapidJSON parse ------------------------------------------

Rcpp::sourceCpp(code = '
// [[Rcpp::depends(rapidjsonr)]]
#include <Rcpp.h>
// As the package configures RapidJSON (src/json.h); SSE2 only changes the
// in-place parse.
#if defined(__SSE2__)
#define RAPIDJSON_SSE2
#endif
#include <rapidjson/document.h>
#include <vector>

const unsigned kFlags = rapidjson::kParseFullPrecisionFlag | rapidjson::kParseNanAndInfFlag |
                        rapidjson::kParseIterativeFlag;

// Parses every page into a Document with the flags the package uses and
// returns the number of entries seen: the floor.
// [[Rcpp::export]]
int rapidjson_parse(Rcpp::CharacterVector pages) {
  int n = 0;
  for (R_xlen_t i = 0; i < pages.size(); ++i) {
    SEXP s = STRING_ELT(pages, i);
    rapidjson::Document doc;
    doc.Parse<kFlags>(CHAR(s), LENGTH(s));
    if (doc.HasParseError()) Rcpp::stop("parse error");
    n += doc["data"]["entries"].Size();
  }
  return n;
}

// The same, parsed in place in a copy of each page, as the package now
// parses pages (src/json.h parse_json_insitu()).
// [[Rcpp::export]]
int rapidjson_parse_insitu(Rcpp::CharacterVector pages) {
  int n = 0;
  std::vector<char> buffer;
  for (R_xlen_t i = 0; i < pages.size(); ++i) {
    SEXP s = STRING_ELT(pages, i);
    buffer.assign(CHAR(s), CHAR(s) + LENGTH(s));
    buffer.resize(buffer.size() + 16, 0);
    rapidjson::Document doc;
    doc.ParseInsitu<kFlags>(buffer.data());
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
via_ec5_strings <- function(pages, project) read_every_string(ec5_parse_entries(pages, project))

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
# Iterations per round; the slow R paths run fewer times than the C++ ones.
iterations <- function(n, method) {
  slow <- method %in% c("jsonlite", "simdjson")
  if (n <= 1000) if (slow) 10L else 10L else if (n <= 10000) if (slow) 3L else 3L else 1L
}
rounds <- 3L

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
    jsonlite = if (grepl("jsonlite", Sys.getenv("EC5_BENCH_METHODS", "jsonlite"))) {
      same_table(table, via_jsonlite(pages, cs))
    } else "",
    simdjson = if (grepl("simdjson", Sys.getenv("EC5_BENCH_METHODS", "simdjson"))) {
      same_table(table, via_simdjson(pages, cs))
    } else ""
  )
  size <- as.numeric(utils::object.size(table))
  # What bench::mark() can see of the table: Rprofmem records vectors of more
  # than 128 bytes, not small strings nor short vectors (they come from
  # pages of small objects). A deep copy allocates exactly the table's
  # vectors (strings are shared, never copied).
  visible <- sum(bench::mark(rlang::duplicate(table, shallow = FALSE), iterations = 1,
                             memory = TRUE, check = FALSE)$mem_alloc)
  exprs <- list(
    ec5 = quote(via_ec5(pages, project)),
    ec5_strings = quote(via_ec5_strings(pages, project)),
    jsonlite = quote(via_jsonlite(pages, cs)),
    simdjson = quote(via_simdjson(pages, cs)),
    rapidjson = quote(rapidjson_parse(pages)),
    rapidjson_insitu = quote(rapidjson_parse_insitu(pages))
  )
  methods <- intersect(names(exprs), strsplit(
    Sys.getenv("EC5_BENCH_METHODS", paste(names(exprs), collapse = ",")), ","
  )[[1]])
  load <- readLines("/proc/loadavg")
  # Rounds alternate the methods, so that a busy spell of the (shared)
  # machine does not fall on one method only; the slow R paths run once.
  times <- stats::setNames(vector("list", length(methods)), methods)
  for (round in seq_len(rounds)) {
    for (method in methods) {
      if (round > 1L && method %in% c("jsonlite", "simdjson")) next
      gc()
      times[[method]] <- c(times[[method]], time_method(exprs[[method]], iterations(n, method)))
    }
  }
  rows <- lapply(methods, function(method) {
    gc()
    memory <- bench::mark(exprs = exprs[method], iterations = 1L, memory = TRUE,
                          check = FALSE, filter_gc = FALSE)
    t <- times[[method]]
    data.frame(
      project = case$slug, entries = n, columns = ncol(table), mb = mb, method = method,
      seconds = stats::median(t), min_seconds = min(t), runs = length(t),
      mb_per_s = mb / stats::median(t),
      mem_alloc_mb = as.numeric(memory$mem_alloc) / 1e6,
      small_pages = sum(memory$memory[[1]]$what == "new page"),
      table_mb = size / 1e6, table_visible_mb = as.numeric(visible) / 1e6,
      same_table = if (method %in% names(checks)) checks[[method]] else "",
      load = load,
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
      print(r[, c("method", "seconds", "min_seconds", "mb_per_s", "mem_alloc_mb", "table_mb", "table_visible_mb", "same_table")], digits = 3)
      results[[length(results) + 1L]] <- r
    }
  }
  results <- do.call(rbind, results)
  results_dir <- Sys.getenv("EC5_BENCH_RESULTS", file.path(bench_dir, "results"))
  dir.create(results_dir, showWarnings = FALSE, recursive = TRUE)
  out <- file.path(results_dir, Sys.getenv("EC5_BENCH_OUT", "flatten.csv"))
  utils::write.csv(results, out, row.names = FALSE)
  writeLines(paste(names(info), unlist(info), sep = ": "), sub("\\.csv$", "-machine.txt", out))
  summary_ratios(results)
}

# Ratios against the targets: ec5 >= 20x faster than jsonlite, faster than
# simdjson, within 2x of the raw parse; allocation within 1.5x of the table
# (object.size(), and the part of it bench::mark() can see).
summary_ratios <- function(results) {
  wide <- split(results, paste(results$project, results$entries))
  ratios <- do.call(rbind, lapply(wide, function(r) {
    t <- stats::setNames(r$seconds, r$method)
    methods <- c("ec5", "ec5_strings", "jsonlite", "simdjson", "rapidjson", "rapidjson_insitu")
    t <- t[methods]
    names(t) <- methods
    ec5 <- r[r$method == "ec5", ]
    data.frame(
      project = ec5$project, entries = ec5$entries,
      jsonlite_over_ec5 = t[["jsonlite"]] / t[["ec5"]],
      simdjson_over_ec5 = t[["simdjson"]] / t[["ec5"]],
      ec5_over_rapidjson = t[["ec5"]] / t[["rapidjson"]],
      ec5_over_rapidjson_insitu = t[["ec5"]] / t[["rapidjson_insitu"]],
      jsonlite_over_ec5_strings = t[["jsonlite"]] / t[["ec5_strings"]],
      ec5_strings_over_rapidjson = t[["ec5_strings"]] / t[["rapidjson"]],
      alloc_over_table = ec5$mem_alloc_mb / ec5$table_mb,
      alloc_over_visible_table = ec5$mem_alloc_mb / ec5$table_visible_mb
    )
  }))
  rownames(ratios) <- NULL
  print(ratios, digits = 3)
  invisible(ratios)
}

if (sys.nframe() == 0L) main()
