#' Keep a local copy of a project up to date
#'
#' The first call downloads every form and branch of a project (like
#' [ec5_project_data()], safe against changes during the fetch, see
#' [ec5_entries()]) and stores them in `dir`. Later calls ask the server only
#' for entries uploaded or edited since the newest one already stored
#' (`uploaded_at`, inclusive) and merge them in: new entries are added and
#' edited ones replaced.
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
#' structure (new questions, renamed columns) also triggers a full fetch;
#' `full = TRUE` forces one.
#'
#' Each table is written atomically (to a temporary file, then renamed), so
#' an interrupted sync leaves every table either as it was or fully updated,
#' and the next run resumes from there without losing or duplicating an
#' entry.
#'
#' @inheritParams ec5_project_data
#' @param dir The folder that holds local copies; see [ec5_cache_dir()].
#' @param full Whether to fetch everything again instead of only what is new.
#' @return An `ec5_project_data` object (see [ec5_project_data()]) with an
#'   extra attribute `changes`: a tibble with one row per table and columns
#'   `table`, `inserted`, `updated`, `deleted` (entries gone from the server
#'   since the last sync), `rows` and `full` (whether the table was fetched
#'   in full).
#' @seealso [ec5_cache_info()], [ec5_cache_clear()].
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE)
#' url <- ec5_demo_server()
#' dir <- tempfile("ec5-sync")
#' x <- ec5_sync("ec5-demo", dir = dir, base_url = url)
#' attr(x, "changes")
#' # Nothing new: one request per table, nothing inserted or deleted.
#' attr(ec5_sync("ec5-demo", dir = dir, base_url = url), "changes")
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_sync <- function(slug, dir = ec5_cache_dir(), full = FALSE,
                     auth = NULL, base_url = ec5_base_url()) {
  check_slug(slug)
  base_url <- check_base_url(base_url)
  if (!rlang::is_bool(full)) {
    ec5_abort("{.arg full} must be {.code TRUE} or {.code FALSE}.", class = "argument")
  }
  store <- sync_store(dir, base_url, slug)
  auth <- resolve_auth(auth, base_url)
  project <- sync_project(store, slug, auth, base_url)
  full <- full || !identical(store_read(store, "project")$version, project$version)
  plan <- project_data_plan(project$project, NULL, TRUE)
  call <- rlang::current_env()
  changes <- lapply(seq_len(nrow(plan)), function(i) {
    sync_table(store, plan[i, ], slug, project$project, full, auth, base_url, call)
  })
  tables <- lapply(plan$table, function(t) store_read(store, table_key(t))$table)
  names(tables) <- plan$table
  tables <- recount_branches(tables, plan)
  # Last, so that a sync interrupted during a full fetch is redone in full.
  store_write(store, "project", project)
  out <- new_project_data(tables, project$project, plan)
  attr(out, "changes") <- tibble::as_tibble(do.call(rbind, lapply(changes, as.data.frame)))
  out
}

# The stored definition when the server's structure version still matches,
# so that an up-to-date copy costs no definition request.
sync_project <- function(store, slug, auth, base_url, call = rlang::caller_env()) {
  version <- project_version(slug, base_url, call = call)
  stored <- store_read(store, "project")
  if (!is.null(stored) && !is.na(version) && identical(stored$version, version)) {
    return(stored)
  }
  list(version = version, project = project_get(slug, auth, base_url, call = call))
}

