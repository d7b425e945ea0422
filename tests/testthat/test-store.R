# The store (R/store.R): one transaction per sync, the lock between two
# processes, classed errors that leave the copy as it was. Each case runs
# against SQLite, PostgreSQL and DuckDB where available (helper-store.R).

entries_path <- "/api/export/entries/"

# The copy as ec5_local() reads it, without the time of the last sync.
local_copy <- function(con, slug = "ec5-demo", dir = NULL, url) {
  if (is.null(dir)) {
    without_times(ec5_local(slug, con = con, base_url = url))
  } else {
    without_times(ec5_local(slug, path = dir, base_url = url))
  }
}

fresh_copy <- function(srv, slug = "ec5-demo", auth = NULL) {
  without_times(ec5_project_data(slug, auth = auth, base_url = srv$url))
}

test_store("a sync equals the project data, and an incremental one upserts only changed rows", function(backend, con) {
  srv <- local_client_server()
  first <- ec5_sync("ec5-demo", con = con, base_url = srv$url)
  expect_true(all(attr(first, "changes")$full))
  expect_identical(local_copy(con, url = srv$url), fresh_copy(srv))
  top <- DBI::dbGetQuery(con, "SELECT sql_table FROM ec5_sync WHERE position = 1")$sql_table
  before <- DBI::dbGetQuery(con, paste0("SELECT ec5_uuid, ec5_order FROM ", top, " ORDER BY ec5_order"))
  edited <- before$ec5_uuid[3]
  srv$entries("ec5-demo", action = "edit", uuid = edited, title = "Edited on the server")
  srv$entries("ec5-demo", action = "add")
  x <- ec5_sync("ec5-demo", con = con, base_url = srv$url)
  changes <- attr(x, "changes")
  expect_false(any(changes$full))
  expect_equal(changes$inserted[1], 1)
  expect_equal(changes$updated[1], 1)
  expect_identical(local_copy(con, url = srv$url), fresh_copy(srv))
  # Unchanged rows were not rewritten: they keep their place; the edited
  # one moved to the end, as on the server.
  after <- DBI::dbGetQuery(con, paste0("SELECT ec5_uuid, ec5_order FROM ", top, " ORDER BY ec5_order"))
  kept <- before[before$ec5_uuid != edited, ]
  expect_equal(after$ec5_order[match(kept$ec5_uuid, after$ec5_uuid)], kept$ec5_order)
  expect_equal(utils::tail(after$ec5_uuid, 2)[1], edited)
  sync <- DBI::dbGetQuery(con, "SELECT * FROM ec5_sync ORDER BY position")
  expect_equal(sync$rows, unname(vapply(x, nrow, 1L)))
  expect_equal(sync$table_name, names(x))
})

test_store("a structure change rebuilds the project's tables in the sync's transaction", function(backend, con) {
  srv <- local_client_server()
  ec5_sync("ec5-demo", con = con, base_url = srv$url)
  srv$project("ec5-demo", bump_version = TRUE)
  srv$entries("ec5-demo", action = "add")
  x <- ec5_sync("ec5-demo", con = con, base_url = srv$url)
  expect_true(all(attr(x, "changes")$full))
  expect_identical(local_copy(con, url = srv$url), fresh_copy(srv))
  versions <- DBI::dbGetQuery(con, "SELECT DISTINCT structure_version FROM ec5_sync")$structure_version
  expect_equal(versions, DBI::dbGetQuery(con, "SELECT structure_version FROM ec5_projects")$structure_version)
})

