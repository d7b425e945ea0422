test_that("every page of a form is fetched, ascending by upload time, without duplicates", {
  srv <- local_client_server()
  rows <- server_rows(srv, "ec5-demo")
  srv$reset()
  x <- ec5_entries("ec5-demo", per_page = 15, base_url = srv$url)
  expect_equal(x$ec5_uuid, rows$ec5_uuid)
  expect_false(is.unsorted(x$uploaded_at))
  log <- srv$log()
  entries <- log[startsWith(log$path, "/api/export/entries/"), ]
  # Quiet project: one request per page, the pages by number.
  expect_equal(nrow(entries), ceiling(nrow(rows) / 15))
  expect_true(all(grepl("sort_by=uploaded_at&sort_order=asc", entries$query)))
  expect_true(all(grepl("per_page=15&", entries$query)))
  expect_equal(sub(".*&page=", "", entries$query), as.character(seq_len(nrow(entries))))
  expect_false(any(grepl("filter_from", entries$query)))
  # At the default page size, one request as before.
  srv$reset()
  ec5_entries("ec5-demo", base_url = srv$url)
  expect_equal(count_requests(srv$log(), "/api/export/entries/"), 1)
})

test_that("the issue's scenario: edits, deletions and additions between pages lose nothing", {
  srv <- local_client_server()
  before <- server_rows(srv, "ec5-demo")
  schedule_live(srv, "ec5-demo", edited = before$ec5_uuid[2:9], deleted = before$ec5_uuid[c(12, 25, 35)])
  x <- expect_no_warning(ec5_entries("ec5-demo", per_page = 10, base_url = srv$url))
  after <- server_rows(srv, "ec5-demo")
  expect_lasting(x, before, after)
  expect_true(all(paste("Edited", 1:8) %in% x$title))
  expect_false(is.unsorted(x$uploaded_at))
  # The five entries added during the fetch are read too (they come last).
  expect_true(all(after$ec5_uuid %in% x$ec5_uuid))
})

test_that("a second shared by more entries than a page holds is read in overlapping windows", {
  srv <- local_client_server()
  before <- server_rows(srv, "ec5-demo")
  # A bulk upload of 23 entries in one second between the first two pages:
  # the pages moved, and the rest is read by keyset, that second in windows.
  srv$schedule("ec5-demo", 1, list(list(action = "bulk", n = 23, uploaded_at = 1.7e9)))
  mark <- log_marker(srv)
  x <- ec5_entries("ec5-demo", per_page = 5, base_url = srv$url)
  after <- server_rows(srv, "ec5-demo")
  expect_setequal(x$ec5_uuid, after$ec5_uuid)
  expect_equal(nrow(x), nrow(before) + 23)
  expect_false(is.unsorted(x$uploaded_at))
  block <- "filter_from=2023-11-14%2022%3A13%3A20"
  log <- mark()
  expect_true(length(intersect(entries_requests(log, block), entries_requests(log, "page=[2-9]"))) > 0)
  # The same project, quiet: pages by number, nothing read twice.
  expect_equal(ec5_entries("ec5-demo", per_page = 5, base_url = srv$url)$ec5_uuid, after$ec5_uuid)
  expect_equal(count_requests(mark(), "/api/export/entries/"), ceiling(nrow(after) / 5))
  # An edit and a delete inside that second after its first window: a
  # delete after the first page makes the fetch read the rest by keyset; a
  # dry run finds the request that starts the second.
  change <- list(list(action = "delete", uuid = after$ec5_uuid[2]))
  srv$schedule("ec5-demo", 1, change)
  ec5_entries("ec5-demo", per_page = 5, base_url = srv$url)
  first <- entries_requests(mark(), block)[1]
  srv$reset()
  srv$schedule("ec5-demo", 1, list(list(action = "bulk", n = 23, uploaded_at = 1.7e9)))
  ec5_entries("ec5-demo", per_page = 5, base_url = srv$url)
  start <- server_rows(srv, "ec5-demo")
  tied <- start$ec5_uuid[start$uploaded_at == "2023-11-14T22:13:20.000Z"]
  srv$schedule("ec5-demo", 1, change)
  srv$schedule("ec5-demo", first, list(
    list(action = "edit", uuid = tied[2], title = "Edited in the block"),
    list(action = "delete", uuid = tied[3])
  ))
  mark <- log_marker(srv)
  y <- ec5_entries("ec5-demo", per_page = 5, base_url = srv$url)
  expect_equal(entries_requests(mark(), block)[1], first)
  expect_lasting(y, start, server_rows(srv, "ec5-demo"))
  expect_true("Edited in the block" %in% y$title)
})

