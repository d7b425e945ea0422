test_that("every served project is written to Excel and read back table by table", {
  skip_if_not_installed("writexl")
  skip_if_not_installed("readxl")
  srv <- local_client_server(entries = 6)
  data <- served_data(srv)
  for (slug in names(data)) {
    x <- data[[slug]]
    path <- withr::local_tempfile(fileext = ".xlsx")
    expect_identical(ec5_write_xlsx(x, path), x)
    sheets <- readxl::excel_sheets(path)
    expect_equal(sheets, c(epicollect5:::xlsx_sheet_names(c(names(x), "codebook"))), label = slug)
    for (i in seq_along(x)) {
      t <- x[[i]]
      types <- vapply(t, function(col) {
        if (inherits(col, c("POSIXct", "Date"))) "date" else if (is.numeric(col) || is.logical(col)) "numeric" else "text"
      }, "")
      back <- readxl::read_excel(path, sheet = sheets[i], col_types = unname(types), na = "", trim_ws = FALSE)
      expect_equal(names(back), names(t), label = paste(slug, names(x)[i]))
      expect_equal(nrow(back), nrow(t))
      for (j in names(t)) {
        col <- t[[j]]
        expected <- if (is.list(col)) {
          epicollect5:::csv_cells(col, j)
        } else if (is.factor(col)) {
          as.character(col)
        } else if (inherits(col, "Date")) {
          as.POSIXct(format(col), tz = "UTC")
        } else if (is.logical(col)) {
          as.numeric(col)
        } else {
          col
        }
        if (is.character(expected)) expected[!is.na(expected) & !nzchar(expected)] <- NA
        expect_equal(back[[j]], expected, ignore_attr = TRUE, tolerance = 1e-6, label = paste(slug, names(x)[i], j))
      }
    }
    book <- readxl::read_excel(path, sheet = "codebook")
    expect_equal(book$column, ec5_codebook(x)$column)
  }
})

test_that("list columns are joined as the website's CSV joins them", {
  skip_if_not_installed("writexl")
  skip_if_not_installed("readxl")
  srv <- local_client_server(entries = 6)
  x <- ec5_project_data("ec5-demo", base_url = srv$url)
  x[[1]]$`21_Faculties`[1:3] <- list(c("Arts, Humanities", "Law"), character(0), "Science")
  path <- withr::local_tempfile(fileext = ".xlsx")
  ec5_write_xlsx(x, path)
  back <- readxl::read_excel(path, sheet = 1)
  expect_equal(back$`21_Faculties`[1:3], c('"Arts, Humanities", Law', NA, "Science"))
  csv <- withr::local_tempfile(fileext = ".csv")
  ec5_write_csv(x[[1]][1:3, ], csv)
  expect_match(readLines(csv, encoding = "UTF-8")[2], '"""Arts, Humanities"", Law"', fixed = TRUE)
  expect_s3_class(back$created_at, "POSIXct")
})

test_that("sheet names follow Excel's rules, and bad arguments are refused", {
  expect_equal(epicollect5:::xlsx_sheet_names(c("a/b", "A_B", strrep("x", 40), "codebook")),
               c("a_b", "A_B_1", strrep("x", 31), "codebook"))
  expect_error(ec5_write_xlsx(list(), tempfile()), class = "ec5_error_argument")
})