test_store("a failed sync leaves every table and cursor as they were", function(backend, con) {
  srv <- local_client_server()
  local_fast_retries()
  first <- ec5_sync("ec5-demo", con = con, base_url = srv$url)
  h <- attr(first, "hierarchy")
  before <- local_copy(con, url = srv$url)
  sync_before <- DBI::dbGetQuery(con, "SELECT * FROM ec5_sync ORDER BY position")
  # New entries in the first table, which is written before the last
  # branch fails.
  srv$entries("ec5-demo", action = "add")
  last <- max(which(h$kind == "branch"))
  srv$faults(type = "error", status = 503, path = entries_path,
             query = paste0("branch_ref=", h$ref[last]), times = 100)
  expect_error(ec5_sync("ec5-demo", con = con, base_url = srv$url), class = "ec5_error_server")
  expect_identical(local_copy(con, url = srv$url), before)
  expect_equal(DBI::dbGetQuery(con, "SELECT * FROM ec5_sync ORDER BY position"), sync_before)
  srv$clear_faults()
  x <- ec5_sync("ec5-demo", con = con, base_url = srv$url)
  expect_equal(sum(attr(x, "changes")$inserted), 1)
  expect_identical(local_copy(con, url = srv$url), fresh_copy(srv))
})

test_store("a closed connection is an ec5_error_store before any request", function(backend, con) {
  srv <- local_client_server()
  DBI::dbDisconnect(con)
  mark <- log_marker(srv)
  expect_error(ec5_sync("ec5-demo", con = con, base_url = srv$url), class = "ec5_error_store")
  expect_error(ec5_local("ec5-demo", con = con, base_url = srv$url), class = "ec5_error_store")
  expect_equal(nrow(mark()), 0)
})

test_store("a read-only database is an ec5_error_store and the copy stays as it was", function(backend, con) {
  srv <- local_client_server()
  ec5_sync("ec5-demo", con = con, base_url = srv$url)
  before <- local_copy(con, url = srv$url)
  srv$entries("ec5-demo", action = "add")
  ro <- switch(backend,
    sqlite = DBI::dbConnect(RSQLite::SQLite(), con@dbname, flags = RSQLite::SQLITE_RO),
    postgres = {
      DBI::dbExecute(con, "SET default_transaction_read_only = on")
      con
    },
    duckdb = {
      path <- con@driver@dbdir
      DBI::dbDisconnect(con, shutdown = TRUE)
      driver <- getExportedValue(duckdb_pkg, "duckdb")
      DBI::dbConnect(driver(), path, read_only = TRUE)
    }
  )
  if (backend != "postgres") withr::defer(DBI::dbDisconnect(ro))
  err <- expect_error(ec5_sync("ec5-demo", con = ro, base_url = srv$url), class = "ec5_error_store")
  expect_match(conditionMessage(err), "read-only")
  expect_identical(local_copy(ro, url = srv$url), before)
})

test_store("a full disk is an ec5_error_store and the copy stays as it was", function(backend, con) {
  if (backend != "sqlite") skip("a full disk is simulated with SQLite's max_page_count only")
  srv <- local_client_server()
  ec5_sync("ec5-demo", con = con, base_url = srv$url)
  before <- local_copy(con, url = srv$url)
  pages <- DBI::dbGetQuery(con, "PRAGMA page_count")[[1]]
  DBI::dbGetQuery(con, paste("PRAGMA max_page_count =", pages))
  err <- expect_error(ec5_sync("ec5-demo", con = con, full = TRUE, base_url = srv$url), class = "ec5_error_store")
  expect_match(conditionMessage(err), "full")
  expect_identical(local_copy(con, url = srv$url), before)
})

# --- two processes, and a process killed mid-sync ---------------------------------

# A child R process that syncs `slug` into the default store under `dir`
# (or into the PostgreSQL schema `schema`).
sync_child <- function(srv, dir, full = FALSE, schema = NULL, slug = "ec5-demo") {
  callr::r_bg(function(slug, url, dir, full, schema, pg) {
    options(epicollect5.verbose = FALSE, epicollect5.rate_limits = list(entries = c(20, 1), project = c(20, 1)))
    con <- NULL
    if (!is.null(schema)) {
      con <- DBI::dbConnect(RPostgres::Postgres(), host = pg$host, port = pg$port, user = pg$user,
                            dbname = pg$dbname, timezone = "UTC", timezone_out = "UTC")
      DBI::dbExecute(con, paste("SET search_path TO", schema))
    }
    x <- epicollect5::ec5_sync(slug, con = con, full = full, path = dir, base_url = url)
    attr(x, "changes")
  }, args = list(
    slug = slug, url = srv$url, dir = dir, full = full, schema = schema,
    pg = list(host = Sys.getenv("EC5_TEST_PG_HOST"), port = as.integer(Sys.getenv("EC5_TEST_PG_PORT", "5432")),
              user = Sys.getenv("EC5_TEST_PG_USER"), dbname = Sys.getenv("EC5_TEST_PG_DBNAME"))
  ))
}

