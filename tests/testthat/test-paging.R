# Keyset paging (R/paging.R): the windows through one second, the arithmetic
# of the totals, and the requests a quiet project costs.

test_that("tie windows overlap the rows held and reach as far as they can", {
  w <- epicollect5:::tie_window(1000, 1000, 1)
  expect_equal(w, list(page = 2L, per_page = 999L))
  w <- epicollect5:::tie_window(1998, 1000, 2)
  expect_equal(w, list(page = 3L, per_page = 998L))
  for (end in c(5, 8, 13, 40)) {
    for (margin in 1:3) {
      w <- epicollect5:::tie_window(end, 5, margin)
      start <- (w$page - 1) * w$per_page
      expect_lte(start, end - 1)
      expect_gt(w$page * w$per_page, end)
      expect_lte(w$per_page, 20)
    }
  }
  # The k-th window overlaps by k rows when a window can.
  w <- epicollect5:::tie_window(12, 5, 3)
  expect_lte((w$page - 1) * w$per_page, 9)
  # Pages of one entry still move forward, in larger windows.
  for (end in 1:60) {
    w <- epicollect5:::tie_window(end, 1, 1)
    expect_gt(w$page * w$per_page, end)
    expect_lte((w$page - 1) * w$per_page, end - 1)
  }
})

fake_pager <- function(keys, times, filters, totals) {
  pager <- new.env()
  pager$keys <- keys
  pager$times <- times
  pager$filters <- filters
  pager$totals <- totals
  pager
}

test_that("the totals of successive cursors must add up to the rows held", {
  times <- c(1, 2, 3, 3, 4, 5, 5, 6)
  keys <- letters[seq_along(times)]
  # Cursors -Inf, 3, 5: 2 rows before 3, 3 in [3, 5), 3 from 5 on.
  quiet <- fake_pager(keys, times, c(-Inf, 3, 5), c(8, 6, 3))
  expect_false(epicollect5:::chain_broken(quiet, reached_end = TRUE))
  # An entry the server counted but never sent.
  lost <- fake_pager(keys[-4], times[-4], c(-Inf, 3, 5), c(8, 6, 3))
  expect_true(epicollect5:::chain_broken(lost, reached_end = TRUE))
  # A pass stopped early checks only the intervals it finished.
  early <- fake_pager(keys[1:5], times[1:5], c(-Inf, 3, 5), c(8, 6, 3))
  expect_false(epicollect5:::chain_broken(early, reached_end = FALSE))
  # An entry read twice counts once, at its last (newest) time.
  edited <- fake_pager(c(keys, "a"), c(times, 7), c(-Inf, 3, 5), c(8, 6, 3))
  expect_true(epicollect5:::chain_broken(edited, reached_end = TRUE))
  expect_equal(epicollect5:::held_rows(edited)$times, c(2, 3, 3, 4, 5, 5, 6, 7))
})

test_that("a quiet project costs one request per page; ties only what they need", {
  srv <- local_client_server()
  rows <- server_rows(srv, "ec5-demo")
  for (per_page in c(12, 20, 30, 59, 60)) {
    mark <- log_marker(srv)
    x <- ec5_entries("ec5-demo", per_page = per_page, base_url = srv$url)
    expect_equal(x$ec5_uuid, rows$ec5_uuid)
    expect_equal(count_requests(mark(), "/api/export/entries/"), keyset_requests(rows$uploaded_at, per_page))
  }
  mark <- log_marker(srv)
  ec5_entries("ec5-demo", per_page = 61, base_url = srv$url)
  expect_equal(count_requests(mark(), "/api/export/entries/"), 1)
  # Seconds holding a full page are read in windows: every entry once.
  mark <- log_marker(srv)
  x <- ec5_entries("ec5-demo", per_page = 3, base_url = srv$url)
  expect_equal(x$ec5_uuid, rows$ec5_uuid)
  queries <- mark()$query
  expect_true(any(grepl("per_page=([4-9]|[1-9][0-9])&|&page=[2-9]", queries)))
})

test_that("a second that keeps changing ends in a classed error, not a loop", {
  srv <- local_client_server()
  srv$entries("ec5-demo", action = "bulk", n = 60, uploaded_at = 1.7e9)
  rows <- server_rows(srv, "ec5-demo")
  tied <- rows$ec5_uuid[rows$uploaded_at == "2023-11-14T22:13:20.000Z"]
  # An entry of the second deleted after every request from the first
  # window of that second on.
  mark <- log_marker(srv)
  ec5_entries("ec5-demo", per_page = 20, base_url = srv$url)
  log <- mark()
  queries <- log$query[startsWith(log$path, "/api/export/entries/")]
  first <- grep("filter_from=2023-11-14%2022%3A13%3A20", queries)[1]
  for (k in 0:15) {
    srv$schedule("ec5-demo", first + k, list(list(action = "delete", uuid = tied[k + 1])))
  }
  expect_snapshot(ec5_entries("ec5-demo", per_page = 20, base_url = srv$url), error = TRUE)
})
