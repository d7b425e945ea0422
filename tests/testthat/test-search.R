test_that("projects are found by the start of their name", {
  srv <- local_client_server()
  hits <- ec5_search_projects("EC5", base_url = srv$url)
  expect_named(hits, c("name", "slug", "access", "ref"))
  expect_true(all(startsWith(toupper(hits$name), "EC5")))
  expect_true("ec5-demo" %in% hits$slug)
  exact <- ec5_search_projects("EC5 Demo", exact = TRUE, base_url = srv$url)
  expect_equal(exact$slug, "ec5-demo")
  private <- ec5_search_projects("Proyecto", base_url = srv$url)
  expect_equal(private$access, "private")
})

test_that("no hit is a zero-row tibble", {
  srv <- local_client_server()
  none <- ec5_search_projects("zzz-nothing", base_url = srv$url)
  expect_equal(nrow(none), 0)
  expect_named(none, c("name", "slug", "access", "ref"))
  expect_type(none$slug, "character")
})

test_that("bad names are argument errors", {
  expect_snapshot(error = TRUE, {
    ec5_search_projects("")
    ec5_search_projects("a/b")
    ec5_search_projects("EC5", exact = "yes")
  })
})
