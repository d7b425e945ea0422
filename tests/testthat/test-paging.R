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

test_that("a quiet project costs one request per page, read by number", {
  srv <- local_client_server()
  rows <- server_rows(srv, "ec5-demo")
  for (per_page in c(3, 12, 20, 30, 59, 60)) {
    mark <- log_marker(srv)
    x <- ec5_entries("ec5-demo", per_page = per_page, base_url = srv$url)
    expect_equal(x$ec5_uuid, rows$ec5_uuid)
    log <- mark()
    expect_equal(count_requests(log, "/api/export/entries/"), ceiling(nrow(rows) / per_page))
    expect_length(entries_requests(log, "filter_from"), 0)
  }
  mark <- log_marker(srv)
  ec5_entries("ec5-demo", per_page = 61, base_url = srv$url)
  expect_equal(count_requests(mark(), "/api/export/entries/"), 1)
  # `until` alone is sent as it is (`filter_to`): still the floor.
  until <- as.POSIXct(rows$uploaded_at[40], format = "%Y-%m-%dT%H:%M:%S", tz = "UTC")
  x <- ec5_entries("ec5-demo", per_page = 12, until = until, base_url = srv$url)
  expect_equal(x$ec5_uuid, rows$ec5_uuid[as.POSIXct(rows$uploaded_at, format = "%Y-%m-%dT%H:%M:%S", tz = "UTC") <= until])
  expect_equal(count_requests(mark(), "/api/export/entries/"), ceiling(nrow(x) / 12))
})

test_that("pages by number follow a page size the server lowered", {
  srv <- local_client_server(max_per_page = 50)
  withr::local_options(epicollect5.max_tries = 5)
  rows <- server_rows(srv, "ec5-demo")
  mark <- log_marker(srv)
  x <- ec5_entries("ec5-demo", base_url = srv$url)
  expect_equal(x$ec5_uuid, rows$ec5_uuid)
  log <- mark()
  answered <- log[log$status == 200, ]
  expect_equal(entries_queries(answered), paste0(
    "per_page=50&sort_by=uploaded_at&sort_order=asc&form_ref=", sub(".*form_ref=([^&]*).*", "\\1", entries_queries(answered)[1]),
    "&page=", 1:2
  ))
})

# A fetch at per_page 10 of the demo form (6 pages) with `changes` applied
# after its first request; what it returns and the requests it made.
fetch_changed <- function(srv, changes, after = 1) {
  srv$reset()
  before <- server_rows(srv, "ec5-demo")
  srv$schedule("ec5-demo", after, changes)
  mark <- log_marker(srv)
  x <- expect_no_warning(ec5_entries("ec5-demo", per_page = 10, base_url = srv$url))
  list(x = x, before = before, after = server_rows(srv, "ec5-demo"), log = mark())
}

test_that("every change between two pages is noticed, and the rest read by keyset", {
  srv <- local_client_server()
  rows <- server_rows(srv, "ec5-demo")
  changes <- list(
    # Fewer entries: the total drops.
    deleted = list(list(action = "delete", uuid = rows$ec5_uuid[3])),
    # An entry read moves to the end: read twice, and stamped after the first answer.
    edited = list(list(action = "edit", uuid = rows$ec5_uuid[3], title = "Edited")),
    # A delete and an add: the total stays, the added entry is stamped after the first answer.
    swapped = list(list(action = "delete", uuid = rows$ec5_uuid[3]), list(action = "add")),
    # An entry added: the total grows.
    added = list(list(action = "add"))
  )
  for (name in names(changes)) {
    got <- fetch_changed(srv, changes[[name]])
    expect_lasting(got$x, got$before, got$after)
    expect_true(all(got$after$ec5_uuid %in% got$x$ec5_uuid), label = name)
    expect_false(is.unsorted(got$x$uploaded_at), label = name)
    keyset <- entries_requests(got$log, "filter_from")
    expect_true(length(keyset) > 0, label = name)
    # By keyset from the newest second of page 1, all of it.
    from <- utils::URLdecode(sub(".*filter_from=([^&]*).*", "\\1", entries_queries(got$log)[keyset[1]]))
    expect_equal(from, sub("T", " ", sub("[.]000Z$", "", got$before$uploaded_at[10])), label = name)
  }
  # An edit of the last entry moves nothing, but the fetch cannot know it.
  got <- fetch_changed(srv, list(list(action = "edit", uuid = rows$ec5_uuid[60], title = "Edited")))
  expect_lasting(got$x, got$before, got$after)
})

test_that("an upload just before the fetch costs a keyset pass, never a loss", {
  srv <- local_client_server()
  srv$entries("ec5-demo", action = "add")
  rows <- server_rows(srv, "ec5-demo")
  mark <- log_marker(srv)
  x <- ec5_entries("ec5-demo", per_page = 10, base_url = srv$url)
  expect_equal(x$ec5_uuid, rows$ec5_uuid)
  expect_gt(count_requests(mark(), "/api/export/entries/"), ceiling(nrow(rows) / 10))
})

test_that("a second that keeps changing ends in a classed error, not a loop", {
  srv <- local_client_server()
  bulk <- list(action = "bulk", n = 60, uploaded_at = 1.7e9)
  do.call(srv$entries, c(list("ec5-demo"), bulk))
  rows <- server_rows(srv, "ec5-demo")
  tied <- rows$ec5_uuid[rows$uploaded_at == "2023-11-14T22:13:20.000Z"]
  # A delete after the first page sends the fetch to keyset paging; a dry
  # run finds the request that starts the bulk second.
  shift <- list(list(action = "delete", uuid = rows$ec5_uuid[2]))
  srv$schedule("ec5-demo", 1, shift)
  mark <- log_marker(srv)
  ec5_entries("ec5-demo", per_page = 20, base_url = srv$url)
  first <- entries_requests(mark(), "filter_from=2023-11-14%2022%3A13%3A20")[1]
  srv$reset()
  do.call(srv$entries, c(list("ec5-demo"), bulk))
  srv$schedule("ec5-demo", 1, shift)
  # Then an entry of the second deleted after every request from the first
  # window of that second on.
  for (k in 0:15) {
    srv$schedule("ec5-demo", first + k, list(list(action = "delete", uuid = tied[k + 1])))
  }
  expect_snapshot(ec5_entries("ec5-demo", per_page = 20, base_url = srv$url), error = TRUE)
})
