# Local copies kept up to date (R/sync.R): a full first call, incremental
# calls that cost one entries request per table, runtime edits on the server,
# deletions, structure changes and interrupted syncs. The store itself is
# tested in test-store*.R, reading the copy in test-local.R, the cache
# helpers in test-cache.R.

# The tables of a sync or of project data, without fetch times and filters
# (an incremental table keeps the provenance of its last fetch).
sync_tables <- function(x) {
  lapply(unclass(x), function(table) {
    attr(table, "provenance") <- NULL
    table
  })
}

entries_path <- "/api/export/entries/"

test_that("the first sync is full, and equals the project data", {
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  x <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  expect_s3_class(x, "ec5_project_data")
  changes <- attr(x, "changes")
  expect_named(changes, c("table", "inserted", "updated", "deleted", "rows", "full"))
  expect_true(all(changes$full))
  expect_equal(changes$inserted, changes$rows)
  expect_equal(changes$updated, rep(0L, nrow(changes)))
  fresh <- ec5_project_data("ec5-demo", base_url = srv$url)
  expect_identical(lapply(x, without_fetch_time), lapply(fresh, without_fetch_time))
  expect_identical(attr(x, "hierarchy"), attr(fresh, "hierarchy"))
  expect_equal(changes$table, names(fresh))
})

test_that("a first sync of tables larger than a page costs one request per page", {
  srv <- local_client_server(entries = c("ec5-demo" = 1100))
  dir <- withr::local_tempdir()
  mark <- log_marker(srv)
  x <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  pages <- vapply(x, function(table) max(1, ceiling(nrow(table) / 1000)), 1)
  expect_gt(sum(pages), length(x))
  expect_equal(count_requests(mark(), "/api/export/entries/"), sum(pages))
  fresh <- ec5_project_data("ec5-demo", base_url = srv$url)
  expect_equal(count_requests(mark(), "/api/export/entries/"), sum(pages))
  expect_identical(lapply(x, without_fetch_time), lapply(fresh, without_fetch_time))
})

test_that("a sync with nothing new costs one entries request per table and no definition", {
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  first <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  tables <- nrow(attr(first, "hierarchy"))
  mark <- log_marker(srv)
  second <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  log <- mark()
  expect_equal(count_matching(log, entries_path), tables)
  expect_equal(count_matching(log, "/api/export/project/"), 0)
  expect_equal(count_matching(log, "/api/project-version/"), 1)
  expect_equal(nrow(log), tables + 1)
  changes <- attr(second, "changes")
  expect_equal(changes$inserted, rep(0L, tables))
  expect_equal(changes$updated, rep(0L, tables))
  expect_false(any(changes$full))
  expect_identical(sync_tables(second), sync_tables(first))
  # A new R session has no definition in memory: the stored one is used.
  epicollect5:::project_cache_clear()
  third <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  log <- mark()
  expect_equal(count_matching(log, entries_path), tables)
  expect_equal(count_matching(log, "/api/export/project/"), 0)
  expect_identical(sync_tables(third), sync_tables(first))
})

test_that("added and edited entries are merged, and the copy equals a fresh fetch", {
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  first <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  p <- attr(first, "project")
  top <- first[[1]]
  branch <- p$inputs[p$inputs$type == "branch" & p$inputs$form_ref == p$forms$ref[1], ][1, ]
  added <- srv$entries("ec5-demo", action = "add")
  srv$entries("ec5-demo", action = "add", form_ref = p$forms$ref[1], branch_ref = branch$ref,
              owner_uuid = top$ec5_uuid[2])
  srv$entries("ec5-demo", action = "edit", uuid = top$ec5_uuid[3], title = "Edited on the server")
  mark <- log_marker(srv)
  x <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  expect_equal(count_matching(mark(), entries_path), nrow(attr(first, "hierarchy")))
  changes <- attr(x, "changes")
  expect_equal(changes$inserted[changes$table == names(first)[1]], 1)
  expect_equal(changes$updated[changes$table == names(first)[1]], 1)
  expect_equal(changes$inserted[changes$table == branch$map_to], 1)
  expect_equal(sum(changes$inserted), 2)
  expect_equal(sum(changes$updated), 1)
  expect_equal(changes$rows, vapply(x, nrow, 1L), ignore_attr = TRUE)
  expect_true(added$uuid %in% x[[1]]$ec5_uuid)
  expect_equal(x[[1]]$title[x[[1]]$ec5_uuid == top$ec5_uuid[3]], "Edited on the server")
  fresh <- ec5_project_data("ec5-demo", base_url = srv$url)
  expect_identical(sync_tables(x), sync_tables(fresh))
  for (table in names(x)) {
    key <- if ("ec5_branch_uuid" %in% names(x[[table]])) "ec5_branch_uuid" else "ec5_uuid"
    expect_equal(anyDuplicated(x[[table]][[key]]), 0, label = table)
  }
})

