#' Where local copies and tokens are kept
#'
#' `ec5_cache_dir()` is the folder [ec5_sync()] stores projects in, one
#' SQLite file per server and project (tokens are kept in its `tokens`
#' folder, readable by you only): the option
#' `epicollect5.cache_dir` when set, else a temporary folder while tests or
#' R CMD check run, else `tools::R_user_dir("epicollect5", "cache")`.
#' `ec5_cache_info()` lists the local copies; `ec5_cache_clear()` deletes
#' them.
#'
#' @param path The cache folder.
#' @param slug Only these projects: slugs or project URLs (`NULL`: all).
#' @return `ec5_cache_dir()`: a path. `ec5_cache_info()`: a tibble with one
#'   row per local copy: `server`, `slug`, `tables`, `rows`, `bytes`,
#'   `synced_at` (the last sync) and `path` (the SQLite file, for
#'   [DBI::dbConnect()] and [ec5_tbl()]). `ec5_cache_clear()`: the paths
#'   deleted, invisibly.
#' @export
#' @examples
#' ec5_cache_dir()
#' ec5_cache_info(tempfile())
ec5_cache_dir <- function() {
  dir <- getOption("epicollect5.cache_dir")
  if (!is.null(dir)) {
    return(check_path(dir, "epicollect5.cache_dir", must = "a folder path"))
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
ec5_cache_info <- function(path = ec5_cache_dir()) {
  check_path(path, must = "a folder path")
  info <- lapply(cache_files(path), function(file) {
    con <- store_try(DBI::dbConnect(RSQLite::SQLite(), file, synchronous = NULL), "open", file, rlang::current_env())
    on.exit(DBI::dbDisconnect(con))
    store <- list(con = con, slug = sub("[.]sqlite$", "", basename(file)), dialect = "sqlite")
    state <- store_try(store_tables(store), "read", file, rlang::current_env())
    data.frame(
      server = basename(dirname(file)),
      slug = store$slug,
      tables = nrow(state),
      rows = sum(state$rows),
      bytes = file.size(file),
      synced_at = if (nrow(state)) max(decode_time(state$synced_at)) else .POSIXct(NA_real_, "UTC"),
      path = file
    )
  })
  empty <- data.frame(
    server = character(), slug = character(), tables = integer(),
    rows = integer(), bytes = double(), synced_at = .POSIXct(double(), "UTC"),
    path = character()
  )
  tibble::as_tibble(do.call(rbind, c(list(empty), info)))
}

#' @rdname ec5_cache_dir
#' @export
ec5_cache_clear <- function(slug = NULL, path = ec5_cache_dir()) {
  call <- rlang::current_env()
  check_strings(slug, allow_null = TRUE, must = "project slugs or URLs, or {.code NULL}")
  if (!is.null(slug)) slug <- vapply(slug, function(s) check_slug(s, call = call), "", USE.NAMES = FALSE)
  check_path(path, must = "a folder path")
  files <- cache_files(path)
  if (!is.null(slug)) {
    files <- files[sub("[.]sqlite$", "", basename(files)) %in% slug]
  }
  # With the journal a killed sync may have left (SQLite rolls it back on
  # the next open; without the database it is of no use).
  unlink(c(files, paste0(files, "-journal")))
  invisible(files)
}

# The SQLite copies under `dir`: <server>/<slug>.sqlite.
cache_files <- function(dir) {
  servers <- setdiff(list.dirs(dir, recursive = FALSE), file.path(dir, "tokens"))
  list.files(servers, pattern = "[.]sqlite$", full.names = TRUE)
}
