test_that("every real project arrives whole, linked, and as the server sent it", {
  srv <- local_client_server()
  slugs <- component$srv_catalogue()$slug
  for (slug in slugs) {
    auth <- if (slug %in% srv$clients$slug) server_auth(srv, slug)
    x <- ec5_project_data(slug, auth = auth, base_url = srv$url)
    project <- attr(x, "project")
    h <- attr(x, "hierarchy")
    branches <- project$inputs[project$inputs$type == "branch", ]
    # Every form and every branch is a table.
    expect_setequal(h$ref[h$kind == "form"], project$forms$ref)
    expect_setequal(h$ref[h$kind == "branch"], branches$ref)
    for (i in seq_len(nrow(h))) {
      table <- x[[h$table[i]]]
      query <- if (h$kind[i] == "form") {
        list(form_ref = h$ref[i])
      } else {
        list(form_ref = branches$form_ref[branches$ref == h$ref[i]], branch_ref = h$ref[i])
      }
      # Row counts equal the server's meta.total.
      expect_equal(nrow(table), server_total(srv, slug, query, auth), label = paste(slug, h$table[i], "rows"))
      # Keys link to a row of the parent.
      if (!is.na(h$parent[i])) {
        parent <- x[[h$parent[i]]]
        link <- if (h$kind[i] == "branch") "ec5_branch_owner_uuid" else "ec5_parent_uuid"
        expect_true(all(table[[link]] %in% parent$ec5_uuid), label = paste(slug, h$table[i], link))
      }
      # Values equal the server's after the table contract's conversion.
      cs <- epicollect5:::ec5_column_spec(
        project,
        form = if (h$kind[i] == "form") h$ref[i] else query$form_ref,
        branch = if (h$kind[i] == "branch") h$ref[i]
      )
      expect_values_match(table, server_entries(srv, slug, query, auth), cs$spec)
    }
  }
})

test_that("a whole project costs one request per table and one definition request", {
  srv <- local_client_server()
  srv$reset()
  x <- ec5_project_data("test-cleaning", base_url = srv$url)
  log <- srv$log()
  expect_equal(count_requests(log, "/api/export/entries/"), nrow(attr(x, "hierarchy")))
  expect_equal(count_requests(log, "/api/export/project/"), 1)
  # The definition's version is checked once, not once per table.
  expect_equal(count_requests(log, "/api/project-version/"), 1)
  expect_equal(sum(log$status == 429), 0)
})

test_that("tables read while the project changes lose no entry", {
  srv <- local_client_server(entries = c("ec5-demo" = 120), max_per_page = 50)
  # Five page sizes (1000 down to 50) are tried before this server accepts one.
  withr::local_options(epicollect5.max_tries = 5)
  before <- server_rows(srv, "ec5-demo")
  schedule_live(srv, "ec5-demo", edited = before$ec5_uuid[2:9], deleted = before$ec5_uuid[c(12, 60, 110)])
  x <- expect_no_warning(ec5_project_data("ec5-demo", base_url = srv$url))
  after <- server_rows(srv, "ec5-demo")
  expect_lasting(x[[1]], before, after)
  for (table in names(x)) {
    key <- if ("ec5_branch_uuid" %in% names(x[[table]])) "ec5_branch_uuid" else "ec5_uuid"
    expect_equal(anyDuplicated(x[[table]][[key]]), 0, label = table)
  }
})

test_that("forms and branches can be chosen, and filters reach every table", {
  srv <- local_client_server()
  p <- ec5_project("proyecto-api-python", auth = server_auth(srv, "proyecto-api-python"), base_url = srv$url)
  child <- p$forms$name[2]
  x <- ec5_project_data("proyecto-api-python", forms = child, branches = FALSE,
                        auth = server_auth(srv, "proyecto-api-python"), base_url = srv$url)
  expect_named(x, child)
  y <- ec5_project_data("test-cleaning", since = "2100-01-01", base_url = srv$url)
  expect_true(all(vapply(y, nrow, 1L) == 0L))
  expect_snapshot(ec5_project_data("test-cleaning", nonsense = 1, base_url = srv$url), error = TRUE)
})

