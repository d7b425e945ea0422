# Reading the local copy (R/local.R): ec5_local() returns what
# ec5_project_data() returns, with no network; ec5_tbl() is a lazy table.

test_that("ec5_local() equals ec5_project_data() table by table for every project the server serves", {
  srv <- local_client_server(entries = 6)
  dir <- withr::local_tempdir()
  for (slug in component$srv_catalogue()$slug) {
    auth <- if (slug %in% srv$clients$slug) server_auth(srv, slug)
    suppressWarnings(ec5_sync(slug, path = dir, auth = auth, base_url = srv$url))
    local <- ec5_local(slug, path = dir, base_url = srv$url)
    fresh <- suppressWarnings(ec5_project_data(slug, auth = auth, base_url = srv$url))
    expect_identical(names(local), names(fresh), label = slug)
    for (table in names(fresh)) {
      expect_identical(without_fetch_time(local[[table]]), without_fetch_time(fresh[[table]]), label = paste(slug, table))
    }
    expect_identical(attr(local, "project"), attr(fresh, "project"), label = slug)
    expect_identical(attr(local, "hierarchy"), attr(fresh, "hierarchy"), label = slug)
  }
})

test_that("the copy is read with no network, and gives the time of the last sync", {
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  before <- Sys.time()
  x <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  url <- srv$url
  srv$process$stop()
  expect_error(ec5_sync("ec5-demo", path = dir, base_url = url), class = "ec5_error_transport")
  local <- ec5_local("ec5-demo", path = dir, base_url = url)
  expect_identical(without_times(local), without_times(x))
  synced_at <- attr(local, "synced_at")
  expect_s3_class(synced_at, "POSIXct")
  expect_true(synced_at >= before - 1 && synced_at <= Sys.time())
  expect_equal(attr(local[[1]], "provenance")$fetched_at, synced_at)
  expect_equal(attr(local[[1]], "provenance")$total, nrow(local[[1]]))
})

test_that("ec5_local() says when there is no copy, and checks its arguments", {
  dir <- withr::local_tempdir()
  expect_error(ec5_local("ec5-demo", path = dir, base_url = "http://127.0.0.1:9"), class = "ec5_error_not_found")
  expect_false(file.exists(file.path(dir, "127-0-0-1-9", "ec5-demo.sqlite")))
  con <- DBI::dbConnect(RSQLite::SQLite(), ":memory:")
  on.exit(DBI::dbDisconnect(con))
  expect_error(ec5_local("ec5-demo", con = con, base_url = "http://127.0.0.1:9"), class = "ec5_error_not_found")
  expect_error(ec5_local("ec5-demo", con = "db"), class = "ec5_error_argument")
  expect_snapshot(ec5_local("ec5-demo", path = dir, base_url = "http://127.0.0.1:9"), error = TRUE)
})

# The demo project synced into a temporary SQLite database: the server, the
# connection and the sync's result.
local_demo_copy <- function(.local_envir = parent.frame()) {
  srv <- local_client_server(.local_envir = .local_envir)
  path <- withr::local_tempfile(fileext = ".sqlite", .local_envir = .local_envir)
  con <- DBI::dbConnect(RSQLite::SQLite(), path)
  withr::defer(DBI::dbDisconnect(con), envir = .local_envir)
  list(srv = srv, con = con, x = ec5_sync("ec5-demo", con = con, base_url = srv$url))
}

test_that("ec5_tbl() is a lazy table that dplyr verbs run in the database", {
  skip_if_not_installed("dbplyr")
  copy <- local_demo_copy()
  con <- copy$con
  x <- copy$x
  first <- names(x)[1]
  lazy <- ec5_tbl(con, "ec5-demo", first)
  expect_s3_class(lazy, "tbl_sql")
  counted <- dplyr::collect(dplyr::count(lazy))$n
  expect_equal(counted, nrow(x[[1]]))
  # The SQL table's name works too.
  sql <- DBI::dbGetQuery(con, "SELECT sql_table FROM ec5_sync WHERE position = 1")$sql_table
  expect_equal(dplyr::collect(dplyr::count(ec5_tbl(con, "ec5-demo", sql)))$n, counted)
  expect_error(ec5_tbl(con, "ec5-demo", "nope"), class = "ec5_error_argument")
  expect_error(ec5_tbl(con, "other", first), class = "ec5_error_not_found")
})

test_that("the local copy is read with the naming asked for, eagerly or lazily", {
  skip_if_not_installed("dbplyr")
  copy <- local_demo_copy()
  srv <- copy$srv
  con <- copy$con
  x <- copy$x
  local <- ec5_local("ec5-demo", con = con, base_url = srv$url, col_names = "clean")
  fresh <- ec5_project_data("ec5-demo", base_url = srv$url, col_names = "clean")
  for (table in names(fresh)) {
    expect_identical(without_fetch_time(local[[table]]), without_fetch_time(fresh[[table]]), label = table)
  }
  withr::local_options(epicollect5.col_names = "clean")
  expect_identical(names(ec5_local("ec5-demo", con = con, base_url = srv$url)[[1]]), names(fresh[[1]]))
  lazy <- ec5_tbl(con, "ec5-demo", names(x)[1])
  stored <- ec5_tbl(con, "ec5-demo", names(x)[1], col_names = "export")
  expect_true(all(c("1_Name", "lat_14_where") %in% colnames(stored)))
  expect_identical(colnames(lazy), clean_names(colnames(stored)))
  expect_equal(dplyr::collect(dplyr::count(dplyr::filter(lazy, !is.na(where_lat))))$n,
               sum(!is.na(fresh[[1]]$where_lat)))
})
