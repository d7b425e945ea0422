# Benchmark: fetching against the rate limits, in scaled time.
#
#   Rscript bench/fetch.R
#   EC5_BENCH_WINDOW=6 Rscript bench/fetch.R      # window length in seconds
#   EC5_BENCH_LIB=/tmp/lib-bench Rscript bench/fetch.R
#   EC5_BENCH_WINDOW=60 EC5_BENCH_SETUPS=1 EC5_BENCH_RUNS=sync_full Rscript bench/fetch.R
#
# The local server (R/server.R) runs in a subprocess with the production
# limits scaled in time: every window of 60 s becomes EC5_BENCH_WINDOW
# seconds (default 2), an hour becomes 60 times that; the client gets the same
# scaled limits through option epicollect5.rate_limits. For each setup the
# script runs, on a fresh server:
#   project_data  ec5_project_data(slug)            (new session: no cached definition)
#   sync_full     ec5_sync(slug) into an empty dir  (new session)
#   sync_new      ec5_sync(slug) after 3 entries were added and 2 edited (new session)
#   sync_nothing  ec5_sync(slug) again, nothing new (new session)
#   sync_nothing_same_session  once more, without clearing the session cache
# "New session" means the package's session cache of definitions is cleared
# first, as it would be in a scheduled job. Before every run the script waits
# one window, so the server's and the client's windows start empty.
#
# From the server's request log (GET /_test/log) it counts the requests by
# endpoint and the 429s, and compares them with the minimum the API allows:
# ceiling(rows / 1000) entries requests per form and branch (at least one),
# plus one definition request when the client has no current definition.
# Wall time is compared with the floor the entries limit sets:
# (windows - 1) * window + (requests in the last window - 1) * round trip,
# where windows = ceiling(entries requests / 5) and a round trip is the median
# gap between two entries requests inside one window (server time, transfer
# and the client's flattening of one page).
# Writes bench/results/fetch-<window>s.csv and fetch-<window>s-log.csv.

lib <- Sys.getenv("EC5_BENCH_LIB")
if (nzchar(lib)) {
  .libPaths(c(lib, .libPaths()))
  # The server subprocess must load the same installation.
  Sys.setenv(R_LIBS = paste(.libPaths(), collapse = .Platform$path.sep))
}
suppressPackageStartupMessages(library(epicollect5))

bench_dir <- Sys.getenv("EC5_BENCH_DIR", local({
  args <- commandArgs(trailingOnly = FALSE)
  file <- sub("^--file=", "", args[startsWith(args, "--file=")])
  if (length(file)) dirname(normalizePath(file)) else "bench"
}))

ns <- asNamespace("epicollect5")
window <- as.numeric(Sys.getenv("EC5_BENCH_WINDOW", "2"))
per_window <- 5

# Production limits with every minute scaled to `window` seconds.
scaled_limits <- function() {
  k <- window / 60
  list(entries = c(5, 60 * k), project = c(5, 60 * k), media = c(10, 60 * k),
       token = c(10, 3600 * k), global = c(600, 60 * k))
}

# One form with light pages, then a whole project of four forms and two
# branches.
setups <- function() {
  scale <- as.numeric(Sys.getenv("EC5_BENCH_ENTRIES_SCALE", "1"))
  out <- list(
    list(slug = "test-cleaning", entries = 12000L, label = "one form, 12,000 entries"),
    list(slug = "test", entries = 3000L, label = "4 forms + 2 branches, 3,000 entries per form")
  )
  lapply(out, function(s) {
    s$entries <- as.integer(s$entries * scale)
    s
  })
}

start_server <- function(slug, entries) {
  limits <- do.call(ns$ec5_server_limits, c(list("production"), scaled_limits()))
  app <- ns$ec5_server_app(entries = stats::setNames(entries, slug), limits = limits)
  process <- webfakes::new_app_process(app, opts = webfakes::server_opts(num_threads = 1))
  url <- sub("/$", "", process$url())
  # The server generates a project's entries at its first request; do it
  # now, through the admin API (neither logged nor throttled).
  admin(url, "GET", paste0("entries/", slug, "?form_ref=none"))
  list(process = process, url = url)
}

admin <- function(url, method, path, body = NULL) {
  resp <- ns$ec5_request(
    paste0(url, "/_test/", path), method = method,
    headers = if (!is.null(body)) "Content-Type: application/json",
    body = if (!is.null(body)) charToRaw(jsonlite::toJSON(body, auto_unbox = TRUE))
  )
  stopifnot(resp$status < 400L)
  jsonlite::fromJSON(rawToChar(resp$body), simplifyVector = TRUE)$data
}

server_log <- function(url) {
  log <- admin(url, "GET", "log")
  if (!length(log)) return(data.frame())
  log <- as.data.frame(log, stringsAsFactors = FALSE)
  log$time <- as.POSIXct(log$time, format = "%Y-%m-%dT%H:%M:%OS", tz = "UTC")
  log$endpoint <- ifelse(grepl("^/api/export/entries/", log$path), "entries",
                  ifelse(grepl("^/api/export/project/", log$path), "definition",
                  ifelse(grepl("^/api/project-version/", log$path), "version",
                  ifelse(grepl("^/api/oauth/token", log$path), "token", "other"))))
  log
}

fresh_client <- function(new_session) {
  ns$limiter_reset_cpp()
  if (new_session) ns$project_cache_clear()
}

# Median gap between consecutive entries requests inside one window: the
# time one page costs when nothing waits.
round_trip <- function(times) {
  if (length(times) < 2) return(NA_real_)
  gaps <- diff(as.numeric(times))
  inside <- seq_along(gaps) %% per_window != 0
  stats::median(gaps[inside])
}

