#' Keep a local copy of a project up to date
#'
#' The first call downloads every form and branch of a project (like
#' [ec5_project_data()]) and stores them in `dir`. Later calls ask the server
#' only for entries uploaded or edited since the newest one already stored
#' (`uploaded_at`, inclusive) and merge them in: new entries are added and
#' edited ones replaced. With nothing new, a sync costs one entries request
#' per form and branch, and no definition request.
#'
#' Each table is written atomically (to a temporary file, then renamed), so
#' an interrupted sync leaves every table either as it was or fully updated,
#' and the next run resumes from there without losing or duplicating an
#' entry. The API does not report deletions: `full = TRUE` fetches everything
#' again, which is how deleted entries disappear. A change of the project's
#' structure (new questions, renamed columns) also triggers a full fetch.
#'
#' @inheritParams ec5_project_data
#' @param dir The folder that holds local copies; see [ec5_cache_dir()].
#' @param full Whether to fetch everything again instead of only what is new.
#' @return An `ec5_project_data` object (see [ec5_project_data()]) with an
#'   extra attribute `changes`: a tibble with one row per table and columns
#'   `table`, `inserted`, `updated`, `rows` and `full` (whether the table was
#'   fetched in full).
#' @seealso [ec5_cache_info()], [ec5_cache_clear()].
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE)
#' url <- ec5_demo_server()
#' dir <- tempfile("ec5-sync")
#' x <- ec5_sync("ec5-demo", dir = dir, base_url = url)
#' attr(x, "changes")
#' # Nothing new: one request per table, nothing inserted.
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
  args <- table_args(slug, base_url, since = old$cursor, call = call)
  new <- fetch_table(slug, project, row, args, auth, call)
  merged <- if (is.null(old)) {
    list(table = new, inserted = nrow(new), updated = 0L)
  } else {
    merge_entries(old$table, new)
  }
  times <- merged$table$uploaded_at
  cursor <- if (length(times) && any(!is.na(times))) max(times, na.rm = TRUE) else old$cursor
  store_write(store, key, list(table = merged$table, cursor = cursor))
  list(
    table = row$table, inserted = merged$inserted, updated = merged$updated,
    rows = nrow(merged$table), full = is.null(old)
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
# uploaded_at), and count as updated when they differ from it.
merge_entries <- function(old, new) {
  key <- entry_key(names(new))
  at <- match(new[[key]], old[[key]])
  inserted <- is.na(at)
  updated <- !inserted
  updated[!inserted] <- !vctrs::vec_equal(old[at[!inserted], ], new[!inserted, ], na_equal = TRUE)
  table <- vctrs::vec_rbind(old[!seq_len(nrow(old)) %in% at, ], new)
  table <- copy_column_labels(table, new)
  table <- restore_table_attributes(table, new)
  list(table = table, inserted = sum(inserted), updated = sum(updated))
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
