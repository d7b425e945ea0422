# Prints the tables of bench/README.md from the CSV files in bench/results.
#
#   Rscript bench/report.R

bench_dir <- Sys.getenv("EC5_BENCH_DIR", local({
  args <- commandArgs(trailingOnly = FALSE)
  file <- sub("^--file=", "", args[startsWith(args, "--file=")])
  if (length(file)) dirname(normalizePath(file)) else "bench"
}))
results <- Sys.getenv("EC5_BENCH_RESULTS", file.path(bench_dir, "results"))

md_table <- function(df) {
  cells <- vapply(df, function(x) if (is.numeric(x)) format_number(x) else as.character(x),
                  character(nrow(df)))
  if (is.null(dim(cells))) cells <- matrix(cells, nrow = 1)
  lines <- c(
    paste0("| ", paste(names(df), collapse = " | "), " |"),
    paste0("|", paste(ifelse(vapply(df, is.numeric, TRUE), "---:", ":---"), collapse = "|"), "|"),
    apply(cells, 1, function(r) paste0("| ", paste(r, collapse = " | "), " |"))
  )
  cat(lines, sep = "\n")
  cat("\n")
}

format_number <- function(x) {
  ifelse(is.na(x), "", ifelse(abs(x) >= 100 | x == round(x), formatC(x, format = "f", digits = 0, big.mark = ","),
         formatC(x, format = "fg", digits = 3)))
}

flatten_tables <- function(r) {
  ms <- function(method) 1000 * r$seconds[r$method == method]
  key <- r[r$method == "ec5", ]
  cat("### Time (median, ms) and throughput\n\n")
  md_table(data.frame(
    project = key$project, entries = key$entries, MB = key$mb,
    ec5 = ms("ec5"), `ec5 MB/s` = key$mb_per_s,
    jsonlite = ms("jsonlite"), simdjson = ms("simdjson"),
    rapidjson = ms("rapidjson"), `rapidjson in situ` = ms("rapidjson_insitu"),
    check.names = FALSE
  ))
  cat("### Ratios against the targets\n\n")
  md_table(data.frame(
    project = key$project, entries = key$entries,
    `jsonlite / ec5 (>= 20)` = ms("jsonlite") / ms("ec5"),
    `simdjson / ec5 (> 1)` = ms("simdjson") / ms("ec5"),
    `ec5 / rapidjson (<= 2)` = ms("ec5") / ms("rapidjson"),
    `ec5 / in situ` = ms("ec5") / ms("rapidjson_insitu"),
    check.names = FALSE
  ))
  cat("### Memory (MB)\n\n")
  alloc <- function(method) r$mem_alloc_mb[r$method == method]
  md_table(data.frame(
    project = key$project, entries = key$entries,
    `table object.size` = key$table_mb, `table seen by bench` = key$table_visible_mb,
    `ec5 mem_alloc` = alloc("ec5"),
    `ec5 / seen (<= 1.5)` = alloc("ec5") / key$table_visible_mb,
    `ec5 / object.size` = alloc("ec5") / key$table_mb,
    `jsonlite mem_alloc` = alloc("jsonlite"), `simdjson mem_alloc` = alloc("simdjson"),
    check.names = FALSE
  ))
}

before_after <- function(before, after) {
  ratio <- function(r) {
    k <- r[r$method == "ec5", ]
    floor <- r[r$method == "rapidjson", ]
    data.frame(project = k$project, entries = k$entries, ms = 1000 * k$seconds,
               ratio = k$seconds / floor$seconds)
  }
  b <- ratio(before)
  a <- ratio(after)
  cat("### ec5 before and after the changes to src/\n\n")
  md_table(data.frame(
    project = b$project, entries = b$entries,
    `before ms` = b$ms, `before / rapidjson` = b$ratio,
    `after ms` = a$ms, `after / rapidjson` = a$ratio,
    check.names = FALSE
  ))
}

fetch_tables <- function(f) {
  md_table(data.frame(
    setup = f$setup, run = f$run,
    `E1 (min)` = paste0(f$entries_requests, " (", f$entries_minimum, ")"),
    `E2 (min)` = paste0(f$definition_requests, " (", f$definition_minimum, ")"),
    E6 = f$version_requests, `429` = f$status_429,
    `wall s` = f$wall_s, `E1 span s` = f$entries_span_s, `floor s` = f$floor_s,
    `RT s` = f$round_trip_s, `over floor s` = f$span_over_floor_s,
    `per window s` = f$per_window_s, target = ifelse(f$target_met, "met", "missed"),
    check.names = FALSE
  ))
}

main <- function() {
  after <- file.path(results, "flatten.csv")
  if (file.exists(after)) {
    cat("## Flattening\n\n")
    flatten_tables(utils::read.csv(after))
    before <- file.path(results, "flatten-before.csv")
    if (file.exists(before)) before_after(utils::read.csv(before), utils::read.csv(after))
  }
  for (path in list.files(results, pattern = "^fetch-[0-9.]+s[.]csv$", full.names = TRUE)) {
    cat("## Fetching:", basename(path), "\n\n")
    fetch_tables(utils::read.csv(path))
  }
}

main()