sync_table <- function(store, row, slug, project, full, auth, base_url, call) {
  key <- table_key(row$table)
  old <- if (!full) store_read(store, key)
  fetch <- function(...) {
    fetch_table(slug, project, row, table_args(slug, base_url, ..., call = call), auth, call)
  }
  merged <- if (is.null(old)) {
    merge_entries(NULL, fetch(), replace = TRUE)
  } else {
    sync_increment(old, fetch)
  }
  times <- merged$table$uploaded_at
  cursor <- if (length(times) && any(!is.na(times))) max(times, na.rm = TRUE) else old$cursor
  store_write(store, key, list(table = merged$table, cursor = cursor))
  inform_deleted(row$table, merged$deleted)
  list(
    table = row$table, inserted = merged$inserted, updated = merged$updated,
    deleted = merged$deleted, rows = nrow(merged$table), full = is.null(old) || merged$full
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
# count is compared with the server's: when they differ (and still differ
# when counted again, in case entries arrived meanwhile), the table is
# fetched again in full and the entries it lacks are counted as deleted.
sync_increment <- function(old, fetch) {
  probe <- fetch(sort_order = "desc", max_entries = sync_probe_size, per_page = sync_probe_size, one_page = TRUE)
  total <- attr(probe, "provenance")$total
  cursor <- old$cursor %||% as.POSIXct(-Inf, tz = "UTC")
  complete <- identical(nrow(probe), total) || min(probe$uploaded_at) < cursor
  new <- if (complete) {
    restore_table_attributes(probe[probe$uploaded_at >= cursor, ], probe)
  } else {
    fetch(since = old$cursor)
  }
  new <- restore_table_attributes(new[order(new$uploaded_at, method = "radix"), ], new)
  merged <- merge_entries(old$table, new)
  if (identical(nrow(merged$table), total) ||
    identical(nrow(merged$table), attr(fetch(max_entries = 1, per_page = 1, one_page = TRUE), "provenance")$total)) {
    return(merged)
  }
  merge_entries(old$table, fetch(), replace = TRUE)
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
# branch entries: the counts are taken from the branch tables instead.
recount_branches <- function(tables, plan) {
  for (i in which(plan$kind == "branch")) {
    owner <- tables[[plan$parent[i]]]
    column <- plan$table[i]
    if (!column %in% names(owner)) next
    owners <- tables[[column]]$ec5_branch_owner_uuid
    owner[[column]][] <- tabulate(match(owners, owner$ec5_uuid), nrow(owner))
    tables[[plan$parent[i]]] <- owner
  }
  tables
}

# New rows are appended; rows sent again replace the stored copy (the filter
# is inclusive, and an edit within the second of the cursor keeps its
# uploaded_at), and count as updated when they differ from it. With
# `replace`, `new` is the whole table: stored rows it lacks were deleted.
merge_entries <- function(old, new, replace = FALSE) {
  key <- entry_key(names(new))
  at <- match(new[[key]], old[[key]])
  inserted <- is.na(at)
  updated <- !inserted
  if (any(updated)) {
    updated[!inserted] <- !vctrs::vec_equal(old[at[!inserted], ], new[!inserted, ], na_equal = TRUE)
  }
  table <- new
  if (!replace) {
    table <- vctrs::vec_rbind(old[!seq_len(nrow(old)) %in% at, ], new)
    table <- copy_column_labels(table, new)
    table <- restore_table_attributes(table, new)
  }
  list(
    table = table, inserted = sum(inserted), updated = sum(updated),
    deleted = sum(!old[[key]] %in% new[[key]]) * replace, full = replace
  )
}

copy_column_labels <- function(to, from) {
  for (col in names(from)) {
    attr(to[[col]], "label") <- attr(from[[col]], "label", exact = TRUE)
  }
  to
}

table_key <- function(table) paste0("table-", slugify(table))

# --- the store: one folder per server and project, one RDS per table -------

sync_store <- function(dir, base_url, slug, call = rlang::caller_env()) {
  if (!rlang::is_string(dir) || !nzchar(dir)) {
    ec5_abort("{.arg dir} must be a folder path.", class = "argument", call = call)
  }
  path <- file.path(dir, server_key(base_url), slug)
  if (!dir.exists(path) && !dir.create(path, recursive = TRUE)) {
    ec5_abort("Could not create the folder {.file {path}}.", class = "io", call = call)
  }
  path
}

server_key <- function(base_url) {
  slugify(sub("^https?://", "", base_url))
}

store_read <- function(store, key) {
  path <- file.path(store, paste0(key, ".rds"))
  if (!file.exists(path)) {
    return(NULL)
  }
  tryCatch(readRDS(path), error = function(e) {
    ec5_abort(
      c("The local copy in {.file {store}} is damaged.",
        "x" = "{.file {path}} could not be read: {conditionMessage(e)}",
        "i" = "Fetch everything again with {.code full = TRUE}, or {.fn ec5_cache_clear}."),
      class = "io"
    )
  })
}

# Written beside the target and renamed, so readers never see half a file.
store_write <- function(store, key, value) {
  path <- file.path(store, paste0(key, ".rds"))
  tmp <- tempfile(paste0(key, "-"), tmpdir = store, fileext = ".tmp")
  on.exit(unlink(tmp))
  saveRDS(value, tmp)
  if (!file.rename(tmp, path)) {
    ec5_abort("Could not write {.file {path}}.", class = "io")
  }
  invisible(path)
}

#' Where local copies and tokens are kept
#'
#' `ec5_cache_dir()` is the folder [ec5_sync()] stores projects in (tokens
#' are kept in its `tokens` folder, readable by you only): the option
#' `epicollect5.cache_dir` when set, else a temporary folder while tests or
#' R CMD check run, else `tools::R_user_dir("epicollect5", "cache")`.
#' `ec5_cache_info()` lists the local copies; `ec5_cache_clear()` deletes
#' them.
#'
#' @param dir The cache folder.
#' @param slug Only this project (`NULL`: all).
#' @return `ec5_cache_dir()`: a path. `ec5_cache_info()`: a tibble with one
#'   row per local copy: `server`, `slug`, `tables`, `rows`, `bytes`,
#'   `synced_at`. `ec5_cache_clear()`: the paths deleted, invisibly.
#' @export
#' @examples
#' ec5_cache_dir()
#' ec5_cache_info(tempfile())
ec5_cache_dir <- function() {
  dir <- getOption("epicollect5.cache_dir")
  if (!is.null(dir)) {
    return(dir)
  }
  testing <- identical(Sys.getenv("TESTTHAT"), "true") ||
    nzchar(Sys.getenv("_R_CHECK_PACKAGE_NAME_"))
  if (testing) {
    return(file.path(tempdir(), "epicollect5-cache"))
  }
  tools::R_user_dir("epicollect5", "cache")
}

#' @rdname ec5_cache_dir
#' @export
ec5_cache_info <- function(dir = ec5_cache_dir()) {
  stores <- cache_stores(dir)
  info <- lapply(stores, function(store) {
    files <- list.files(store, pattern = "^table-.*[.]rds$", full.names = TRUE)
    rows <- sum(vapply(files, function(f) nrow(readRDS(f)$table), integer(1)))
    all <- list.files(store, full.names = TRUE)
    data.frame(
      server = basename(dirname(store)),
      slug = basename(store),
      tables = length(files),
      rows = rows,
      bytes = sum(file.size(all)),
      synced_at = if (length(all)) max(file.mtime(all)) else as.POSIXct(NA)
    )
  })
  empty <- data.frame(
    server = character(), slug = character(), tables = integer(),
    rows = integer(), bytes = double(), synced_at = as.POSIXct(character())
  )
  tibble::as_tibble(do.call(rbind, c(list(empty), info)))
}

#' @rdname ec5_cache_dir
#' @export
ec5_cache_clear <- function(slug = NULL, dir = ec5_cache_dir()) {
  stores <- cache_stores(dir)
  if (!is.null(slug)) {
    stores <- stores[basename(stores) %in% slug]
  }
  unlink(stores, recursive = TRUE)
  invisible(stores)
}

cache_stores <- function(dir) {
  servers <- setdiff(list.dirs(dir, recursive = FALSE), file.path(dir, "tokens"))
  unlist(lapply(servers, list.dirs, recursive = FALSE), use.names = FALSE)
}
