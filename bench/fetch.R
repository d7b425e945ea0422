# Benchmark: fetching against the rate limits, in scaled time.
#
#   Rscript bench/fetch.R
#   EC5_BENCH_WINDOW=6 Rscript bench/fetch.R      # window length in seconds
#   EC5_BENCH_LIB=/tmp/lib-bench Rscript bench/fetch.R
#   EC5_BENCH_WINDOW=60 EC5_BENCH_SETUPS=1 EC5_BENCH_RUNS=sync_full Rscript bench/fetch.R
#
# The local server (inst/server/app.R) runs in a subprocess with the production
# limits scaled in time: every window of 60 s becomes EC5_BENCH_WINDOW
# seconds (default 2), an hour becomes 60 times that; the client gets the same
# scaled limits through option epicollect5.rate_limits. For each setup the
# script runs, on a fresh server:
#   project_data  ec5_project_data(slug)            (new session: no cached definition)
#   sync_full     ec5_sync(slug) into an empty dir  (new session)
#   sync_new      ec5_sync(slug) after 3 entries were added and 2 edited (new session)
#   sync_nothing  ec5_sync(slug) again, nothing new (new session)
#   sync_nothing_same_session  once more, without clearing the session cache
#   trace         twelve paced entries requests timed on the client (pacing_trace())
# "New session" means the package's session cache of definitions is cleared
# first, as it would be in a scheduled job. Before every run the script waits
# one window, so the server's and the client's windows start empty.
#
# From the server's request log (GET /_test/log) it counts the requests by
# endpoint and the 429s, and compares them with the minimum the API allows:
# ceiling(rows / 1000) entries requests per form and branch (at least one),
# plus one definition request when the client has no current definition.
# The time from the first to the last entries request (the span) is compared
# with the floor the entries limit sets: (windows - 1) * window + (requests
# in the last window - 1) * round trip, where windows = ceiling(entries
# requests / 5) and a round trip is the median gap between two entries
# requests inside one window (server time, transfer and the client's
# flattening of one page); when five round trips outlast a window, the
# server's speed sets the floor instead (see floor_seconds()). Target: span
# within 5% of the floor plus one round trip.
# Writes bench/results/fetch-<window>s.csv, fetch-<window>s-log.csv and
# fetch-<window>s-trace.csv.

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
# The local server, loaded as ec5_demo_server() loads it.
component <- ns$server_component()
window <- as.numeric(Sys.getenv("EC5_BENCH_WINDOW", "2"))
per_window <- 5

# Production limits with every minute scaled to `window` seconds.
scaled_limits <- function() {
  k <- window / 60
  list(entries = c(5, 60 * k), project = c(5, 60 * k), media = c(10, 60 * k),
       token = c(10, 3600 * k), global = c(600, 60 * k))
}

# A form (and its branch) with light pages, so that the limits rather than
# the server set the pace; then a whole project of four forms and two
# branches.
setups <- function() {
  scale <- as.numeric(Sys.getenv("EC5_BENCH_ENTRIES_SCALE", "1"))
  out <- list(
    list(slug = "word-chars-test", entries = 12000L, label = "1 form + 1 branch, 12,000 entries"),
    list(slug = "test", entries = 3000L, label = "4 forms + 2 branches, 3,000 entries per form")
  )
  lapply(out, function(s) {
    s$entries <- as.integer(s$entries * scale)
    s
  })
}

start_server <- function(slug, entries) {
  limits <- do.call(component$srv_limits, c(list("production"), scaled_limits()))
  app <- component$srv_app(entries = stats::setNames(entries, slug), limits = limits)
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

# When the last of `n` entries requests can start, one round trip apart at
# best, five per window at most: a window opens with its first request and
# the sixth request waits for it to end. With 5 * rt < window this is
# (windows - 1) * window + (requests in the last window - 1) * rt; with slow
# pages the server's speed is the floor, (n - 1) * rt.
floor_seconds <- function(n, rt) {
  if (n < 2 || is.na(rt)) return(0)
  t <- 0
  opened <- 0
  for (i in seq_len(n - 1)) {
    t <- t + rt
    if (i %% per_window == 0) {
      t <- max(t, opened + window)
      opened <- t
    }
  }
  t
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
  sync <- function() ec5_sync(setup$slug, path = dir, base_url = url)
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
  wanted <- strsplit(Sys.getenv("EC5_BENCH_RUNS", paste(c(names(plan), "trace"), collapse = ",")),
                     ",")[[1]]
  runs <- lapply(plan[names(plan) %in% wanted], function(f) f())
  summary <- do.call(rbind, lapply(runs, `[[`, "summary"))
  log <- do.call(rbind, lapply(runs, `[[`, "log"))
  trace <- if ("trace" %in% wanted) cbind(setup = setup$label, pacing_trace(server, setup$slug))
  list(summary = cbind(setup = setup$label, summary), log = cbind(setup = setup$label, log),
       trace = trace)
}

# Twelve paced requests for pages of the top form, timed on the client:
# when each was called, how long the limiter held it, when it was done, and
# when the server logged it (the response was ready). The server's window
# opens when the first request of a window arrives; the gap between that and
# the client's own window start is what each window costs beyond the limit.
pacing_trace <- function(server, slug) {
  form_ref <- ec5_project(slug, base_url = server$url)$forms$ref[1]
  Sys.sleep(window + 0.5)
  fresh_client(new_session = FALSE)
  before <- nrow(server_log(server$url))
  start <- Sys.time()
  since <- function() as.numeric(Sys.time()) - as.numeric(start)
  trace <- do.call(rbind, lapply(1:12, function(page) {
    called <- since()
    resp <- ns$ec5_request(
      paste0(server$url, "/api/export/entries/", slug),
      query = list(form_ref = form_ref, per_page = 1000, page = page),
      pace = list(slug = slug, class = "entries")
    )
    data.frame(page = page, called_s = called, waited_s = resp$waited,
               sent_s = called + resp$waited, done_s = since(), status = resp$status)
  }))
  log <- server_log(server$url)
  log <- log[seq_len(nrow(log)) > before & log$endpoint == "entries", ]
  trace$logged_s <- as.numeric(log$time) - as.numeric(start)
  trace
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
  trace <- do.call(rbind, lapply(results, `[[`, "trace"))
  if (!is.null(trace)) {
    print(trace, digits = 3, row.names = FALSE)
    utils::write.csv(trace, paste0(stem, "-trace.csv"), row.names = FALSE)
  }
  invisible(summary)
}

if (sys.nframe() == 0L) main()
