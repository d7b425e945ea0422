#' Keep a local copy of a project up to date
#'
#' The first call downloads every form and branch of a project (like
#' [ec5_project_data()]) into a database: by default an SQLite file under
#' `dir`, or any DBI connection `con` (for example a PostgreSQL database a
#' team shares). Later calls ask the server only for entries uploaded or
#' edited since the newest one already stored (`uploaded_at`, inclusive)
#' and upsert them: new entries are added and edited ones replaced, and
#' nothing else is written. With nothing new, a sync costs one entries
#' request per form and branch, and no definition request.
#' [ec5_local()] reads the copy without the network.
#'
#' A sync is one database transaction: every table, the cursors and the
#' definition are updated together or not at all, so an interrupted sync
#' (an error, a lost connection, a killed process) leaves the previous copy
#' whole, and the next run resumes from it. Two syncs of one project into
#' one database wait for each other (up to
#' `getOption("epicollect5.lock_timeout")`, 600 seconds). The API does not
#' report deletions: `full = TRUE` fetches everything again, which is how
#' deleted entries disappear. A change of the project's structure (new
#' questions, renamed columns) rebuilds the project's tables in the same
#' transaction. The tables are described in `vignette("shared-copy")`.
#'
#' @inheritParams ec5_project_data
#' @param con A DBI connection to the database that holds the copy, or
#'   `NULL` for an SQLite file per project under `dir`.
#' @param full Whether to fetch everything again instead of only what is new.
#' @param dir The folder of the SQLite copies (when `con` is `NULL`); see
#'   [ec5_cache_dir()].
#' @return An `ec5_project_data` object as [ec5_local()] reads it after the
#'   sync, with an extra attribute `changes`: a tibble with one row per
#'   table and columns `table`, `inserted`, `updated`, `rows` and `full`
#'   (whether the table was fetched in full).
#' @seealso [ec5_local()], [ec5_tbl()], [ec5_cache_info()], [ec5_cache_clear()].
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE)
#' url <- ec5_demo_server()
#' dir <- tempfile("ec5-sync")
#' x <- ec5_sync("ec5-demo", dir = dir, base_url = url)
#' attr(x, "changes")
#' # Nothing new: one request per table, nothing inserted.
#' attr(ec5_sync("ec5-demo", dir = dir, base_url = url), "changes")
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_sync <- function(slug, con = NULL, full = FALSE, auth = NULL,
                     base_url = ec5_base_url(), dir = ec5_cache_dir()) {
  check_slug(slug)
  base_url <- check_base_url(base_url)
  if (!rlang::is_bool(full)) {
    ec5_abort("{.arg full} must be {.code TRUE} or {.code FALSE}.", class = "argument")
  }
  call <- rlang::current_env()
  store <- store_open(con, dir, base_url, slug)
  on.exit(store_close(store))
  auth <- resolve_auth(auth, base_url)
  changes <- store_sync(store, sync_project_tables(store, slug, full, auth, base_url, call))
  out <- store_try(store_read_project(store, call), "read", store_where(store), call)
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

# Fetches one table (whole, or since its cursor) and writes it: a table
# fetched whole replaces the stored one, new and edited entries are upserted.
sync_table <- function(store, row, sql, position, state, slug, project, full, auth, base_url, call, now) {
  at <- match(row$table, state$table_name)
  known <- !full && !is.na(at) && identical(state$sql_table[at], sql)
  cursor <- if (known && !is.na(state$cursor[at])) state$cursor[at]
  args <- table_args(slug, base_url, since = cursor, call = call)
  new <- fetch_table(slug, project$project, row, args, auth, call)
  cs <- table_column_spec(project$project, row, args$query$map_index)
  target <- store_target(row, sql, store_prototype(cs))
  counts <- if (known) {
    store_upsert(store, target, new)
  } else {
    store_replace(store, target, new, cs)
    list(inserted = nrow(new), updated = 0L)
  }
  times <- new$uploaded_at
  cursor <- if (length(times) && any(!is.na(times))) max(times, na.rm = TRUE) else cursor
  rows <- store_write_state(store, target, row$parent, position, cursor, project$version, now)
  list(
    target = target,
    owners = if (known && row$kind == "branch") unique(new[["ec5_branch_owner_uuid"]]),
    row = data.frame(
      table = row$table, inserted = as.integer(counts$inserted), updated = as.integer(counts$updated),
      rows = rows, full = !known
    )
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

