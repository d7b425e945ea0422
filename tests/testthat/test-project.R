test_that("the definition is cached and fetched again only when its version changes", {
  srv <- local_client_server()
  srv$reset()
  p <- ec5_project("test-cleaning", base_url = srv$url)
  expect_s3_class(p, "ec5_project")
  expect_equal(p$project$slug, "test-cleaning")
  again <- ec5_project("test-cleaning", base_url = srv$url)
  expect_identical(again, p)
  log <- srv$log()
  expect_equal(count_requests(log, "/api/export/project/"), 1)
  expect_equal(count_requests(log, "/api/project-version/"), 2)
  srv$project("test-cleaning", bump_version = TRUE)
  ec5_project("test-cleaning", base_url = srv$url)
  expect_equal(count_requests(srv$log(), "/api/export/project/"), 2)
})

test_that("a private project's definition needs credentials", {
  srv <- local_client_server()
  withr::local_envvar(EC5_CLIENT_ID = NA, EC5_CLIENT_SECRET = NA)
  expect_snapshot(
    ec5_project("proyecto-api-python", base_url = srv$url),
    error = TRUE,
    transform = function(x) gsub("127\\.0\\.0\\.1:[0-9]+", "127.0.0.1:<port>", x)
  )
  p <- ec5_project("proyecto-api-python", auth = server_auth(srv, "proyecto-api-python"), base_url = srv$url)
  expect_equal(p$project$access, "private")
})

test_that("an unknown project is a not_found error", {
  srv <- local_client_server()
  expect_snapshot(
    ec5_project("no-such-project", base_url = srv$url),
    error = TRUE,
    transform = function(x) gsub("127\\.0\\.0\\.1:[0-9]+", "127.0.0.1:<port>", x)
  )
  expect_error(ec5_project("no-such-project", base_url = srv$url), class = "ec5_error_not_found")
})