test_that("an entry the server leaves out of a page is fetched again, or reported", {
  srv <- local_client_server()
  local_fast_retries()
  rows <- server_rows(srv, "ec5-demo")
  srv$faults(type = "drop_entry", path = "^/api/export/entries/", times = 1)
  x <- expect_no_warning(ec5_entries("ec5-demo", per_page = 20, base_url = srv$url))
  expect_equal(x$ec5_uuid, rows$ec5_uuid)
  srv$faults(type = "drop_entry", path = "^/api/export/entries/", query = "per_page=20", times = 100)
  expect_warning(
    y <- ec5_entries("ec5-demo", per_page = 20, base_url = srv$url),
    class = "ec5_warning_incomplete"
  )
  expect_lt(nrow(y), nrow(rows))
  expect_snapshot(invisible(ec5_entries("ec5-demo", per_page = 20, base_url = srv$url)))
  srv$clear_faults()
})

test_that("other orders are applied to the rows; one page is fetched as asked", {
  srv <- local_client_server()
  rows <- server_rows(srv, "ec5-demo")
  desc <- ec5_entries("ec5-demo", sort_order = "desc", per_page = 15, base_url = srv$url)
  newest <- server_page(srv, "ec5-demo", list(per_page = 1000, sort_by = "uploaded_at", sort_order = "desc"))
  expect_equal(desc$ec5_uuid, vapply(newest$data$entries, `[[`, "", "ec5_uuid"))
  one <- server_page(srv, "ec5-demo", list(per_page = 1000, sort_by = "title", sort_order = "desc"))
  titles <- vapply(one$data$entries, `[[`, "", "title")
  by_title <- ec5_entries("ec5-demo", sort_by = "title", sort_order = "desc", per_page = 15, base_url = srv$url)
  expect_equal(by_title$title, titles)
  created <- ec5_entries("ec5-demo", sort_by = "created_at", per_page = 15, base_url = srv$url)
  expect_false(is.unsorted(created$created_at))
  srv$reset()
  first <- ec5_entries("ec5-demo", sort_by = "title", max_entries = 4, base_url = srv$url)
  expect_equal(nrow(first), 4)
  log <- srv$log()
  expect_equal(count_requests(log, "/api/export/entries/"), 1)
  expect_match(log$query[startsWith(log$path, "/api/export/entries/")], "sort_by=title")
  # max_entries beyond a page in another order: all rows, ordered, then cut.
  top <- ec5_entries("ec5-demo", sort_by = "title", sort_order = "desc", max_entries = 20, per_page = 15, base_url = srv$url)
  expect_equal(top$title, titles[1:20])
})

test_that("the table contract holds: system columns, types, labels, provenance", {
  srv <- local_client_server()
  x <- ec5_entries("ec5-demo", base_url = srv$url)
  expect_s3_class(x, "tbl_df")
  expect_equal(names(x)[1:4], c("ec5_uuid", "created_at", "uploaded_at", "title"))
  expect_s3_class(x$created_at, "POSIXct")
  expect_equal(attr(x$uploaded_at, "tzone"), "UTC")
  p <- ec5_project("ec5-demo", base_url = srv$url)
  cs <- epicollect5:::ec5_column_spec(p)
  for (i in seq_len(nrow(cs$spec))) {
    location <- cs$spec$type[i] == "location"
    col <- if (location) paste0("lat_", cs$spec$name[i]) else cs$spec$name[i]
    label <- if (location) paste0(cs$spec$label[i], ": latitude") else cs$spec$label[i]
    expect_identical(attr(x[[col]], "label"), label)
  }
  expect_s3_class(x[[cs$spec$name[cs$spec$type == "radio"][1]]], "factor")
  expect_type(x[[cs$spec$name[cs$spec$type == "checkbox"][1]]], "list")
  prov <- attr(x, "provenance")
  expect_equal(prov$slug, "ec5-demo")
  expect_equal(prov$form, p$forms$name[1])
  expect_equal(prov$total, nrow(x))
  expect_s3_class(prov$fetched_at, "POSIXct")
  expect_equal(prov$package_version, as.character(packageVersion("epicollect5")))
})