test_that("an edit within the second of the newest entry is not lost", {
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  first <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  top <- first[[1]]
  newest <- top[which.max(top$uploaded_at), ]
  # Same uploaded_at (to the second) as the stored cursor.
  srv$entries("ec5-demo", action = "edit", uuid = newest$ec5_uuid, title = "Edited in the same second",
              uploaded_at = as.numeric(newest$uploaded_at))
  x <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  expect_equal(x[[1]]$title[x[[1]]$ec5_uuid == newest$ec5_uuid], "Edited in the same second")
  expect_equal(attr(x, "changes")$updated[1], 1)
  expect_equal(attr(x, "changes")$inserted[1], 0)
  expect_identical(sync_tables(x), sync_tables(ec5_project_data("ec5-demo", base_url = srv$url)))
})

test_that("deleted entries are noticed by the next sync, and disappear", {
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  first <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  tables <- nrow(attr(first, "hierarchy"))
  gone <- first[[1]]$ec5_uuid[5]
  srv$entries("ec5-demo", action = "delete", uuid = gone)
  withr::local_options(epicollect5.verbose = TRUE)
  mark <- log_marker(srv)
  expect_message(
    x <- ec5_sync("ec5-demo", path = dir, base_url = srv$url),
    "deleted on the server", class = "ec5_message_deleted"
  )
  log <- mark()
  changes <- attr(x, "changes")
  expect_false(gone %in% x[[1]]$ec5_uuid)
  expect_equal(changes$deleted[1], 1)
  # Its child and branch entries went with it, and are counted too.
  expect_equal(changes$deleted, vapply(names(x), function(t) nrow(first[[t]]) - nrow(x[[t]]), 1), ignore_attr = TRUE)
  expect_gt(sum(changes$deleted), 1)
  expect_equal(changes$full, changes$deleted > 0)
  fresh <- ec5_project_data("ec5-demo", base_url = srv$url)
  expect_identical(sync_tables(x), sync_tables(fresh))
  # Per table: the probe, a count when the copy disagrees, the table again
  # when the count still disagrees.
  expect_equal(count_matching(log, entries_path), tables + 2 * sum(changes$deleted > 0))
  mark <- log_marker(srv)
  y <- ec5_sync("ec5-demo", path = dir, full = TRUE, base_url = srv$url)
  expect_equal(count_matching(mark(), entries_path), tables)
  expect_true(all(attr(y, "changes")$full))
  expect_identical(sync_tables(y), sync_tables(fresh))
})

test_that("a sync on a live project loses nothing, and the next one is exact", {
  srv <- local_client_server(entries = c("ec5-demo" = 120), max_per_page = 50)
  # Five page sizes (1000 down to 50) are tried before this server accepts one.
  withr::local_options(epicollect5.max_tries = 5)
  dir <- withr::local_tempdir()
  before <- server_rows(srv, "ec5-demo")
  schedule_live(srv, "ec5-demo", edited = before$ec5_uuid[2:9], deleted = before$ec5_uuid[c(12, 60, 110)])
  first <- expect_no_warning(ec5_sync("ec5-demo", path = dir, base_url = srv$url))
  expect_lasting(first[[1]], before, server_rows(srv, "ec5-demo"))
  # Exact: the entries deleted during the sync are not in the copy.
  expect_setequal(first[[1]]$ec5_uuid, server_rows(srv, "ec5-demo")$ec5_uuid)
  fresh <- function() sync_tables(ec5_project_data("ec5-demo", base_url = srv$url))
  second <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  expect_identical(sync_tables(second), fresh())
  expect_equal(sum(attr(second, "changes")$deleted), 0)
  # More changes than the probe holds: the rest is read from the cursor on,
  # while entries are edited, deleted and added between its pages.
  srv$entries("ec5-demo", action = "bulk", n = 130)
  top <- server_rows(srv, "ec5-demo")
  schedule_live(srv, "ec5-demo", edited = top$ec5_uuid[c(1, 50, 150)], deleted = top$ec5_uuid[c(5, 140)],
                edit_after = 2, change_after = 3)
  mark <- log_marker(srv)
  third <- expect_no_warning(ec5_sync("ec5-demo", path = dir, base_url = srv$url))
  after <- server_rows(srv, "ec5-demo")
  expect_lasting(third[[1]], top, after)
  queries <- mark()$query
  expect_true(any(grepl("sort_order=desc", queries)) && any(grepl("filter_from", queries)))
  fourth <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  expect_identical(sync_tables(fourth), fresh())
  expect_equal(sum(attr(fourth, "changes")$deleted) > 0, any(!third[[1]]$ec5_uuid %in% after$ec5_uuid))
})

