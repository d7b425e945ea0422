#' Keep a local copy of a project up to date
#'
#' The first call downloads every form and branch of a project (like
#' [ec5_project_data()], safe against changes during the fetch, see
#' [ec5_entries()]) into a database: by default an SQLite file under `path`,
#' or any DBI connection `con` (for example a PostgreSQL database a team
#' shares). Later calls ask the server only for entries uploaded or edited
#' since the newest one already stored (`uploaded_at`, inclusive) and upsert
#' them: new entries are added and edited ones replaced, and nothing else is
#' written. [ec5_local()] reads the copy without the network.
#'
#' Each later call starts with one request per form and branch for the 100
#' newest entries of the table, which also brings the table's count. When
#' the oldest of them is older than the stored copy's newest entry, they hold
#' every change and that request is all a sync costs (no definition request
#' either): an up-to-date copy costs one entries request per table, which
#' downloads up to 100 entries each. With more than 100 changes, the rest is
#' read from the newest stored entry on, one request more than a sync that
#' skipped the first.
#'
#' The API does not report deletions, so the copy's row count is compared
#' with the server's count: when the server holds fewer (entries deleted,
#' with their child entries, branch entries and media) or more (entries the
#' copy lacks), the table is fetched again in full, the deleted entries are
#' counted in `changes`, and a message says how many (unless
#' `options(epicollect5.verbose = FALSE)`). A change of the project's
#' structure (new questions, renamed columns) rebuilds the project's tables;
#' `full = TRUE` forces a full fetch.
#'
#' A sync is one database transaction: every table, the cursors and the
#' definition are updated together or not at all, so an interrupted sync
#' (an error, a lost connection, a killed process) leaves the previous copy
#' whole, and the next run resumes from it. Two syncs of one project into
#' one database wait for each other (up to
#' `getOption("epicollect5.lock_timeout")`, 600 seconds). The tables are
#' described in `vignette("shared-copy")`.
#'
#' @inheritParams ec5_project_data
#' @param con A DBI connection to the database that holds the copy, or
#'   `NULL` for an SQLite file per project under `path`.
#' @param full Whether to fetch everything again instead of only what is new.
#' @param path The folder of the SQLite copies (when `con` is `NULL`); see
#'   [ec5_cache_dir()].
#' @return An `ec5_project_data` object as [ec5_local()] reads it after the
#'   sync, with an extra attribute `changes`: a tibble with one row per
#'   table and columns `table`, `inserted`, `updated`, `deleted` (entries
#'   gone from the server since the last sync), `rows` and `full` (whether
#'   the table was fetched in full).
#' @seealso [ec5_local()], [ec5_tbl()], [ec5_cache_info()], [ec5_cache_clear()].
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE)
#' url <- ec5_demo_server()
#' path <- tempfile("ec5-sync")
#' x <- ec5_sync("ec5-demo", path = path, base_url = url)
#' attr(x, "changes")
#' # Nothing new: one request per table, nothing inserted or deleted.
#' attr(ec5_sync("ec5-demo", path = path, base_url = url), "changes")
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_sync <- function(slug, con = NULL, full = FALSE, auth = NULL,
                     base_url = ec5_base_url(), path = ec5_cache_dir(),
                     col_names = getOption("epicollect5.col_names", "export")) {
  col_names <- check_col_names(col_names)
  base_url <- check_base_url(base_url)
  slug <- check_slug(slug, base_url)
  check_store_args(con, path)
  check_bool(full)
  auth <- resolve_auth(auth, base_url)
  call <- rlang::current_env()
  store <- store_open(con, path, base_url, slug)
  on.exit(store_close(store))
  changes <- store_sync(store, sync_project_tables(store, slug, full, auth, base_url, call))
  out <- store_try(store_read_project(store, call, col_names), "read", store_where(store), call)
  attr(out, "changes") <- changes
  out
}

# Inside the sync's transaction: the definition, then every table, then the
# definition's record, which a later sync compares with the server's version.
sync_project_tables <- function(store, slug, full, auth, base_url, call) {
  stored <- store_project(store)
  project <- sync_project(stored, slug, auth, base_url, call)
  full <- full || !identical(stored$version, project$version)
  plan <- project_data_plan(project$project, NULL, TRUE)
  sql <- store_table_names(slug, plan)
  store_drop_tables(store, keep = sql)
  state <- store_tables(store)
  now <- Sys.time()
  targets <- list()
  changes <- lapply(seq_len(nrow(plan)), function(i) {
    change <- sync_table(store, plan[i, ], sql[i], i, state, slug, project, full, auth, base_url, call, now)
    targets[[plan$table[i]]] <<- change$target
    sync_recount(store, plan[i, ], targets, change)
    change$row
  })
  store_write_project(store, project$project, project$version, now)
  tibble::as_tibble(do.call(rbind, changes))
}

