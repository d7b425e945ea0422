test_that("the demo starts the local server, fetches the demo project and shows it", {
  withr::defer(ec5_demo_server(stop = TRUE))
  out <- capture.output(x <- ec5_demo(), type = "output")
  expect_s3_class(x, "ec5_project_data")
  expect_gt(length(x), 3)
  expect_true(all(vapply(x, nrow, 1L) > 0))
  expect_true(any(grepl("ec5_project_data", out)))
})
