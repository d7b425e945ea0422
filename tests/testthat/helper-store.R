# Databases for the store tests (R/store*.R). Every store test runs against
# each backend that is available:
#   sqlite    always: a new SQLite file
#   postgres  when EC5_TEST_PG_HOST (and _PORT, _USER, _DBNAME) name a server,
#             as .ci/run sets them from tools/pg-start.sh: a new schema per
#             test, dropped afterwards
#   duckdb    when the duckdb package is installed: a new DuckDB file
# test_store(desc, function(backend, con) ...) makes one test per backend.

store_backends <- function() {
  c("sqlite", "postgres", "duckdb")
}

pg_configured <- function() {
  nzchar(Sys.getenv("EC5_TEST_PG_HOST")) && requireNamespace("RPostgres", quietly = TRUE)
}

# A fresh, empty database of `backend`, closed (and dropped) when
# `.local_envir` ends; NULL when the backend is not available here.
# DuckDB is optional and not in DESCRIPTION (slow to build from source): its
# name is held here so that R CMD check does not ask for it.
duckdb_pkg <- "duckdb"

local_store_con <- function(backend, .local_envir = parent.frame()) {
  con <- switch(backend,
    sqlite = DBI::dbConnect(RSQLite::SQLite(), withr::local_tempfile(fileext = ".sqlite", .local_envir = .local_envir)),
    postgres = if (pg_configured()) local_pg_schema(.local_envir),
    duckdb = if (requireNamespace(duckdb_pkg, quietly = TRUE)) {
      driver <- getExportedValue(duckdb_pkg, "duckdb")
      DBI::dbConnect(driver(), withr::local_tempfile(fileext = ".duckdb", .local_envir = .local_envir))
    }
  )
  if (!is.null(con) && backend != "postgres") {
    withr::defer(if (DBI::dbIsValid(con)) DBI::dbDisconnect(con), envir = .local_envir)
  }
  con
}

# With TZ set, RPostgres needs not ask timedatectl for the time zone.
pg_connect <- function() {
  withr::local_envvar(TZ = Sys.getenv("TZ", "UTC"))
  DBI::dbConnect(
    RPostgres::Postgres(),
    host = Sys.getenv("EC5_TEST_PG_HOST"), port = as.integer(Sys.getenv("EC5_TEST_PG_PORT", "5432")),
    user = Sys.getenv("EC5_TEST_PG_USER"), dbname = Sys.getenv("EC5_TEST_PG_DBNAME"),
    timezone = "UTC", timezone_out = "UTC"
  )
}

# A connection whose search path is a new schema, so that tests never see
# each other's tables; the schema is dropped afterwards.
local_pg_schema <- function(.local_envir) {
  con <- pg_connect()
  schema <- paste0("t", substr(rlang::hash(list(Sys.time(), runif(1))), 1, 12))
  DBI::dbExecute(con, paste("CREATE SCHEMA", schema))
  DBI::dbExecute(con, paste("SET search_path TO", schema))
  # Dropped on a connection of its own: a test may leave `con` closed or
  # read-only.
  withr::defer({
    if (DBI::dbIsValid(con)) DBI::dbDisconnect(con)
    admin <- pg_connect()
    DBI::dbExecute(admin, paste("DROP SCHEMA", schema, "CASCADE"))
    DBI::dbDisconnect(admin)
  }, envir = .local_envir)
  attr(con, "ec5_schema") <- schema
  con
}

# A test per backend: `body(backend, con)` runs with a fresh database, and
# a backend that is not available here is skipped with a message saying so.
test_store <- function(desc, body, backends = store_backends()) {
  for (backend in backends) {
    testthat::test_that(paste0(desc, " [", backend, "]"), {
      con <- local_store_con(backend)
      if (is.null(con)) testthat::skip(store_skip_message(backend))
      body(backend, con)
    })
  }
}

store_skip_message <- function(backend) {
  switch(backend,
    postgres = "PostgreSQL: no server configured (EC5_TEST_PG_HOST etc.; .ci/run starts one with tools/pg-start.sh), or RPostgres is not installed",
    duckdb = "DuckDB: the duckdb package is not installed"
  )
}

# Tables of project data without the time of their fetch (ec5_local() gives
# the time of the last sync).
without_times <- function(x) {
  tables <- lapply(unclass(x), function(table) {
    attr(table, "provenance")$fetched_at <- NULL
    table
  })
  tables
}