# The stored definition when the server's structure version still matches,
# so that an up-to-date copy costs no definition request.
sync_project <- function(stored, slug, auth, base_url, call = rlang::caller_env()) {
  version <- project_version(slug, base_url, call = call)
  if (!is.null(stored) && !is.na(version) && identical(stored$version, version)) {
    return(stored)
  }
  list(version = version, project = project_get(slug, auth, base_url, call = call))
}

# Fetches one table (whole, or what changed since its cursor) and writes it:
# a table fetched whole replaces the stored one, new and edited entries are
# upserted.
sync_table <- function(store, row, sql, position, state, slug, project, full, auth, base_url, call, now) {
  at <- match(row$table, state$table_name)
  known <- !full && !is.na(at) && identical(state$sql_table[at], sql)
  fetch <- function(...) {
    fetch_table(slug, project$project, row, table_args(slug, base_url, ..., call = call), auth, call)
  }
  cs <- table_column_spec(project$project, row)
  target <- store_target(row, sql, store_prototype(cs))
  old <- if (known) list(cursor = if (!is.na(state$cursor[at])) state$cursor[at], rows = state$rows[at])
  result <- if (known) sync_increment(store, target, cs, old, fetch) else sync_replace(store, target, cs, fetch(), FALSE)
  times <- result$new$uploaded_at
  cursor <- if (length(times) && any(!is.na(times))) max(times, na.rm = TRUE) else old$cursor
  rows <- store_write_state(store, target, row$parent, position, cursor, project$version, now)
  inform_deleted(row$table, result$deleted)
  list(
    target = target,
    owners = if (!result$full && row$kind == "branch") unique(result$new[[table_layout()$links[["branch"]]]]),
    row = data.frame(
      table = row$table, inserted = as.integer(result$inserted), updated = as.integer(result$updated),
      deleted = as.integer(result$deleted), rows = rows, full = result$full
    )
  )
}

# Entries a sync with nothing new downloads per table: the probe, the newest
# entries of the table (descending by upload time, no filter), which also
# brings the table's count. When its oldest entry is older than the cursor
# (or it is the whole table), it holds every change: one request. Otherwise
# the changes are read from the cursor on (keyset, R/paging.R): one request
# more than a sync that skipped the probe.
sync_probe_size <- 100L

# The stored table brought up to date. The API has no tombstones (deletions
# are hard, and cascade to children, branches and media), so the copy's row
# count after the upsert is compared with the server's: when they differ
# (and still differ when counted again, in case entries arrived meanwhile),
# the table is fetched again in full and the entries it lacks are counted
# as deleted.
sync_increment <- function(store, target, cs, old, fetch) {
  probe <- fetch(sort_order = "desc", max_entries = sync_probe_size, per_page = sync_probe_size, one_page = TRUE)
  total <- attr(probe, "provenance")$total
  cursor <- old$cursor %||% as.POSIXct(-Inf, tz = "UTC")
  complete <- identical(nrow(probe), total) || min(probe$uploaded_at) < cursor
  new <- if (complete) {
    table_rows(probe, which(probe$uploaded_at >= cursor))
  } else {
    fetch(since = old$cursor)
  }
  new <- table_rows(new, order(new$uploaded_at, method = "radix"))
  rows <- as.integer(old$rows + length(new[[target$key]]) - store_count_keys(store, target, new[[target$key]]))
  if (identical(rows, total) ||
    identical(rows, attr(fetch(max_entries = 1, per_page = 1, one_page = TRUE), "provenance")$total)) {
    counts <- store_upsert(store, target, new)
    return(list(new = new, inserted = counts$inserted, updated = counts$updated, deleted = 0L, full = FALSE))
  }
  sync_replace(store, target, cs, fetch(), TRUE)
}

# A table fetched whole replaces the stored one; with `stored`, its changes
# are counted against the stored rows.
sync_replace <- function(store, target, cs, new, stored) {
  counts <- if (stored) {
    count_changes(store_read_rows(store, target), new, target$key)
  } else {
    list(inserted = nrow(new), updated = 0L, deleted = 0L)
  }
  store_replace(store, target, new, cs)
  c(list(new = new, full = TRUE), counts)
}

inform_deleted <- function(table, deleted) {
  if (deleted == 0L || isFALSE(getOption("epicollect5.verbose"))) {
    return(invisible())
  }
  cli::cli_inform(
    c("i" = "{.val {table}}: {deleted} entr{?y was/ies were} deleted on the server since the last sync; the table was fetched again in full."),
    class = "ec5_message_deleted"
  )
}

# A branch entry added to an existing entry leaves the owner's uploaded_at
# as it was, so an incremental sync would keep the owner's old count of
# branch entries: the counts of the owners of changed branch entries (all,
# when the branch was fetched whole) are taken from the branch table.
sync_recount <- function(store, row, targets, change) {
  if (row$kind != "branch" || !row$table %in% names(targets[[row$parent]]$proto)) {
    return(invisible())
  }
  if (!is.null(change$owners) && !length(change$owners)) {
    return(invisible())
  }
  store_recount(store, targets[[row$parent]], row$table, change$target, change$owners)
}

