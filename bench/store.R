# Benchmark: the local copy in SQLite (R/store*.R).
#
#   EC5_BENCH_LIB=/tmp/lib-bench Rscript bench/store.R
#   EC5_BENCH_ROWS=100000 EC5_BENCH_CHANGED=1000 ...   (the defaults)
#
# The table: form Family Details of the large private survey
# (hinganghat-wardha-ddr, 121 columns: 97 radio, 8 checkbox, created_by),
# parsed by ec5_parse_entries() from pages the local server's own code
# generates (bench/pages.R). The server keeps generated entries in memory, so
# two chunks of 1000 entries are generated and repeated, each copy with its
# own uuids, up to EC5_BENCH_ROWS rows.
#
# Measured in EC5_BENCH_ROUNDS rounds (5) that alternate the cases, after a
# gc(): elapsed and CPU time (median over the rounds):
#   upsert    one sync's write of EC5_BENCH_CHANGED changed entries into the
#             copy: the transaction of store_sync() with store_upsert() and
#             the table's sync row, as ec5_sync() makes it (the fetch is not
#             included; bench/fetch.R measures fetching)
#   local     ec5_local() of the copy (the whole project: this table, and
#             the project's other tables, empty)
#   readRDS   readRDS() of the same tibble saved with saveRDS() (defaults)
# Writes bench/results/store.csv (EC5_BENCH_RESULTS moves the folder).

lib <- Sys.getenv("EC5_BENCH_LIB")
if (nzchar(lib)) .libPaths(c(lib, .libPaths()))
suppressPackageStartupMessages(library(epicollect5))

bench_dir <- Sys.getenv("EC5_BENCH_DIR", local({
  args <- commandArgs(trailingOnly = FALSE)
  file <- sub("^--file=", "", args[startsWith(args, "--file=")])
  if (length(file)) dirname(normalizePath(file)) else "bench"
}))
source(file.path(bench_dir, "pages.R"))

rows <- as.integer(Sys.getenv("EC5_BENCH_ROWS", "100000"))
changed <- as.integer(Sys.getenv("EC5_BENCH_CHANGED", "1000"))
slug <- "hinganghat-wardha-ddr"

project <- bench_project(slug)
chunks <- lapply(1:2, function(k) {
  suppressWarnings(ec5_parse_entries(chunk_body(slug, 1L, k), project))
})
one <- vctrs::vec_rbind(!!!chunks)
copies <- ceiling(rows / nrow(one))
table <- vctrs::vec_slice(one, rep(seq_len(nrow(one)), copies)[seq_len(rows)])
# Distinct uuids per copy: the copy number replaces the first 8 characters.
copy <- rep(seq_len(copies), each = nrow(one))[seq_len(rows)]
table$ec5_uuid <- paste0(sprintf("%08x", copy), substring(table$ec5_uuid, 9))
attr(table, "problems") <- attr(one, "problems")[0, ]
stopifnot(!anyDuplicated(table$ec5_uuid))
cat(sprintf("table: %s rows, %d columns\n", format(nrow(table), big.mark = ","), ncol(table)))

# The copy, written as a first sync writes it; the project's other tables
# (a second form, branches) are empty.
ns <- asNamespace("epicollect5")
base_url <- "https://five.epicollect.net"
dir <- tempfile("ec5-bench-store")
plan <- ns$project_data_plan(project, NULL, TRUE)
sql <- ns$store_table_names(slug, plan)
specs <- lapply(seq_len(nrow(plan)), function(i) ns$table_column_spec(project, plan[i, ]))
targets <- lapply(seq_len(nrow(plan)), function(i) ns$store_target(plan[i, ], sql[i], ns$store_prototype(specs[[i]])))
target <- targets[[1]]
store <- ns$store_open(NULL, dir, base_url, slug)
write_state <- function(i = 1L) {
  rows <- if (i == 1L) table else targets[[i]]$proto
  cursor <- if (nrow(rows)) max(rows$uploaded_at)
  ns$store_write_state(store, targets[[i]], plan$parent[i], i, cursor, "v1", Sys.time())
}
written <- system.time(ns$store_sync(store, {
  for (i in seq_len(nrow(plan))) {
    ns$store_replace(store, targets[[i]], if (i == 1L) table else targets[[i]]$proto, specs[[i]])
    write_state(i)
  }
  ns$store_write_project(store, project, "v1", Sys.time())
}))[["elapsed"]]
cat(sprintf("first write: %.1f s; file: %.0f MB; tables: %s\n", written, file.size(store$path) / 1e6,
            paste(plan$table, collapse = ", ")))

# Changed entries: `changed` stored rows with an edited title and answers.
edits <- vctrs::vec_slice(table, round(seq(1, nrow(table), length.out = changed)))
edits$title <- paste(edits$title, "(edited)")
factors <- names(edits)[vapply(edits, is.factor, TRUE)]
edits[[factors[1]]] <- rev(edits[[factors[1]]])
rds <- tempfile(fileext = ".rds")
saveRDS(table, rds)

# Rounds that alternate the three, so that each sees the same load of the
# shared machine; elapsed and CPU time (user + system of this process).
upsert <- function() {
  ns$store_sync(store, {
    ns$store_upsert(store, target, edits)
    write_state()
  })
}
cases <- list(
  upsert = upsert,
  local = function() ec5_local(slug, path = dir, base_url = base_url),
  readRDS = function() readRDS(rds)
)
rounds <- as.integer(Sys.getenv("EC5_BENCH_ROUNDS", "5"))
times <- do.call(rbind, lapply(seq_len(rounds), function(round) {
  do.call(rbind, lapply(names(cases), function(case) {
    gc()
    t <- system.time(cases[[case]]())
    data.frame(case = case, round = round, elapsed = t[["elapsed"]], cpu = t[["user.self"]] + t[["sys.self"]])
  }))
}))
ns$store_close(store)
back <- ec5_local(slug, path = dir, base_url = base_url)[[1]]
stopifnot(nrow(back) == nrow(table), identical(back$title[back$ec5_uuid %in% edits$ec5_uuid], edits$title))

median_by <- function(x) tapply(x, factor(times$case, names(cases)), stats::median)
out <- data.frame(
  case = names(cases), rows = nrow(table), columns = ncol(table), changed = changed,
  rounds = rounds,
  elapsed_s = round(as.numeric(median_by(times$elapsed)), 3),
  cpu_s = round(as.numeric(median_by(times$cpu)), 3),
  file_mb = round(file.size(file.path(dir, ns$server_key(base_url), paste0(slug, ".sqlite"))) / 1e6, 1),
  rds_mb = round(file.size(rds) / 1e6, 1),
  load = as.numeric(strsplit(readLines("/proc/loadavg"), " ")[[1]][1])
)
print(out)
results_dir <- Sys.getenv("EC5_BENCH_RESULTS", file.path(bench_dir, "results"))
dir.create(results_dir, showWarnings = FALSE)
utils::write.csv(out, file.path(results_dir, "store.csv"), row.names = FALSE)
ratio <- function(column) out[[column]][out$case == "local"] / out[[column]][out$case == "readRDS"]
cat(sprintf("ec5_local() / readRDS(): %.2f elapsed, %.2f CPU\n", ratio("elapsed_s"), ratio("cpu_s")))
unlink(c(dir, rds), recursive = TRUE)