test_that("an empty result has zero rows and the same typed columns", {
  srv <- local_client_server()
  full <- ec5_entries("ec5-demo", base_url = srv$url)
  none <- ec5_entries("ec5-demo", since = "2100-01-01", base_url = srv$url)
  expect_equal(nrow(none), 0)
  expect_identical(names(none), names(full))
  # An integer question is double only when a value exceeds 32 bits, so with
  # no values it is integer; every other column keeps its type.
  widened <- vapply(full, is.double, TRUE) & vapply(none, is.integer, TRUE)
  expect_identical(lapply(none, class)[!widened], lapply(full, class)[!widened])
  expect_identical(lapply(none, levels), lapply(full, levels))
})

test_that("a child form, and the children of one parent entry", {
  srv <- local_client_server()
  p <- ec5_project("ec5-demo", base_url = srv$url)
  top <- ec5_entries("ec5-demo", base_url = srv$url)
  kids <- ec5_entries("ec5-demo", form = p$forms$name[2], base_url = srv$url)
  expect_equal(names(kids)[1:2], c("ec5_uuid", "ec5_parent_uuid"))
  expect_true(all(kids$ec5_parent_uuid %in% top$ec5_uuid))
  parent <- kids$ec5_parent_uuid[1]
  srv$reset()
  mine <- ec5_entries("ec5-demo", form = p$forms$slug[2], parent_uuid = parent, base_url = srv$url)
  expect_setequal(mine$ec5_uuid, kids$ec5_uuid[kids$ec5_parent_uuid == parent])
  query <- srv$log()$query[startsWith(srv$log()$path, "/api/export/entries/")]
  expect_true(grepl(paste0("parent_form_ref=", p$forms$ref[1]), query[1], fixed = TRUE))
  expect_snapshot(ec5_entries("ec5-demo", parent_uuid = parent, base_url = srv$url), error = TRUE)
})

test_that("filters: uuid, title, since and until, max_entries", {
  srv <- local_client_server()
  all <- ec5_entries("ec5-demo", base_url = srv$url)
  one <- ec5_entries("ec5-demo", uuid = all$ec5_uuid[5], base_url = srv$url)
  expect_equal(one$ec5_uuid, all$ec5_uuid[5])
  titled <- ec5_entries("ec5-demo", title = all$title[3], base_url = srv$url)
  expect_true(all$ec5_uuid[3] %in% titled$ec5_uuid)
  cut <- sort(all$uploaded_at)[30]
  later <- ec5_entries("ec5-demo", since = cut, base_url = srv$url)
  expect_setequal(later$ec5_uuid, all$ec5_uuid[all$uploaded_at >= cut])
  earlier <- ec5_entries("ec5-demo", until = cut, base_url = srv$url)
  expect_setequal(earlier$ec5_uuid, all$ec5_uuid[all$uploaded_at <= cut])
  # Both bounds with times of day: the server would widen to whole days, so
  # the client sends only `since` and cuts at `until` itself.
  start <- sort(all$uploaded_at)[10]
  window <- ec5_entries("ec5-demo", since = start, until = cut, base_url = srv$url)
  expect_setequal(window$ec5_uuid, all$ec5_uuid[all$uploaded_at >= start & all$uploaded_at <= cut])
  by_day <- ec5_entries("ec5-demo", since = as.Date(start), date_field = "created_at", base_url = srv$url)
  expect_setequal(by_day$ec5_uuid, all$ec5_uuid[all$created_at >= as.POSIXct(as.Date(start))])
  srv$reset()
  three <- ec5_entries("ec5-demo", max_entries = 3, base_url = srv$url)
  expect_equal(nrow(three), 3)
  expect_equal(count_requests(srv$log(), "/api/export/entries/"), 1)
  # Keyset paging stops at `until` and at max_entries.
  srv$reset()
  early <- ec5_entries("ec5-demo", until = sort(all$uploaded_at)[12], per_page = 5, base_url = srv$url)
  expect_setequal(early$ec5_uuid, all$ec5_uuid[all$uploaded_at <= sort(all$uploaded_at)[12]])
  expect_lt(count_requests(srv$log(), "/api/export/entries/"), 12)
  srv$reset()
  some <- ec5_entries("ec5-demo", max_entries = 12, per_page = 5, base_url = srv$url)
  expect_equal(some$ec5_uuid, all$ec5_uuid[1:12])
  expect_lt(count_requests(srv$log(), "/api/export/entries/"), 12)
})

