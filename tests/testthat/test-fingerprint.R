test_that("ec5_fingerprint() costs one version request and one tiny entries request per table", {
  srv <- local_client_server(entries = 6)
  for (slug in served_slugs()) {
    auth <- served_auth(srv, slug)
    project <- ec5_project(slug, auth = auth, base_url = srv$url)
    before <- nrow(srv$log())
    print <- ec5_fingerprint(slug, auth = auth, base_url = srv$url)
    expect_match(print, "^[0-9a-f]{16}$")
    log <- srv$log()[-seq_len(before), ]
    expect_equal(count_requests(log, "/api/project-version/"), 1, label = slug)
    expect_equal(count_requests(log, "/api/export/project/"), 0)
    entries <- log[startsWith(log$path, "/api/export/entries/"), ]
    tables <- nrow(project$forms) + sum(project$inputs$type == "branch")
    expect_equal(nrow(entries), tables, label = slug)
    expect_true(all(grepl("per_page=1(&|$)", entries$query)))
    expect_identical(ec5_fingerprint(slug, auth = auth, base_url = srv$url), print)
    # The project's URL reads as its slug.
    url <- paste0(srv$url, "/project/", slug)
    expect_identical(ec5_fingerprint(url, auth = auth, base_url = srv$url), print)
  }
})

test_that("an edit, a deletion, an addition and a structure change each change the fingerprint", {
  srv <- local_client_server(entries = 6)
  slug <- "ec5-demo"
  fingerprint <- function() ec5_fingerprint(slug, base_url = srv$url)
  seen <- fingerprint()
  changed <- function() {
    now <- fingerprint()
    new <- !now %in% seen
    seen <<- c(seen, now)
    new
  }
  x <- ec5_project_data(slug, base_url = srv$url)
  h <- attr(x, "hierarchy")
  branch <- which(h$kind == "branch")[1]
  forms <- which(h$kind == "form")
  # Upload times have one-second resolution: each change is stamped later
  # than anything before it.
  later <- function(k) as.numeric(Sys.time()) + 100 * k
  srv$entries(slug, action = "edit", uuid = x[[branch]]$ec5_branch_uuid[1], uploaded_at = later(1))
  expect_true(changed())
  srv$entries(slug, action = "edit", uuid = x[[forms[4]]]$ec5_uuid[1], uploaded_at = later(2))
  expect_true(changed())
  srv$entries(slug, action = "delete", uuid = x[[forms[2]]]$ec5_uuid[2])
  expect_true(changed())
  srv$entries(slug, action = "add", form_ref = h$ref[1], uploaded_at = later(3))
  expect_true(changed())
  srv$entries(slug, action = "add", form_ref = h$ref[h$table == h$parent[branch]],
              branch_ref = h$ref[branch], uploaded_at = later(4))
  expect_true(changed())
  srv$project(slug, bump_version = TRUE)
  expect_true(changed())
  expect_false(changed())
})

test_that("ec5_fingerprint() checks its arguments", {
  expect_error(ec5_fingerprint("Not A Slug"), class = "ec5_error_argument")
})
