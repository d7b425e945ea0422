# Shared by the fault, media, sync and secrets tests (test-api.R,
# test-media.R, test-sync.R, test-conditions.R).

# Retries and time-outs small enough that a fault costs a second, not minutes.
local_fast_retries <- function(.local_envir = parent.frame()) {
  withr::local_options(
    epicollect5.backoff = c(0.01, 0.05),
    epicollect5.timeout = 1,
    epicollect5.connect_timeout = 2,
    epicollect5.max_tries = 3,
    epicollect5.retry_after_cap = 2,
    .local_envir = .local_envir
  )
}

# The requests the server saw since `mark()` was last called: a counter over
# the server's log, so that tests need not reset the server (a reset also
# forgets tokens and runtime edits).
log_marker <- function(srv) {
  seen <- nrow(srv$log())
  function() {
    log <- srv$log()
    new <- log[seq_len(nrow(log)) > seen, , drop = FALSE]
    seen <<- nrow(log)
    new
  }
}

# A table without the time of its fetch, the one thing two fetches of the
# same data may differ in.
without_fetch_time <- function(x) {
  if (inherits(x, "ec5_project_data")) {
    tables <- lapply(unclass(x), without_fetch_time)
    attributes(tables) <- attributes(x)
    return(tables)
  }
  provenance <- attr(x, "provenance")
  provenance$fetched_at <- NULL
  attr(x, "provenance") <- provenance
  x
}

# Masks what differs between runs in error messages: the server's port and
# byte counts of cut-short transfers.
mask_run <- function(x) {
  x <- gsub("(127\\.0\\.0\\.1|localhost):[0-9]+", "<server>", x)
  gsub("[0-9]+ bytes remaining", "<n> bytes remaining", x)
}

# Requests of a log to a path prefix whose query matches `query`.
count_matching <- function(log, prefix, query = "") {
  sum(startsWith(log$path, prefix) & grepl(query, log$query))
}

# The entries queries of a log.
entries_queries <- function(log) log$query[startsWith(log$path, "/api/export/entries/")]

# A pattern for the second request of a quiet fetch: pages are asked for by
# number (R/paging.R), and the second is page 2.
second_request <- function(queries) {
  paste0(sub(".*(&page=[0-9]+)$", "\\1", queries[2]), "$")
}
