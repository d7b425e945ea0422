test_that("the base URL defaults to the public server", {
  withr::local_options(epicollect5.base_url = NULL)
  withr::local_envvar(EC5_BASE_URL = NA)
  expect_identical(ec5_base_url(), "https://five.epicollect.net")
})

test_that("the option wins over the environment variable", {
  withr::local_envvar(EC5_BASE_URL = "https://env.example.org")
  withr::local_options(epicollect5.base_url = "https://option.example.org")
  expect_identical(ec5_base_url(), "https://option.example.org")
  withr::local_options(epicollect5.base_url = NULL)
  expect_identical(ec5_base_url(), "https://env.example.org")
})

test_that("trailing slashes are dropped and paths and ports kept", {
  withr::local_options(epicollect5.base_url = "http://127.0.0.1:8080/ec5//")
  expect_identical(ec5_base_url(), "http://127.0.0.1:8080/ec5")
})

test_that("malformed base URLs are argument errors that say where they came from", {
  withr::local_options(epicollect5.base_url = "five.epicollect.net")
  expect_error(ec5_base_url(), class = "ec5_error_argument")
  expect_snapshot(ec5_base_url(), error = TRUE)
  withr::local_options(epicollect5.base_url = NULL)
  withr::local_envvar(EC5_BASE_URL = "ftp://example.org")
  expect_snapshot(ec5_base_url(), error = TRUE)
  withr::local_options(epicollect5.base_url = c("https://a.org", "https://b.org"))
  expect_error(ec5_base_url(), class = "ec5_error_argument")
  withr::local_options(epicollect5.base_url = 42)
  expect_error(ec5_base_url(), class = "ec5_error_argument")
})