test_that("ec5_join() adds the parent's columns to a child or branch table", {
  srv <- local_client_server()
  auth <- server_auth(srv, "proyecto-api-python")
  x <- ec5_project_data("proyecto-api-python", auth = auth, base_url = srv$url)
  h <- attr(x, "hierarchy")
  child <- h$table[h$kind == "form" & !is.na(h$parent)][1]
  joined <- ec5_join(x, child)
  parent <- x[[h$parent[h$table == child]]]
  expect_equal(nrow(joined), nrow(x[[child]]))
  expect_equal(joined$title_parent, parent$title[match(x[[child]]$ec5_parent_uuid, parent$ec5_uuid)])
  branch <- h$table[h$kind == "branch"][1]
  joined <- ec5_join(x, branch)
  expect_equal(nrow(joined), nrow(x[[branch]]))
  expect_true("created_at_parent" %in% names(joined))
  expect_snapshot(error = TRUE, {
    ec5_join(x, "nope")
    ec5_join(x, h$table[1])
    ec5_join(list(), "a")
  })
})

test_that("project data prints its hierarchy with row counts", {
  srv <- local_client_server()
  x <- ec5_project_data("proyecto-api-python", auth = server_auth(srv, "proyecto-api-python"), base_url = srv$url)
  expect_snapshot(print(x))
})

test_that("every table of project data takes clean column names; joins still work", {
  srv <- local_client_server()
  auth <- server_auth(srv, "proyecto-api-python")
  x <- ec5_project_data("proyecto-api-python", auth = auth, base_url = srv$url)
  clean <- ec5_project_data("proyecto-api-python", auth = auth, base_url = srv$url, col_names = "clean")
  expect_s3_class(clean, "ec5_project_data")
  expect_identical(names(clean), names(x))
  expect_identical(attr(clean, "hierarchy"), attr(x, "hierarchy"))
  for (table in names(x)) {
    expect_identical(names(clean[[table]]), clean_names(names(x[[table]])), label = table)
    expect_identical(make.names(names(clean[[table]])), names(clean[[table]]), label = table)
  }
  h <- attr(x, "hierarchy")
  child <- h$table[h$kind == "form" & !is.na(h$parent)][1]
  expect_equal(nrow(ec5_join(clean, child)), nrow(x[[child]]))
  expect_true("title_parent" %in% names(ec5_join(clean, child)))
})

test_that("[ keeps the project data's class, project and hierarchy", {
  srv <- local_client_server()
  x <- ec5_project_data("ec5-demo", base_url = srv$url)
  two <- names(x)[1:2]
  y <- x[two]
  expect_s3_class(y, "ec5_project_data")
  expect_named(y, two)
  expect_identical(attr(y, "project"), attr(x, "project"))
  expect_identical(attr(y, "hierarchy"), attr(x, "hierarchy")[1:2, ])
  expect_identical(y[[2]], x[[2]])
  expect_identical(names(x[c(TRUE, FALSE)]), names(x)[c(TRUE, FALSE)])
  expect_identical(x[], x)
  expect_identical(names(x[-1]), names(x)[-1])
  expect_identical(ec5_join(y, two[2]), ec5_join(x, two[2]))
  expect_snapshot(print(y))
  expect_snapshot(error = TRUE, {
    x["Nowhere"]
    x[99]
  })
})

test_that("an empty project has the column types of a full one, on every project served", {
  full <- local_client_server()
  empty <- local_client_server(entries = 0L)
  types <- function(table) vapply(table, function(col) paste(c(class(col), typeof(col)), collapse = "/"), "")
  for (slug in component$srv_catalogue()$slug) {
    tables <- lapply(list(full, empty), function(srv) {
      auth <- if (slug %in% srv$clients$slug) server_auth(srv, slug)
      suppressWarnings(ec5_project_data(slug, auth = auth, base_url = srv$url))
    })
    h <- attr(tables[[1]], "hierarchy")
    expect_true(all(vapply(tables[[2]][h$table], nrow, 1L) == 0L), label = slug)
    for (table in h$table) {
      expect_identical(types(tables[[2]][[table]]), types(tables[[1]][[table]]),
                       label = paste(slug, table))
      expect_identical(lapply(tables[[2]][[table]], attributes),
                       lapply(tables[[1]][[table]], attributes), label = paste(slug, table))
    }
  }
})