test_store("two processes syncing one project at once end with one exact copy", function(backend, con) {
  if (backend == "duckdb") skip("DuckDB lets one process at a time open a database file")
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  schema <- attr(con, "ec5_schema")
  first <- if (backend == "sqlite") {
    ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  } else {
    ec5_sync("ec5-demo", con = con, base_url = srv$url)
  }
  # Entries deleted and added on the server, then a full and an incremental
  # sync at once, each slowed down so that they overlap.
  for (uuid in first[[1]]$ec5_uuid[1:5]) srv$entries("ec5-demo", action = "delete", uuid = uuid)
  srv$entries("ec5-demo", action = "add")
  srv$faults(type = "stall", delay = 0.3, path = entries_path, times = 100)
  a <- sync_child(srv, dir, full = TRUE, schema = schema)
  b <- sync_child(srv, dir, full = FALSE, schema = schema)
  a$wait(60000)
  b$wait(60000)
  expect_s3_class(a$get_result(), "tbl_df")
  expect_s3_class(b$get_result(), "tbl_df")
  srv$clear_faults()
  copy <- if (backend == "sqlite") local_copy(NULL, dir = dir, url = srv$url) else local_copy(con, url = srv$url)
  expect_identical(copy, fresh_copy(srv))
  expect_false(any(first[[1]]$ec5_uuid[1:5] %in% copy[[1]]$ec5_uuid))
})

test_store("a sync killed with -9 at any moment leaves the previous copy whole", function(backend, con) {
  if (backend == "duckdb") skip("DuckDB lets one process at a time open a database file")
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  schema <- attr(con, "ec5_schema")
  read <- function() {
    if (backend == "sqlite") local_copy(NULL, dir = dir, url = srv$url) else local_copy(con, url = srv$url)
  }
  if (backend == "sqlite") ec5_sync("ec5-demo", path = dir, base_url = srv$url) else ec5_sync("ec5-demo", con = con, base_url = srv$url)
  before <- read()
  tables <- length(before)
  srv$entries("ec5-demo", action = "add")
  srv$faults(type = "stall", delay = 0.3, path = entries_path, times = 1000)
  # Killed after the first, a middle and the last table's request.
  for (requests in unique(c(1, ceiling(tables / 2), tables))) {
    mark <- log_marker(srv)
    child <- sync_child(srv, dir, full = TRUE, schema = schema)
    seen <- 0
    deadline <- Sys.time() + 60
    while (seen < requests && child$is_alive() && Sys.time() < deadline) {
      Sys.sleep(0.05)
      seen <- seen + count_matching(mark(), entries_path)
    }
    Sys.sleep(0.1)
    child$kill()
    expect_identical(read(), before, label = paste("killed after", requests, "requests"))
  }
  srv$clear_faults()
  x <- if (backend == "sqlite") ec5_sync("ec5-demo", path = dir, base_url = srv$url) else ec5_sync("ec5-demo", con = con, base_url = srv$url)
  expect_identical(read(), fresh_copy(srv))
  # No stray file: the killed syncs' journal (which SQLite rolls back, or
  # ignores when nothing was written) is gone after the next sync.
  if (backend == "sqlite") {
    expect_equal(list.files(dir, recursive = TRUE), file.path(epicollect5:::server_key(srv$url), "ec5-demo.sqlite"))
    expect_equal(ec5_cache_info(dir)$bytes, file.size(file.path(dir, list.files(dir, recursive = TRUE))))
  }
})
