#' Read the local copy of a project, without the network
#'
#' Reads what [ec5_sync()] stored: the same tables, column types, factor
#' levels, labels, list columns and problems as [ec5_project_data()] returns
#' for the server's state at the last sync, without any request. Each
#' table's `provenance` gives the time of the last sync as `fetched_at`.
#'
#' @inheritParams ec5_sync
#' @inheritParams ec5_entries
#' @return An `ec5_project_data` object (see [ec5_project_data()]) with an
#'   extra attribute `synced_at`.
#' @seealso [ec5_tbl()] for a lazy table in the database;
#'   `vignette("shared-copy")` for the schema of the copy.
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE)
#' url <- ec5_demo_server()
#' path <- tempfile("ec5-copy")
#' ec5_sync("ec5-demo", path = path, base_url = url)
#' ec5_demo_server(stop = TRUE)
#' # The server is gone; the copy is not.
#' ec5_local("ec5-demo", path = path, base_url = url)
ec5_local <- function(slug, con = NULL, path = ec5_cache_dir(),
                      col_names = getOption("epicollect5.col_names", "export"),
                      tz = "UTC", base_url = ec5_base_url()) {
  col_names <- check_col_names(col_names)
  check_tz(tz)
  base_url <- check_base_url(base_url)
  slug <- check_slug(slug, base_url)
  check_store_args(con, path)
  call <- rlang::current_env()
  store <- store_open(con, path, base_url, slug, create = FALSE)
  on.exit(store_close(store))
  in_tz(store_try(store_read_project(store, call, col_names), "read", store_where(store), call), tz)
}

# The copy keeps the export names (its tables do not change with the
# naming); the naming asked for is applied to the tables read.
store_read_project <- function(store, call, col_names = "export") {
  stored <- store_project(store)
  if (is.null(stored)) {
    store_missing(store$slug, call)
  }
  project <- stored$project
  plan <- project_data_plan(project, NULL, TRUE)
  state <- store_tables(store)
  slug <- store$slug
  args <- table_args(slug, store$base_url, call = call)
  tables <- lapply(seq_len(nrow(plan)), function(i) {
    row <- plan[i, ]
    cs <- table_column_spec(project, row, args$query$map_index)
    at <- match(row$table, state$table_name)
    table <- store_read_table(store, store_target(row, state$sql_table[at], store_prototype(cs)))
    attr(table, "provenance") <- local_provenance(slug, cs, args, nrow(table), state$synced_at[at])
    table
  })
  names(tables) <- plan$table
  out <- new_project_data(tables, project, plan, col_names)
  attr(out, "synced_at") <- stored$synced_at
  out
}

# The provenance of a full fetch of the table, fetched at the last sync.
local_provenance <- function(slug, cs, args, rows, synced_at) {
  provenance <- entries_provenance(slug, cs, args$query, args, rows)
  provenance$fetched_at <- decode_time(synced_at)
  provenance
}

#' A table of the local copy as a lazy database table
#'
#' Filters, joins and summaries run in the database (with dplyr verbs,
#' through dbplyr), so a copy larger than memory can still be analysed.
#' Columns are as the database stores them (see `vignette("shared-copy")`):
#' choices as their labels, checkbox and search answers joined with `", "`
#' (one row per answer in the table `<table>__answers`).
#'
#' @param con A DBI connection to the database that holds the copy.
#' @param slug The project's slug or URL.
#' @param table A table of the project: a form's name or a branch's export
#'   name (as in [ec5_project_data()]), or the SQL table's name.
#' @param col_names The column names of the lazy table: `"export"` (as
#'   stored) or `"clean"` (see the section Column names of [ec5_entries()];
#'   the database keeps the export names, the columns are renamed in the
#'   query). The default is the option `epicollect5.col_names`, else
#'   `"export"`.
#' @return A `tbl_sql` (see [dplyr::tbl()]).
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE) && requireNamespace("dbplyr", quietly = TRUE)
#' url <- ec5_demo_server()
#' con <- DBI::dbConnect(RSQLite::SQLite(), tempfile(fileext = ".sqlite"))
#' ec5_sync("ec5-demo", con = con, base_url = url)
#' ec5_tbl(con, "ec5-demo", "University")
#' DBI::dbDisconnect(con)
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_tbl <- function(con, slug, table,
                    col_names = getOption("epicollect5.col_names", "export")) {
  check_class(con, "DBIConnection", "a DBI connection")
  slug <- check_slug(slug)
  check_string(table, must = "the name of a table of the local copy")
  col_names <- check_col_names(col_names)
  rlang::check_installed(c("dbplyr", "dplyr"), "for lazy tables of the local copy")
  call <- rlang::current_env()
  check_store_con(con, call)
  store <- list(con = con, slug = slug, dialect = store_dialect(con))
  state <- store_try(store_tables(store), "read", "the database", call)
  if (!nrow(state)) {
    store_missing(slug, call)
  }
  tables <- state$table_name
  at <- match(table, tables) %|NA|% match(table, state$sql_table)
  if (is.na(at)) {
    check_table_name(table, tables, what = "a table of the local copy")
  }
  lazy <- dplyr::tbl(con, state$sql_table[at])
  if (col_names == "export") {
    return(lazy)
  }
  export <- colnames(lazy)
  dplyr::rename(lazy, !!!rlang::set_names(export, clean_names(export)))
}
