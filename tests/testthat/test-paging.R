# Keyset paging (R/paging.R): the windows through one second, the arithmetic
# of the totals, the requests a quiet project costs, and a changing project
# read exactly: nothing lasting missing, nothing deleted kept.

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

test_that("every change between two pages is noticed, and all of it read again by keyset", {
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
    expect_true(length(entries_requests(got$log, "filter_from")) > 0, label = name)
    # By keyset from the start: page 1 again, then from the newest second held.
    queries <- entries_queries(got$log)
    again <- grep("page=1$", queries)[2]
    expect_false(grepl("filter_from", queries[again]), label = name)
    expect_match(queries[again + 1], "filter_from", label = name)
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

test_that("rows read by number that the keyset pass read past and did not find were deleted", {
  pager <- new.env()
  # Read by number: a to f at seconds 1 to 6; then by keyset: a, c, e (edited
  # to second 7) and b, d and f nowhere.
  pager$numbered <- 6L
  pager$keys <- c(letters[1:6], "a", "c", "e")
  pager$times <- c(1:6, 1, 3, 7)
  expect_setequal(epicollect5:::unread_rows(pager, reached_end = TRUE), c("b", "d", "f"))
  # A pass stopped early (at second 3) tells nothing about what lies at or
  # past the newest second it read.
  pager$keys <- c(letters[1:6], "a", "c")
  pager$times <- c(1:6, 1, 3)
  expect_equal(epicollect5:::unread_rows(pager, reached_end = FALSE), "b")
  # Nothing read by number: nothing to judge.
  pager$numbered <- 0L
  expect_length(epicollect5:::unread_rows(pager, reached_end = TRUE), 0)
  # Rows found deleted are not held, so the totals add up without them.
  pager <- fake_pager(c("a", "b", "c", "a", "c"), c(1, 2, 3, 1, 3), -Inf, 2)
  expect_true(epicollect5:::chain_broken(pager, reached_end = TRUE))
  pager$gone <- "b"
  expect_equal(epicollect5:::held_rows(pager)$keys, c("a", "c"))
  expect_false(epicollect5:::chain_broken(pager, reached_end = TRUE))
})

# Deletes in the issue's scenario (per_page 10: edits after request 1,
# deletes and adds after request 3), one of them on page 1 before its newest
# second and two on pages already read by number.
expect_exact_live <- function(fetch, before, deleted, after_rows, key) {
  x <- expect_no_warning(fetch())
  after <- after_rows()
  expect_lasting(x, before, after, key = key)
  expect_false(any(deleted %in% x[[key]]))
  expect_setequal(x[[key]], after[[key]])
  expect_equal(nrow(x), nrow(after))
  expect_false(is.unsorted(x$uploaded_at))
}

test_that("entries deleted during a fetch are left out, and nothing lasting is missing", {
  srv <- local_client_server()
  before <- server_rows(srv, "ec5-demo")
  schedule_live(srv, "ec5-demo", edited = before$ec5_uuid[2:9], deleted = before$ec5_uuid[c(1, 25, 35)])
  expect_exact_live(
    function() ec5_entries("ec5-demo", per_page = 10, base_url = srv$url),
    before, before$ec5_uuid[c(1, 25, 35)], function() server_rows(srv, "ec5-demo"), "ec5_uuid"
  )
})

test_that("branch entries deleted during a fetch are left out, and nothing lasting is missing", {
  srv <- local_client_server()
  p <- ec5_project("ec5-demo", base_url = srv$url)
  form <- p$forms$ref[1]
  b <- p$inputs$ref[p$inputs$type == "branch" & p$inputs$form_ref == form][1]
  before <- server_rows(srv, "ec5-demo", form_ref = form, branch_ref = b)
  owner <- server_rows(srv, "ec5-demo")$ec5_uuid[1]
  keys <- before$ec5_branch_uuid
  schedule_live(srv, "ec5-demo", edited = keys[2:9], deleted = keys[c(1, 25, 35)],
                add = list(form_ref = form, branch_ref = b, owner_uuid = owner))
  expect_exact_live(
    function() ec5_branch_entries("ec5-demo", branch = b, per_page = 10, base_url = srv$url),
    before, keys[c(1, 25, 35)],
    function() server_rows(srv, "ec5-demo", form_ref = form, branch_ref = b), "ec5_branch_uuid"
  )
})

test_that("an entry read by number and edited during the keyset pass is kept, with its new values", {
  srv <- local_client_server()
  before <- server_rows(srv, "ec5-demo")
  # A delete after page 1 sends the fetch to keyset paging (request 3 reads
  # page 1 again); then an entry of page 1 and one of page 2, both read by
  # number, move to the end.
  srv$schedule("ec5-demo", 1, list(list(action = "delete", uuid = before$ec5_uuid[2])))
  srv$schedule("ec5-demo", 3, list(
    list(action = "edit", uuid = before$ec5_uuid[4], title = "Edited 1"),
    list(action = "edit", uuid = before$ec5_uuid[15], title = "Edited 2")
  ))
  mark <- log_marker(srv)
  x <- expect_no_warning(ec5_entries("ec5-demo", per_page = 10, base_url = srv$url))
  after <- server_rows(srv, "ec5-demo")
  queries <- entries_queries(mark())
  expect_match(queries[2], "page=2$")
  expect_match(queries[3], "page=1$")
  expect_lasting(x, before, after)
  expect_setequal(x$ec5_uuid, after$ec5_uuid)
  expect_equal(nrow(x), nrow(after))
  expect_equal(x$title[match(before$ec5_uuid[c(4, 15)], x$ec5_uuid)], c("Edited 1", "Edited 2"))
})
