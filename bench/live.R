# Benchmark: reading a project that changes while it is read (issue 10).
#
#   EC5_BENCH_LIB=/tmp/lib-live Rscript bench/live.R
#   EC5_BENCH_LIB=/tmp/lib-main EC5_BENCH_SERVER_LIB=/tmp/lib-live Rscript bench/live.R
#
# The client is the epicollect5 installed in EC5_BENCH_LIB (an older version
# for the "before" figures); the local server (inst/server/) always comes from
# EC5_BENCH_SERVER_LIB (default: the same library), which must have the
# schedule of changes (POST /_test/schedule) and the server component's
# loader, server_component(). The server runs in its own R
# process with rate limits high enough that pacing does not matter here.
#
# Scenario (issue 10): a form of 6000 entries read in pages of 1000; 8
# entries of the first page edited after the first entries request, 3
# entries deleted and 5 added after the third. Runs:
#   quiet          ec5_entries() on the unchanged form (requests of a quiet project)
#   entries        ec5_entries() under the scenario
#   sync_first     ec5_sync() into an empty folder under the scenario
#   sync_next      the next, incremental ec5_sync() (nothing changes any more)
#   sync_nothing   once more: the cost of an up-to-date copy
# For each: rows of the form's table, lasting entries (there from start to
# end) missing from it, entries requests (all; those of the branch table
# included), and whether a warning was raised.
# Writes bench/results/live-<label>.csv (EC5_BENCH_LABEL, default "run").

client_lib <- Sys.getenv("EC5_BENCH_LIB")
server_lib <- Sys.getenv("EC5_BENCH_SERVER_LIB", client_lib)
label <- Sys.getenv("EC5_BENCH_LABEL", "run")
if (nzchar(client_lib)) .libPaths(c(client_lib, .libPaths()))
suppressPackageStartupMessages(library(epicollect5))

bench_dir <- Sys.getenv("EC5_BENCH_DIR", local({
  args <- commandArgs(trailingOnly = FALSE)
  file <- sub("^--file=", "", args[startsWith(args, "--file=")])
  if (length(file)) dirname(normalizePath(file)) else "bench"
}))

slug <- "word-chars-test"
n_entries <- as.integer(Sys.getenv("EC5_BENCH_ENTRIES", "6000"))
port <- 30000L + sample.int(20000L, 1)

# The server in its own process, loading the server library.
server <- callr::r_bg(function(lib, slug, n, port) {
  .libPaths(c(lib, .libPaths()))
  # The app's own process must load the same installation.
  Sys.setenv(R_LIBS = paste(.libPaths(), collapse = .Platform$path.sep))
  component <- epicollect5:::server_component()
  limits <- component$srv_limits("code", entries = c(1000, 1), project = c(1000, 1))
  app <- component$srv_app(entries = stats::setNames(n, slug), limits = limits)
  process <- webfakes::new_app_process(app, port = port, start = TRUE)
  repeat Sys.sleep(60)
}, args = list(lib = server_lib, slug = slug, n = n_entries, port = port))
on.exit(server$kill(), add = TRUE)
url <- sprintf("http://127.0.0.1:%d", port)
options(
  # The server builds the project's 6000 entries on the first request.
  timeout = 600,
  epicollect5.rate_limits = list(entries = c(1000, 1), project = c(1000, 1)),
  epicollect5.verbose = FALSE
)

# Admin calls and raw rows through R's own url(), no extra package.
admin_get <- function(path) {
  con <- url(paste0(url, "/_test/", path))
  on.exit(close(con))
  jsonlite::fromJSON(paste(readLines(con, warn = FALSE), collapse = "\n"), simplifyVector = FALSE)$data
}
admin_post <- function(path, body) {
  invisible(post_json(paste0(url, "/_test/", path), jsonlite::toJSON(body, auto_unbox = TRUE)))
}
# A POST over a plain socket (the same approach as the tests' srv_request()).
post_json <- function(target, json) {
  parts <- regmatches(target, regexec("^http://([^:/]+):([0-9]+)(/.*)$", target))[[1]]
  con <- socketConnection(parts[2], as.integer(parts[3]), blocking = TRUE, open = "r+b", timeout = 30)
  on.exit(close(con))
  body <- charToRaw(enc2utf8(as.character(json)))
  head <- sprintf(
    "POST %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
    parts[4], parts[2], parts[3], length(body)
  )
  writeBin(c(charToRaw(head), body), con)
  readBin(con, "raw", 1e6)
}

wait_for_server <- function() {
  for (i in 1:600) {
    ok <- tryCatch({
      admin_get("log")
      TRUE
    }, error = function(e) FALSE, warning = function(w) FALSE)
    if (ok) return(invisible())
    Sys.sleep(0.5)
  }
  stop("the local server did not start")
}

stored_uuids <- function() {
  raw <- admin_get(paste0("entries/", slug))
  body <- lapply(raw, `[[`, "entry")
  uploaded <- vapply(body, `[[`, "", "uploaded_at")
  vapply(body, `[[`, "", "entry_uuid")[order(uploaded, method = "radix")]
}

# Entries requests so far: all, and those of the branch table.
entries_requests <- function() {
  log <- admin_get("log")
  entries <- vapply(log, function(r) startsWith(r$path, "/api/export/entries/"), TRUE)
  branch <- vapply(log, function(r) grepl("branch_ref=", r$query, fixed = TRUE), TRUE)
  c(all = sum(entries), branch = sum(entries & branch))
}

schedule_scenario <- function(before) {
  edits <- lapply(2:9, function(i) list(action = "edit", uuid = before[i], title = paste("Edited", i)))
  admin_post(paste0("schedule/", slug), list(after = 1, changes = edits))
  deletes <- lapply(before[c(100, 1500, 2500)], function(u) list(action = "delete", uuid = u))
  adds <- rep(list(list(action = "add")), 5)
  admin_post(paste0("schedule/", slug), list(after = 3, changes = c(deletes, adds)))
}

measure <- function(run, before, code) {
  start <- entries_requests()
  warned <- FALSE
  table <- withCallingHandlers(code, warning = function(w) {
    warned <<- TRUE
    invokeRestart("muffleWarning")
  })
  after <- stored_uuids()
  lasting <- intersect(before, after)
  data.frame(
    run = run, label = label, version = as.character(utils::packageVersion("epicollect5")),
    rows = nrow(table), server_rows = length(after),
    missing = sum(!lasting %in% table$ec5_uuid),
    duplicated = anyDuplicated(table$ec5_uuid) > 0,
    requests = (entries_requests() - start)[["all"]],
    branch_requests = (entries_requests() - start)[["branch"]], warning = warned
  )
}

wait_for_server()
before <- stored_uuids()
dir <- tempfile("ec5-live-")
rows <- list(
  measure("quiet", before, ec5_entries(slug, base_url = url))
)
schedule_scenario(before)
rows[[2]] <- measure("entries", before, ec5_entries(slug, base_url = url))
before <- stored_uuids()
schedule_scenario(before)
rows[[3]] <- measure("sync_first", before, ec5_sync(slug, path = dir, base_url = url)[[1]])
before <- stored_uuids()
rows[[4]] <- measure("sync_next", before, ec5_sync(slug, path = dir, base_url = url)[[1]])
rows[[5]] <- measure("sync_nothing", before, ec5_sync(slug, path = dir, base_url = url)[[1]])
result <- do.call(rbind, rows)
print(result, row.names = FALSE)
out <- file.path(bench_dir, "results", paste0("live-", label, ".csv"))
dir.create(dirname(out), showWarnings = FALSE)
utils::write.csv(result, out, row.names = FALSE)