floor_seconds <- function(n_requests, rt) {
  windows <- ceiling(n_requests / per_window)
  last <- n_requests - (windows - 1) * per_window
  (windows - 1) * window + (last - 1) * rt
}

table_rows <- function(x) vapply(x, nrow, integer(1))

run <- function(name, server, code, minimum_entries, minimum_definition, new_session,
                prepare = function() NULL) {
  prepare()
  Sys.sleep(window + 0.5)
  fresh_client(new_session)
  before <- nrow(server_log(server$url))
  wall <- system.time(result <- force(code()))[["elapsed"]]
  log <- server_log(server$url)
  log <- log[seq_len(nrow(log)) > before, ]
  entries <- log[log$endpoint == "entries" & log$status == 200L, ]
  rt <- round_trip(entries$time)
  span <- if (nrow(entries) > 1) as.numeric(diff(range(entries$time)), units = "secs") else 0
  floor <- floor_seconds(nrow(entries), rt)
  list(
    summary = data.frame(
      run = name,
      entries_requests = sum(log$endpoint == "entries"),
      entries_minimum = minimum_entries(result),
      definition_requests = sum(log$endpoint == "definition"),
      definition_minimum = minimum_definition,
      version_requests = sum(log$endpoint == "version"),
      token_requests = sum(log$endpoint == "token"),
      status_429 = sum(log$status == 429L),
      wall_s = wall,
      entries_span_s = span,
      round_trip_s = rt,
      floor_s = floor,
      span_over_floor_s = span - floor,
      per_window_s = if (nrow(entries) > per_window) {
        (span - floor) / (ceiling(nrow(entries) / per_window) - 1)
      } else NA_real_,
      target_s = 1.05 * floor + rt,
      target_met = span <= 1.05 * floor + rt,
      stringsAsFactors = FALSE
    ),
    log = if (nrow(log)) cbind(run = name, log[, c("time", "method", "endpoint", "path", "query", "status")])
  )
}

setup_runs <- function(setup) {
  server <- start_server(setup$slug, setup$entries)
  on.exit(server$process$stop())
  url <- server$url
  dir <- tempfile("ec5-bench-sync-")
  on.exit(unlink(dir, recursive = TRUE), add = TRUE)
  full_minimum <- function(x) sum(pmax(1, ceiling(table_rows(x) / 1000)))
  one_per_table <- function(x) length(x)
  sync <- function() ec5_sync(setup$slug, dir = dir, base_url = url)
  plan <- list(
    project_data = function() run("project_data", server, function() {
      ec5_project_data(setup$slug, base_url = url)
    }, full_minimum, 1L, new_session = TRUE),
    sync_full = function() run("sync_full", server, sync, full_minimum, 1L, new_session = TRUE),
    sync_new = function() run("sync_new", server, sync, one_per_table, 0L, new_session = TRUE,
                              prepare = function() add_and_edit(url, setup$slug)),
    sync_nothing = function() run("sync_nothing", server, sync, one_per_table, 0L, new_session = TRUE),
    sync_nothing_same_session = function() {
      run("sync_nothing_same_session", server, sync, one_per_table, 0L, new_session = FALSE)
    }
  )
  # The sync runs build on each other (same folder): a selection keeps the
  # order above.
  wanted <- strsplit(Sys.getenv("EC5_BENCH_RUNS", paste(names(plan), collapse = ",")), ",")[[1]]
  runs <- lapply(plan[names(plan) %in% wanted], function(f) f())
  summary <- do.call(rbind, lapply(runs, `[[`, "summary"))
  log <- do.call(rbind, lapply(runs, `[[`, "log"))
  list(summary = cbind(setup = setup$label, summary), log = cbind(setup = setup$label, log))
}

# Three new entries on the top form and two edits, uploaded "now".
add_and_edit <- function(url, slug) {
  for (i in 1:3) admin(url, "POST", paste0("entries/", slug), list(action = "add"))
  raw <- admin(url, "GET", paste0("entries/", slug))
  uuids <- raw$id[1:2]
  for (uuid in uuids) {
    admin(url, "POST", paste0("entries/", slug), list(action = "edit", uuid = uuid))
  }
}

main <- function() {
  options(
    epicollect5.rate_limits = scaled_limits(),
    epicollect5.verbose = FALSE,
    epicollect5.cache_dir = tempfile("ec5-bench-cache-")
  )
  message("Window: ", window, " s; limits: ",
          paste(names(scaled_limits()), vapply(scaled_limits(), paste, "", collapse = "/"),
                collapse = ", "))
  chosen <- setups()
  only <- Sys.getenv("EC5_BENCH_SETUPS")
  if (nzchar(only)) chosen <- chosen[as.integer(strsplit(only, ",")[[1]])]
  results <- lapply(chosen, function(setup) {
    message("Setup: ", setup$label)
    r <- setup_runs(setup)
    print(r$summary[, -1], digits = 3, row.names = FALSE)
    r
  })
  summary <- do.call(rbind, lapply(results, `[[`, "summary"))
  log <- do.call(rbind, lapply(results, `[[`, "log"))
  results_dir <- Sys.getenv("EC5_BENCH_RESULTS", file.path(bench_dir, "results"))
  dir.create(results_dir, showWarnings = FALSE, recursive = TRUE)
  stem <- file.path(results_dir, sprintf("fetch-%gs", window))
  utils::write.csv(summary, paste0(stem, ".csv"), row.names = FALSE)
  log$time <- format(log$time, "%H:%M:%OS3")
  utils::write.csv(log, paste0(stem, "-log.csv"), row.names = FALSE)
  invisible(summary)
}

if (sys.nframe() == 0L) main()