test_that("a custom mapping renames columns, hides questions and relabels answers", {
  srv <- local_client_server()
  auto <- ec5_entries("test-cleaning", map_index = 0, base_url = srv$url)
  custom <- ec5_entries("test-cleaning", map_index = 1, base_url = srv$url)
  p <- ec5_project("test-cleaning", base_url = srv$url)
  mapped <- p$mapping_inputs[p$mapping_inputs$map_index == 1, ]
  expect_true(all(setdiff(names(custom), epicollect5:::table_layout()$system$name) %in%
    c(mapped$map_to, paste0(c("lat_", "long_", "accuracy_", "UTM_Northing_", "UTM_Easting_", "UTM_Zone_"), rep(mapped$map_to, each = 6)))))
  expect_lt(ncol(custom), ncol(auto))
  expect_equal(nrow(custom), nrow(auto))
  expect_snapshot(ec5_entries("test-cleaning", map_index = 7, base_url = srv$url), error = TRUE)
})

test_that("private projects: created_by kept, hashed or dropped", {
  srv <- local_client_server()
  auth <- server_auth(srv, "proyecto-api-python")
  kept <- ec5_entries("proyecto-api-python", auth = auth, base_url = srv$url)
  expect_true("created_by" %in% names(kept))
  # The server's placeholder for an unknown uploader is NA, never a person.
  sent <- vapply(server_entries(srv, "proyecto-api-python", auth = auth), `[[`, "", "created_by")
  expect_gt(sum(sent == "n/a"), 0)
  expect_identical(sum(is.na(kept$created_by)), sum(sent == "n/a"))
  expect_false("n/a" %in% kept$created_by)
  hashed <- ec5_entries("proyecto-api-python", created_by = "hash", auth = auth, base_url = srv$url)
  expect_identical(is.na(hashed$created_by), is.na(kept$created_by))
  expect_false(any(hashed$created_by %in% kept$created_by[!is.na(kept$created_by)]))
  expect_equal(
    as.vector(table(match(hashed$created_by, unique(hashed$created_by)))),
    as.vector(table(match(kept$created_by, unique(kept$created_by))))
  )
  dropped <- ec5_entries("proyecto-api-python", created_by = "drop", auth = auth, base_url = srv$url)
  expect_false("created_by" %in% names(dropped))
})

test_that("credentials come from the environment when not given", {
  srv <- local_client_server()
  i <- match("proyecto-api-python", srv$clients$slug)
  withr::local_envvar(EC5_CLIENT_ID = srv$clients$client_id[i], EC5_CLIENT_SECRET = srv$clients$client_secret[i])
  x <- ec5_entries("proyecto-api-python", base_url = srv$url)
  expect_gt(nrow(x), 0)
})

