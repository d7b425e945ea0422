# The naming of a table's columns (R/column-names.R): export names as the
# website's CSV has them, or clean ones; the way back to the export names.

test_that("clean names drop the number prefix and are lower snake case", {
  export <- c("ec5_uuid", "created_at", "uploaded_at", "title", "1_Name",
              "20_Type_of_universit", "12_Body_temperature_", "3_Ubicacin")
  expect_identical(clean_names(export), c(
    "ec5_uuid", "created_at", "uploaded_at", "title", "name",
    "type_of_universit", "body_temperature", "ubicacin"
  ))
})

test_that("a location's six columns are its clean name and the part", {
  prefix <- table_layout()$location$prefix
  export <- c("ec5_uuid", "1_Name", paste0(prefix, "14_where"), "15_Age")
  expect_identical(clean_names(export), c(
    "ec5_uuid", "name", "where_lat", "where_long", "where_accuracy",
    "where_utm_northing", "where_utm_easting", "where_utm_zone", "age"
  ))
  # An incomplete location is no location: its columns are cleaned one by one.
  expect_identical(clean_names(c("ec5_uuid", "lat_2_x", "long_2_x")),
                   c("ec5_uuid", "lat_2_x", "long_2_x"))
})

test_that("clean names are syntactic and unique whatever the export names", {
  prefix <- table_layout()$location$prefix
  export <- c(
    "ec5_uuid", "title", "5_title", "15_Heart_rate_bpm_me", "19_Heart_rate_bpm_me",
    "20_Heart_rate_bpm_me_2", "3_2nd_visit", "4_if", "6_", "7___", "8_Caf\u00e9 cr\u00e8me",
    "9_where_lat", paste0(prefix, "10_where"), paste0(prefix, "11_Where"), "9_where_lat"
  )
  clean <- clean_names(export)
  expect_identical(clean[1:12], c(
    "ec5_uuid", "title", "title_2", "heart_rate_bpm_me", "heart_rate_bpm_me_2",
    "heart_rate_bpm_me_2_2", "x2nd_visit", "if_", "x6", "x7", "caf_cr_me", "where_lat_2"
  ))
  expect_identical(clean[13:14], c("where_lat", "where_long"))
  expect_identical(clean[19:20], c("where_2_lat", "where_2_long"))
  expect_identical(clean[[25]], "where_lat_3")
  expect_identical(anyDuplicated(clean), 0L)
  expect_identical(make.names(clean), clean)
  expect_identical(tolower(clean), clean)
})

test_that("a renamed table keeps its export names, problems and attributes", {
  x <- tibble::tibble(ec5_uuid = "a", `1_Name` = "Ann", `2_Age` = 3L)
  attr(x$`1_Name`, "label") <- "Name"
  attr(x, "problems") <- tibble::tibble(row = 1L, column = c("2_Age", ""), expected = "", actual = "")
  attr(x, "provenance") <- list(slug = "s")
  expect_identical(name_columns(x, "export"), x)
  clean <- name_columns(x, "clean")
  expect_named(clean, c("ec5_uuid", "name", "age"))
  expect_identical(attr(clean$name, "label"), "Name")
  expect_identical(attr(clean$name, "ec5_name"), "1_Name")
  expect_null(attr(clean$ec5_uuid, "ec5_name"))
  expect_identical(attr(clean, "problems")$column, c("age", ""))
  expect_identical(attr(clean, "provenance"), list(slug = "s"))
  expect_identical(export_names(clean), names(x))
  expect_identical(export_names(x), names(x))
  # The export name travels with the column, whatever happens to the table.
  picked <- clean[c("age", "ec5_uuid")]
  expect_identical(export_names(picked), c("2_Age", "ec5_uuid"))
  expect_identical(columns_by_export_name(picked), c(`2_Age` = "age", ec5_uuid = "ec5_uuid"))
})

test_that("locations are found under either naming", {
  prefix <- table_layout()$location$prefix
  x <- tibble::as_tibble(stats::setNames(
    as.list(c("a", 1:12)),
    c("ec5_uuid", paste0(prefix, "1_where"), paste0(prefix, "2_Home"))
  ))
  expect_identical(table_locations(x), data.frame(
    location = c("1_where", "2_Home"), lat = c("lat_1_where", "lat_2_Home"),
    long = c("long_1_where", "long_2_Home")
  ))
  expect_identical(table_locations(name_columns(x, "clean")), data.frame(
    location = c("where", "home"), lat = c("where_lat", "home_lat"),
    long = c("where_long", "home_long")
  ))
  expect_identical(nrow(table_locations(tibble::tibble(a = 1))), 0L)
})

test_that("col_names is checked, and its default is the session's option", {
  expect_identical(check_col_names("clean"), "clean")
  expect_error(check_col_names("tidy"), class = "ec5_error_argument")
  expect_error(check_col_names(NA), class = "ec5_error_argument")
  expect_snapshot(error = TRUE, {
    check_col_names(c("export", "clean"))
    check_col_names(1)
  })
  withr::local_options(epicollect5.col_names = "clean")
  page <- '{"data": {"entries": []}}'
  x <- parse_quietly(page, contract_project())
  expect_identical(make.names(names(x)), names(x))
  expect_false(any(grepl("^[0-9]", names(x))))
  expect_named(parse_quietly(page, contract_project(), col_names = "export"),
               table_columns(ec5_column_spec(contract_project()))$name)
})
