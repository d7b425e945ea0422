test_that("labels are listed for the columns that have one", {
  x <- data.frame(a = 1:2, b = c("x", "y"), c = 3:4)
  attr(x$b, "label") <- "What is b?"
  attr(x$c, "label") <- "And c?"
  expect_equal(ec5_labels(x), tibble::tibble(column = c("b", "c"), label = c("What is b?", "And c?")))
  expect_equal(nrow(ec5_labels(data.frame(a = 1))), 0)
  expect_snapshot(ec5_labels(list(a = 1)), error = TRUE)
})

test_that("a fetched table's labels are its questions", {
  srv <- local_client_server()
  x <- ec5_entries("ec5-demo", base_url = srv$url)
  labels <- ec5_labels(x)
  p <- ec5_project("ec5-demo", base_url = srv$url)
  cs <- epicollect5:::ec5_column_spec(p)
  expected <- table_labels(cs)
  expect_identical(labels$label, expected[!is.na(expected)])
  where <- cs$spec$label[cs$spec$type == "location"][1]
  expect_identical(
    labels$label[startsWith(labels$column, "lat_")][1], paste0(where, ": latitude")
  )
  expect_identical(
    labels$label[startsWith(labels$column, "UTM_Northing_")][1], paste0(where, ": UTM northing")
  )
  expect_false(any(epicollect5:::table_layout()$system$name %in% labels$column))
})

test_that("labels are the same under clean names", {
  srv <- local_client_server()
  x <- ec5_entries("ec5-demo", base_url = srv$url, col_names = "clean")
  labels <- ec5_labels(x)
  expect_identical(labels$label[labels$column == "where_lat"], "where: latitude")
  expect_identical(labels$label[labels$column == "where_utm_zone"], "where: UTM zone")
})
