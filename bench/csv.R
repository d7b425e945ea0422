# Benchmark: reading CSV exports.
#
#   EC5_BENCH_CHUNKS=2 Rscript bench/csv.R
#   EC5_BENCH_ROWS=20000 EC5_BENCH_LIB=/tmp/lib-bench Rscript bench/csv.R
#
# The files: the entries pages of bench/pages.R flattened by the package and
# written by ec5_write_csv() (the server's CSV layout), `rows` rows of the
# demo form and of the 121-column survey, cached in EC5_BENCH_CSV_CACHE
# (default /tmp/ec5-bench-csv-distinct; the files of earlier runs, in
# /tmp/ec5-bench-csv, repeated 2,000 entries per copy). Compares on the same file:
#   ec5       ec5_read_csv(file, project): typed from the definition, text
#             columns made on first use (src/lazy_text.h)
#   ec5_strings  the same, then every string of the text columns read once
#   readr     readr::read_csv(file, num_threads = 1): types guessed
#   vroom     vroom::vroom(file, col_types = all text, num_threads = 1,
#             altrep = FALSE): tokenizing only
#   read.csv  utils::read.csv(file)
# Time: bench::mark() in three rounds that alternate the methods (or CPU
# time with EC5_BENCH_CLOCK=cpu, bench/clock.R); median of all iterations. Writes bench/results/csv.csv (EC5_BENCH_OUT renames it).
# Peak memory of one read: EC5_BENCH_PEAK=<file> reads that file once with
# ec5 (EC5_BENCH_PEAK_METHOD to change) and exits, for `/usr/bin/time -v`.

bench_dir <- Sys.getenv("EC5_BENCH_DIR", local({
  file <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(file)) dirname(normalizePath(file)) else "bench"
}))
source(file.path(bench_dir, "common.R"))

csv_cache <- function() {
  dir <- Sys.getenv("EC5_BENCH_CSV_CACHE", "/tmp/ec5-bench-csv-distinct")
  dir.create(dir, showWarnings = FALSE, recursive = TRUE)
  dir
}

# A CSV export of `rows` entries: 10,000 entries flattened once, repeated with
# the second group of each uuid renumbered so that every entry is distinct
# (the first group numbers the page, bench/pages.R).
csv_file <- function(slug, rows) {
  path <- file.path(csv_cache(), sprintf("%s-%d.csv", slug, rows))
  if (file.exists(path)) return(path)
  base <- min(rows, 10000L)
  table <- ec5_parse_entries(bench_pages(slug, 1L, base), bench_project(slug))
  copies <- lapply(seq_len(ceiling(rows / base)), function(k) {
    copy <- table
    copy$ec5_uuid <- sub("^([0-9a-f]{8})-[0-9a-f]{4}", sprintf("\\1-%04x", k), copy$ec5_uuid)
    copy
  })
  all <- do.call(rbind, copies)[seq_len(rows), ]
  attributes(all) <- c(attributes(all)[c("names", "row.names", "class")],
                       attributes(table)[setdiff(names(attributes(table)),
                                                 c("names", "row.names", "class"))])
  ec5_write_csv(all, path)
  path
}

methods <- list(
  ec5 = function(path, project) ec5_read_csv(path, project),
  ec5_strings = function(path, project) read_every_string(ec5_read_csv(path, project)),
  readr = function(path, project) {
    readr::read_csv(path, num_threads = 1, show_col_types = FALSE, progress = FALSE,
                    lazy = FALSE)
  },
  vroom = function(path, project) {
    vroom::vroom(path, delim = ",", col_types = vroom::cols(.default = "c"),
                 num_threads = 1, altrep = FALSE, progress = FALSE)
  },
  read.csv = function(path, project) utils::read.csv(path)
)

run_case <- function(slug, rows) {
  project <- bench_project(slug)
  path <- csv_file(slug, rows)
  table <- suppressWarnings(methods$ec5(path, project))
  names <- intersect(names(methods), strsplit(
    Sys.getenv("EC5_BENCH_METHODS", paste(names(methods), collapse = ",")), ","
  )[[1]])
  times <- stats::setNames(vector("list", length(names)), names)
  iterations <- if (rows <= 20000) 3L else 1L
  for (round in 1:3) {
    for (m in names) {
      gc()
      f <- methods[[m]]
      times[[m]] <- c(times[[m]], time_method(quote(suppressWarnings(f(path, project))), iterations))
    }
  }
  data.frame(
    project = slug, rows = rows, columns = ncol(table),
    file_mb = file.size(path) / 1e6, table_mb = as.numeric(utils::object.size(table)) / 1e6,
    method = names, seconds = vapply(times, stats::median, 0),
    min_seconds = vapply(times, min, 0), runs = lengths(times),
    load = readLines("/proc/loadavg"), stringsAsFactors = FALSE
  )
}

peak <- Sys.getenv("EC5_BENCH_PEAK")
if (nzchar(peak)) {
  # One read and nothing else, for /usr/bin/time -v; "none" loads only.
  m <- Sys.getenv("EC5_BENCH_PEAK_METHOD", "ec5")
  slug <- Sys.getenv("EC5_BENCH_PEAK_SLUG", "hinganghat-wardha-ddr")
  project <- bench_project(slug)
  if (m != "none") {
    x <- suppressWarnings(methods[[m]](peak, project))
    message("table MB: ", round(as.numeric(utils::object.size(x)) / 1e6, 1))
  }
  quit(save = "no")
}

rows <- as.integer(strsplit(Sys.getenv("EC5_BENCH_ROWS", "20000,200000"), ",")[[1]])
results <- list()
for (n in rows) {
  for (slug in c("ec5-demo", "hinganghat-wardha-ddr")) {
    message(sprintf("%s, %d rows ...", slug, n))
    r <- run_case(slug, n)
    r$ratio_to_ec5 <- r$seconds / r$seconds[r$method == "ec5"]
    print(r[, c("method", "seconds", "min_seconds", "file_mb", "table_mb", "ratio_to_ec5")],
          digits = 3)
    results[[length(results) + 1L]] <- r
  }
}
results_dir <- Sys.getenv("EC5_BENCH_RESULTS", file.path(bench_dir, "results"))
dir.create(results_dir, showWarnings = FALSE, recursive = TRUE)
utils::write.csv(do.call(rbind, results),
                 file.path(results_dir, Sys.getenv("EC5_BENCH_OUT", "csv.csv")), row.names = FALSE)