test_that("arguments are checked before any request", {
  srv <- local_client_server()
  srv$reset()
  expect_snapshot(error = TRUE, {
    ec5_entries("EC5 Demo", base_url = srv$url)
    ec5_entries("ec5-demo", per_page = 5000, base_url = srv$url)
    ec5_entries("ec5-demo", max_entries = 0, base_url = srv$url)
    ec5_entries("ec5-demo", since = "last tuesday", base_url = srv$url)
    ec5_entries("ec5-demo", since = "2024-02-01", until = "2024-01-01", base_url = srv$url)
    ec5_entries("ec5-demo", uuid = "abc", base_url = srv$url)
    ec5_entries("ec5-demo", sort_by = "size", base_url = srv$url)
    ec5_entries("ec5-demo", base_url = "five.epicollect.net")
  })
  expect_equal(nrow(srv$log()), 0)
})

test_that("an unknown form lists the valid ones", {
  srv <- local_client_server()
  expect_snapshot(ec5_entries("ec5-demo", form = "Nope", base_url = srv$url), error = TRUE)
})

test_that("a server that caps per_page lower is answered with smaller pages, remembered", {
  srv <- local_client_server(max_per_page = 500)
  total <- server_total(srv, "ec5-demo")
  srv$reset()
  x <- ec5_entries("ec5-demo", base_url = srv$url)
  expect_equal(nrow(x), total)
  query <- srv$log()$query[startsWith(srv$log()$path, "/api/export/entries/")]
  expect_equal(length(query), 2)
  expect_match(query[1], "per_page=1000")
  expect_match(query[2], "per_page=500")
  srv$reset()
  ec5_entries("ec5-demo", base_url = srv$url)
  query <- srv$log()$query[startsWith(srv$log()$path, "/api/export/entries/")]
  expect_equal(length(query), 1)
  expect_match(query[1], "per_page=500")
})
test_that("clean column names: syntactic, unique, the same values and labels", {
  srv <- local_client_server()
  x <- ec5_entries("ec5-demo", base_url = srv$url)
  clean <- ec5_entries("ec5-demo", base_url = srv$url, col_names = "clean")
  expect_identical(names(clean), clean_names(names(x)))
  expect_identical(make.names(names(clean), unique = TRUE), names(clean))
  expect_false(any(grepl("^[0-9]", names(clean))))
  expect_true(all(c("ec5_uuid", "created_at", "uploaded_at", "title", "where_lat", "where_utm_zone") %in% names(clean)))
  expect_identical(ec5_labels(clean)$label, ec5_labels(x)$label)
  expect_identical(export_names(clean), names(x))
  back <- clean
  for (j in seq_along(back)) attr(back[[j]], "ec5_name") <- NULL
  names(back) <- names(x)
  expect_identical(lapply(back, identity), lapply(x, identity))
  expect_identical(attr(clean, "provenance")$slug, "ec5-demo")
  withr::local_options(epicollect5.col_names = "clean")
  expect_named(ec5_entries("ec5-demo", base_url = srv$url, max_entries = 2), names(clean))
  some <- ec5_entries("ec5-demo", base_url = srv$url, max_entries = 3)
  expect_snapshot(print(some[c("ec5_uuid", "name", "dob", "where_lat", "where_long", "where_utm_zone")], width = 120))
  expect_error(ec5_entries("ec5-demo", base_url = srv$url, col_names = "tidy"), class = "ec5_error_argument")
})

test_that("rows taken from a table keep its provenance and renumber its problems", {
  p <- make_project(list(F = list(q("integer", "n"))))
  page <- page_json(c(
    entry_json(uuid(1), `1_n` = "1"),
    entry_json(uuid(2), `1_n` = '"two"'),
    entry_json(uuid(3), `1_n` = '"three"')
  ))
  x <- suppressWarnings(ec5_parse_entries(page, p))
  attr(x, "provenance") <- list(slug = "s")
  y <- table_rows(x, c(3L, 1L))
  expect_identical(y$ec5_uuid, x$ec5_uuid[c(3, 1)])
  expect_identical(ec5_problems(y)$row, 1L)
  expect_identical(ec5_problems(y)$actual, "three")
  expect_true(is.na(y$`1_n`[ec5_problems(y)$row]))
  expect_identical(attr(y, "provenance"), list(slug = "s"))
})
