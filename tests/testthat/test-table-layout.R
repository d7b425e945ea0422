test_that("the layout lists the system columns, keys, location parts and choice types", {
  layout <- table_layout()
  expect_identical(layout$system$name, c(
    "ec5_uuid", "ec5_parent_uuid", "ec5_branch_owner_uuid", "ec5_branch_uuid",
    "created_at", "uploaded_at", "created_by", "title"
  ))
  expect_identical(layout$system$type[layout$system$name %in% c("created_at", "uploaded_at")],
                   c("datetime", "datetime"))
  # The server's word for an unknown uploader (API-NOTES.md §3.4).
  expect_identical(layout$system$placeholder[layout$system$name == "created_by"], "n/a")
  expect_true(all(layout$system$placeholder[layout$system$name != "created_by"] == ""))
  expect_identical(layout$keys, c(form = "ec5_uuid", branch = "ec5_branch_uuid"))
  expect_identical(layout$location$prefix,
                   c("lat_", "long_", "accuracy_", "UTM_Northing_", "UTM_Easting_", "UTM_Zone_"))
  expect_identical(layout$location$type, c(rep("decimal", 5), "text"))
  expect_setequal(layout$choice_types,
                  c("radio", "dropdown", "checkbox", "searchsingle", "searchmultiple"))
  expect_setequal(layout$integer_types, c("integer", "branch"))
  expect_setequal(layout$no_column_types, c("group", "readme"))
  expect_identical(location_prefixes()[c("latitude", "UTM_Zone")],
                   c(latitude = "lat_", UTM_Zone = "UTM_Zone_"))
})

test_that("the columns of a spec are the columns of the table the parser makes", {
  p <- contract_project()
  cs <- ec5_column_spec(p)
  columns <- table_columns(cs)
  expect_identical(columns$name, names(parse_quietly(character(0), p)))
  expect_identical(columns$question[1:4], rep(NA_integer_, 4))
  where <- which(cs$spec$type == "location")
  expect_identical(columns$name[columns$question %in% where],
                   paste0(table_layout()$location$prefix, cs$spec$name[where]))
  expect_identical(columns$levels[[match("11_radio", columns$name)]], c("yes", "no", "1"))
  expect_identical(columns$format[match("3_dmy", columns$name)], "dd/MM/YYYY")
})

test_that("system columns follow the form, branch and access", {
  p <- fixture_project()
  child <- table_columns(ec5_column_spec(p, form = p$forms$ref[2]))
  expect_identical(child$name[1:5],
                   c("ec5_uuid", "ec5_parent_uuid", "created_at", "uploaded_at", "created_by"))
  branch <- p$inputs$ref[p$inputs$type == "branch"][1]
  b <- table_columns(ec5_column_spec(p, branch = branch))
  expect_identical(b$name[1:2], c("ec5_branch_owner_uuid", "ec5_branch_uuid"))
  cs <- ec5_column_spec(p)
  cs$options$mode <- "neither"
  expect_error(table_columns(cs), class = "ec5_error_argument")
})

test_that("a CSV header is typed by the layout where it alone decides", {
  header <- c("ec5_uuid", "created_at", "title", "lat_x", "long_x", "accuracy_x",
              "UTM_Northing_x", "UTM_Easting_x", "UTM_Zone_x", "lat_y", "long_y", "1_a")
  expect_identical(cpp_check(csv_header_types_cpp(header)), c(
    "text", "datetime", "text", rep("decimal", 5), "text", "infer", "infer", "infer"
  ))
})

test_that("the key of a table is a branch's key when it has one", {
  expect_identical(entry_key(c("ec5_branch_owner_uuid", "ec5_branch_uuid", "title")), "ec5_branch_uuid")
  expect_identical(entry_key(c("ec5_uuid", "title")), "ec5_uuid")
  expect_identical(entry_key("title"), NA_character_)
})

test_that("a location's columns are labelled with the question and their part", {
  expect_identical(table_layout()$location$label, c(
    "latitude", "longitude", "accuracy", "UTM northing", "UTM easting", "UTM zone"
  ))
  p <- contract_project()
  cs <- ec5_column_spec(p)
  columns <- table_columns(cs)
  labels <- table_labels(cs)
  where <- which(cs$spec$type == "location")[1]
  at <- which(columns$question == where)
  expect_identical(columns$part[at], table_layout()$location$member)
  expect_identical(labels[at], paste0(cs$spec$label[where], ": ", table_layout()$location$label))
  expect_identical(labels[is.na(columns$question)], rep(NA_character_, sum(is.na(columns$question))))
  other <- !is.na(columns$question) & is.na(columns$part)
  expect_identical(labels[other], cs$spec$label[columns$question[other]])
})

test_that("the parts of complete locations are found in a header", {
  header <- c("ec5_uuid", "lat_x", "long_x", "accuracy_x", "UTM_Northing_x", "UTM_Easting_x",
              "UTM_Zone_x", "lat_y", "long_y", "1_a")
  expect_identical(cpp_check(location_parts_cpp(header)), c(0L, 1:6, 0L, 0L, 0L))
  expect_error(cpp_check(location_parts_cpp(1)), class = "ec5_error_argument")
})
