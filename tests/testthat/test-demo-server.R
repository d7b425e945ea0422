skip_if_not_installed("webfakes")
skip_if_not_installed("jsonlite")

test_that("ec5_demo_server() starts once, serves the demo project and stops", {
  withr::local_options(epicollect5.verbose = FALSE, epicollect5.base_url = "https://five.epicollect.net")
  withr::defer(ec5_demo_server(stop = TRUE))
  expect_invisible(url <- ec5_demo_server())
  expect_match(url, "^http://127\\.0\\.0\\.1:[0-9]+$")
  r <- srv_request(paste0(url, "/api/project-version/ec5-demo"))
  expect_equal(r$status, 200L)
  expect_equal(srv_json(r)$data$id, "ec5-demo")
  expect_identical(ec5_demo_server(), url)
  # Nothing global changes unless asked.
  expect_equal(getOption("epicollect5.base_url"), "https://five.epicollect.net")
  limited <- srv_request(paste0(url, "/api/export/entries/ec5-demo"))
  expect_equal(limited$headers[["x-ratelimit-limit"]], "60")

  expect_null(ec5_demo_server(stop = TRUE))
  gone <- tryCatch(suppressWarnings(srv_request(paste0(url, "/api/projects/x"), timeout = 2)),
                   error = function(e) NULL)
  expect_true(is.null(gone) || is.na(gone$status))
  expect_null(ec5_demo_server(stop = TRUE))
})

test_that("ec5_demo_server() can point the package at itself", {
  withr::local_options(epicollect5.verbose = FALSE, epicollect5.base_url = "https://five.epicollect.net")
  withr::defer(ec5_demo_server(stop = TRUE))
  url <- ec5_demo_server(rate_limits = "production", set_base_url = TRUE)
  expect_equal(getOption("epicollect5.base_url"), url)
  limited <- srv_request(paste0(url, "/api/export/entries/ec5-demo"))
  expect_equal(limited$headers[["x-ratelimit-limit"]], "5")
  ec5_demo_server(stop = TRUE)
  expect_equal(getOption("epicollect5.base_url"), "https://five.epicollect.net")
})

test_that("ec5_demo_server() says where it runs, unless told to be quiet", {
  withr::local_options(epicollect5.verbose = NULL)
  withr::defer(ec5_demo_server(stop = TRUE))
  expect_message(ec5_demo_server(), "demo server running at")
})

test_that("ec5_demo_server() checks its arguments", {
  expect_error(ec5_demo_server(stop = "yes"), class = "ec5_error_argument")
  expect_error(ec5_demo_server(set_base_url = NA), class = "ec5_error_argument")
  expect_error(ec5_demo_server(rate_limits = "fast"))
  expect_snapshot(ec5_demo_server(stop = 1), error = TRUE)
})

test_that("the server is a component outside the namespace, one prefix inside", {
  server <- epicollect5:::server_component()
  expect_identical(parent.env(server), baseenv())
  names <- ls(server, all.names = TRUE)
  expect_true(all(startsWith(names, "srv_") | names == "%||%"))
  # Functions find what they call there or in base R, never in the client.
  expect_identical(environment(server$srv_app), server)
  expect_false(exists("ec5_demo_server", envir = server))
  expect_true(is.function(server$srv_app))
})
