test_that("a table without problems gives a zero-row typed tibble", {
  x <- ec5_parse_entries(json_fixture("docs_entries_form_public_ec5-api-test.json"), api_test_project())
  expect_identical(ec5_problems(x), tibble::tibble(
    row = integer(0), column = character(0), expected = character(0), actual = character(0)
  ))
  expect_identical(ec5_problems(data.frame(a = 1)), ec5_problems(x))
})

test_that("problems list row, column, expected and actual", {
  p <- make_project(list(F = list(q("integer", "n"), q("date", "d", format = "dd/MM/YYYY"))))
  page <- page_json(c(
    entry_json(uuid(1), `1_n` = '"ten"'),
    entry_json(uuid(2), `1_n` = "2", `2_d` = '"11/9/21"')
  ))
  x <- suppressWarnings(ec5_parse_entries(page, p))
  expect_identical(ec5_problems(x), tibble::tibble(
    row = 1:2, column = c("1_n", "2_d"), expected = c("integer", "date dd/MM/YYYY"),
    actual = c("ten", "11/9/21")
  ))
  expect_true(is.na(x$`1_n`[1]))
  expect_true(is.na(x$`2_d`[2]))
})

test_that("the problems of a whole project's tables carry the table name", {
  p <- make_project(list(F = list(q("integer", "n"))))
  bad <- suppressWarnings(ec5_parse_entries(page_json(entry_json(uuid(1), `1_n` = '"x"')), p))
  good <- ec5_parse_entries(page_json(entry_json(uuid(2), `1_n` = "1")), p)
  data <- structure(list(first = bad, second = good), class = c("ec5_project_data", "list"))
  out <- ec5_problems(data)
  expect_named(out, c("table", "row", "column", "expected", "actual"))
  expect_equal(out$table, "first")
  expect_equal(out$actual, "x")
  empty <- ec5_problems(structure(list(a = good), class = c("ec5_project_data", "list")))
  expect_equal(nrow(empty), 0L)
  expect_named(empty, c("table", "row", "column", "expected", "actual"))
})

test_that("x must be a table", {
  expect_snapshot(ec5_problems(1:3), error = TRUE)
})

test_that("problems follow their rows when rows are reordered or left out", {
  problems <- tibble::tibble(
    row = c(1L, 3L, NA, 4L), column = c("a", "b", "c", "d"),
    expected = "integer", actual = c("w", "x", "y", "z")
  )
  moved <- problems_rows(problems, c(4L, 3L, 2L))
  expect_identical(moved$row, c(2L, NA, 1L))
  expect_identical(moved$actual, c("x", "y", "z"))
  expect_identical(problems_rows(empty_problems(), 2:1), empty_problems())
  expect_null(problems_rows(NULL, 1L))
})