test_that("a new structure version triggers a full fetch", {
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  srv$project("ec5-demo", bump_version = TRUE)
  mark <- log_marker(srv)
  x <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  log <- mark()
  expect_true(all(attr(x, "changes")$full))
  expect_equal(count_matching(log, "/api/export/project/"), 1)
  # Requests without a date filter: whole tables.
  entries <- log[startsWith(log$path, entries_path), ]
  expect_false(any(grepl("filter_from", entries$query)))
  # And the next sync is incremental again: one probe per table, the
  # newest entries of the table.
  y <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  expect_false(any(attr(y, "changes")$full))
  entries <- mark()
  entries <- entries[startsWith(entries$path, entries_path), ]
  expect_equal(nrow(entries), nrow(attr(x, "hierarchy")))
  expect_true(all(grepl("per_page=100&sort_by=uploaded_at&sort_order=desc", entries$query)))
})

test_that("an interrupted sync keeps the stored copy, and the next run resumes", {
  srv <- local_client_server()
  local_fast_retries()
  dir <- withr::local_tempdir()
  first <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  h <- attr(first, "hierarchy")
  p <- attr(first, "project")
  second_table <- h$table[2]
  branch_ref <- h$ref[2]
  expect_equal(h$kind[2], "branch")
  # New entries in the first and second table.
  srv$entries("ec5-demo", action = "add")
  srv$entries("ec5-demo", action = "add", form_ref = p$forms$ref[1], branch_ref = branch_ref,
              owner_uuid = first[[1]]$ec5_uuid[1])
  before <- ec5_local("ec5-demo", path = dir, base_url = srv$url)
  files <- list.files(dir, recursive = TRUE)
  srv$faults(type = "error", status = 503, path = entries_path, query = paste0("branch_ref=", branch_ref), times = 100)
  expect_error(ec5_sync("ec5-demo", path = dir, base_url = srv$url), class = "ec5_error_server")
  expect_snapshot(ec5_sync("ec5-demo", path = dir, base_url = srv$url), error = TRUE, transform = mask_run)
  # One transaction: the first table, written before the failure, is as it
  # was, like every other; no temporary file is left.
  expect_identical(ec5_local("ec5-demo", path = dir, base_url = srv$url), before)
  expect_equal(list.files(dir, recursive = TRUE), files)
  srv$clear_faults()
  mark <- log_marker(srv)
  x <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  expect_equal(count_matching(mark(), "/api/export/project/"), 0)
  changes <- attr(x, "changes")
  expect_equal(changes$inserted[changes$table == second_table], 1)
  expect_equal(changes$inserted[1], 1)
  expect_equal(sum(changes$inserted), 2)
  fresh <- ec5_project_data("ec5-demo", base_url = srv$url)
  expect_identical(sync_tables(x), sync_tables(fresh))
})

test_that("an interrupted full sync is redone in full", {
  srv <- local_client_server()
  local_fast_retries()
  dir <- withr::local_tempdir()
  first <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  srv$project("ec5-demo", bump_version = TRUE)
  srv$faults(type = "drop", path = entries_path, query = paste0("branch_ref=", attr(first, "hierarchy")$ref[2]), times = 100)
  expect_error(ec5_sync("ec5-demo", path = dir, base_url = srv$url), class = "ec5_error_transport")
  srv$clear_faults()
  x <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  expect_true(all(attr(x, "changes")$full))
  expect_identical(sync_tables(x), sync_tables(ec5_project_data("ec5-demo", base_url = srv$url)))
})

test_that("private projects sync with their credentials", {
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  slug <- "proyecto-api-python"
  auth <- server_auth(srv, slug)
  first <- ec5_sync(slug, path = dir, auth = auth, base_url = srv$url)
  expect_true("created_by" %in% names(first[[1]]))
  srv$entries(slug, action = "add")
  mark <- log_marker(srv)
  x <- ec5_sync(slug, path = dir, auth = auth, base_url = srv$url)
  log <- mark()
  expect_true(all(log$authorization[startsWith(log$path, entries_path)]))
  expect_equal(sum(attr(x, "changes")$inserted), 1)
  expect_identical(sync_tables(x), sync_tables(ec5_project_data(slug, auth = auth, base_url = srv$url)))
})

test_that("sync arguments are checked before any request", {
  srv <- local_client_server()
  mark <- log_marker(srv)
  expect_error(ec5_sync("ec5-demo", path = "", base_url = srv$url), class = "ec5_error_argument")
  expect_error(ec5_sync("ec5-demo", path = tempfile(), full = NA, base_url = srv$url), class = "ec5_error_argument")
  expect_error(ec5_sync("EC5 Demo", path = tempfile(), base_url = srv$url), class = "ec5_error_argument")
  expect_equal(nrow(mark()), 0)
  expect_snapshot(error = TRUE, ec5_sync("ec5-demo", path = tempfile(), full = "yes", base_url = srv$url))
})

test_that("a sync returns the naming asked for; the copy keeps the export names", {
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  x <- ec5_sync("ec5-demo", path = dir, base_url = srv$url, col_names = "clean")
  fresh <- ec5_project_data("ec5-demo", base_url = srv$url, col_names = "clean")
  expect_identical(lapply(x, without_fetch_time), lapply(fresh, without_fetch_time))
  expect_s3_class(attr(x, "changes"), "tbl_df")
  again <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  expect_identical(names(again[[1]]), export_names(x[[1]]))
})
