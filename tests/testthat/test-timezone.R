# The `tz` argument of the table functions (R/timezone.R): the time zone
# the date-times are shown in; the instants do not change.

expect_tz <- function(table, tz) {
  times <- names(table)[vapply(table, inherits, logical(1), "POSIXct")]
  expect_true(length(times) >= 2)
  for (t in times) expect_identical(attr(table[[t]], "tzone"), tz)
}

test_that("every table function shows date-times in `tz`, at the same instants, for every served project", {
  srv <- local_client_server(entries = 4)
  for (slug in served_slugs()) {
    auth <- served_auth(srv, slug)
    utc <- ec5_project_data(slug, auth = auth, base_url = srv$url)
    local <- ec5_project_data(slug, auth = auth, base_url = srv$url, tz = "Asia/Kolkata")
    expect_identical(attributes(local)[c("names", "class", "hierarchy")],
                     attributes(utc)[c("names", "class", "hierarchy")])
    for (t in names(utc)) {
      expect_tz(utc[[t]], "UTC")
      expect_tz(local[[t]], "Asia/Kolkata")
      expect_equal(as.numeric(local[[t]]$uploaded_at), as.numeric(utc[[t]]$uploaded_at))
      expect_identical(attr(local[[t]], "problems"), attr(utc[[t]], "problems"))
    }
  }
  top <- ec5_entries("ec5-demo", base_url = srv$url, tz = "America/New_York")
  expect_tz(top, "America/New_York")
  expect_identical(attr(top, "provenance")$slug, "ec5-demo")
  branch <- ec5_branch_entries("ec5-demo", "Staff", base_url = srv$url, tz = "Europe/Paris")
  expect_tz(branch, "Europe/Paris")
  expect_identical(format(branch$uploaded_at[1], "%Z"), format(as.POSIXct(branch$uploaded_at[1], tz = "Europe/Paris"), "%Z"))
})

test_that("ec5_read_csv() and ec5_local() take `tz` too", {
  srv <- local_client_server(entries = 4)
  path <- withr::local_tempfile(fileext = ".csv")
  x <- ec5_entries("ec5-demo", base_url = srv$url)
  ec5_write_csv(x, path)
  expect_tz(ec5_read_csv(path, tz = "Australia/Sydney"), "Australia/Sydney")
  dir <- withr::local_tempdir()
  ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  copy <- ec5_local("ec5-demo", path = dir, base_url = srv$url, tz = "Africa/Nairobi")
  for (t in names(copy)) expect_tz(copy[[t]], "Africa/Nairobi")
  expect_false(is.null(attr(copy, "synced_at")))
})

test_that("a `tz` that is not a time zone is refused before any request", {
  srv <- local_client_server(entries = 4)
  expect_snapshot(ec5_entries("ec5-demo", base_url = srv$url, tz = "Mars/Olympus"), error = TRUE)
  expect_error(ec5_project_data("ec5-demo", base_url = srv$url, tz = NA), class = "ec5_error_argument")
  csv <- withr::local_tempfile(fileext = ".csv")
  writeLines("ec5_uuid,title", csv)
  expect_error(ec5_read_csv(csv, tz = 1), class = "ec5_error_argument")
  expect_equal(count_requests(srv$log(), "/api"), 0)
})
