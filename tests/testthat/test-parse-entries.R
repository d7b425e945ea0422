# --- real pages ----------------------------------------------------------------

test_that("the 2017 docs page of a public form is typed", {
  x <- ec5_parse_entries(json_fixture("docs_entries_form_public_ec5-api-test.json"), api_test_project())
  expect_s3_class(x, "tbl_df")
  expect_named(x, c(
    "ec5_uuid", "created_at", "uploaded_at", "title", "1_Name", "2_Age",
    "3_Date_of_birth", "4_Sex", "5_Photo", "6_Family_Members"
  ))
  expect_equal(x$ec5_uuid[1], "39f51e6d-6438-76ba-e63c-82b6b387c041")
  expect_equal(x$`1_Name`, c("Megan Fox", "Jim Carrey", "Nicholas Cage"), ignore_attr = TRUE)
  # An integer question without bounds may hold any number: a double.
  expect_identical(as.vector(x$`2_Age`), c(30, 55, 53))
  expect_equal(x$`3_Date_of_birth`, as.Date(c("1986-05-16", "1962-01-17", "2017-01-07")),
               ignore_attr = c("label", "ec5_format"))
  expect_identical(attr(x$`3_Date_of_birth`, "ec5_format"), "dd/MM/YYYY")
  expect_s3_class(x$`4_Sex`, "factor")
  expect_equal(levels(x$`4_Sex`), c("Female", "Male"))
  expect_equal(as.character(x$`4_Sex`), c("Female", "Male", "Male"))
  expect_match(x$`5_Photo`[1], "^https://five.epicollect.net/api/media/ec5-api-test\\?type=photo")
  # An old page: no uploaded_at, title, nor branch count.
  expect_true(all(is.na(x$uploaded_at)))
  expect_true(all(is.na(x$title)))
  expect_identical(as.vector(x$`6_Family_Members`), rep(NA_integer_, 3))
  expect_s3_class(x$created_at, "POSIXct")
  expect_equal(attr(x$created_at, "tzone"), "UTC")
  expect_equal(
    as.numeric(x$created_at[1]),
    as.numeric(as.POSIXct("2017-04-27 14:42:04", tz = "UTC")) + 0.08,
    tolerance = 1e-6
  )
  expect_equal(attr(x$`3_Date_of_birth`, "label"), "Date of birth")
  expect_null(attr(x$ec5_uuid, "label"))
  expect_equal(nrow(ec5_problems(x)), 0L)
})

test_that("the 2017 branch pages are typed in branch mode", {
  p <- api_test_project()
  all <- ec5_parse_entries(json_fixture("docs_branch_entries_all_owners_ec5-api-test.json"), p,
                           branch = "Family Members")
  expect_named(all, c(
    "ec5_branch_owner_uuid", "ec5_branch_uuid", "created_at", "uploaded_at", "title",
    "7_Name", "8_Age"
  ))
  expect_equal(nrow(all), 4L)
  # Without ec5_branch_uuid (2017) nothing is a duplicate.
  expect_true(all(is.na(all$ec5_branch_uuid)))
  expect_equal(as.vector(all$`8_Age`), c(46L, 28L, 35L, 40L))
  expect_equal(unique(all$ec5_branch_owner_uuid), c(
    "768bb179-fd2c-87b1-ec20-86a9acfdc87a", "39f51e6d-6438-76ba-e63c-82b6b387c041"
  ))
  one <- ec5_parse_entries(json_fixture("docs_branch_entries_one_owner_ec5-api-test.json"), p,
                           branch = "6_Family_Members")
  expect_equal(nrow(one), 3L)
  expect_equal(unique(one$ec5_branch_owner_uuid), "39f51e6d-6438-76ba-e63c-82b6b387c041")
})

test_that("the 2019 private page is typed with its real definition", {
  x <- ec5_parse_entries(json_fixture("pyepicollect_entries_private.json"),
                         fixture_project())
  expect_named(x, c(
    "ec5_uuid", "created_at", "uploaded_at", "created_by", "title", "1_prueba_barcode",
    "lat_3_Ubicacin", "long_3_Ubicacin", "accuracy_3_Ubicacin", "UTM_Northing_3_Ubicacin",
    "UTM_Easting_3_Ubicacin", "UTM_Zone_3_Ubicacin", "4_Fecha", "5_Nombre", "6_Foto",
    "7_BRANCH_Subformular"
  ))
  expect_equal(x$created_by, c("user1@example.org", "user2@example.org"))
  expect_true(is.na(x$`1_prueba_barcode`[1]))
  expect_match(x$`1_prueba_barcode`[2], "^BEGIN:VCARD\nVERSION:3.0\n")
  expect_equal(as.vector(x$lat_3_Ubicacin), c(NA, -42.930714))
  expect_equal(as.vector(x$long_3_Ubicacin), c(NA, -71.364073))
  expect_equal(as.vector(x$accuracy_3_Ubicacin), c(NA, 60))
  expect_true(all(is.na(x$UTM_Northing_3_Ubicacin)))
  expect_type(x$UTM_Zone_3_Ubicacin, "character")
  expect_equal(as.vector(x$`4_Fecha`), c(NA, as.numeric(as.Date("2019-02-12"))))
  expect_s3_class(x$`4_Fecha`, "Date")
  expect_equal(x$`6_Foto`[1], "a621a640-00b7-4a50-9d6d-a7b143bdf486_1550150814.jpg", ignore_attr = TRUE)
  expect_identical(as.vector(x$`7_BRANCH_Subformular`), c(0L, 0L))
  expect_equal(attr(x$lat_3_Ubicacin, "label"), "Ubicación: latitude")
  expect_equal(attr(x$UTM_Zone_3_Ubicacin, "label"), "Ubicación: UTM zone")
  expect_equal(nrow(ec5_problems(x)), 0L)
  prov <- attr(x, "provenance")
  expect_equal(prov$slug, "proyecto-api-python")
  expect_equal(prov$form, "primer_formulario")
  expect_equal(prov$source, "json")
  expect_identical(prov$total, 2L)
  expect_identical(prov$map_index, 0L)
  expect_true(is.na(prov$branch))
  expect_s3_class(prov$fetched_at, "POSIXct")
  expect_equal(prov$package_version, as.character(utils::packageVersion("epicollect5")))
})

test_that("a single bare entry with UTM (2019) is read", {
  p <- make_project(list(Form = list(
    q("text", "Share your nick with us"),
    q("date", "Date", format = "dd/MM/YYYY"),
    q("time", "Time", format = "HH:mm:ss"),
    q("location", "Location")
  )))
  x <- ec5_parse_entries(json_fixture("thirdparty_single_entry_with_utm_location_2019.json"), p)
  expect_equal(nrow(x), 1L)
  expect_equal(x$`1_Share_your_nick_wi`, "AAM-TB", ignore_attr = TRUE)
  expect_equal(as.vector(x$`2_Date`), as.numeric(as.Date("2019-10-12")))
  expect_equal(x$`3_Time`, "22:56:37", ignore_attr = TRUE)
  expect_equal(
    unname(unlist(lapply(x[c("lat_4_Location", "long_4_Location", "accuracy_4_Location",
                             "UTM_Northing_4_Location", "UTM_Easting_4_Location")], as.vector))),
    c(41.646183, -0.885127, 6, 4612654, 676120)
  )
  expect_equal(x$UTM_Zone_4_Location, "30T", ignore_attr = TRUE)
  expect_equal(format(x$uploaded_at), "2019-10-12 22:22:46")
})

test_that("a JSON archive download ({\"data\": [...]}) is read", {
  p <- make_project(list(Form = list(
    q("text", "Moments Description"),
    q("location", "GPS Location(hint: turn on GPS)"),
    q("photo", "Moment Photo 01"), q("photo", "Moment Photo 02"),
    q("photo", "Moment Photo 03"), q("photo", "Moment Photo 04"),
    q("audio", "Interview"), q("video", "Video"),
    q("date", "DATE", format = "dd/MM/YYYY"),
    q("time", "TIME", format = "HH:mm")
  )), slug = "heiligenstadt-wien")
  x <- ec5_parse_entries(json_fixture("heiligenstadt_archive_single_2022.json"), p)
  expect_equal(nrow(x), 1L)
  expect_equal(x$UTM_Zone_2_GPS_Locationhint_t, "33U", ignore_attr = TRUE)
  expect_equal(as.vector(x$UTM_Easting_2_GPS_Locationhint_t), 602784)
  expect_true(is.na(x$`5_Moment_Photo_03`))
  expect_true(is.na(x$`7_Interview`))
  expect_true(is.na(x$`8_Video`))
  expect_equal(x$`10_TIME`, "13:15", ignore_attr = TRUE)
  expect_equal(as.vector(x$`9_DATE`), as.numeric(as.Date("2022-10-12")))
})

# --- pages, duplicates, empty results ------------------------------------------

test_that("several pages give the same table as one page", {
  p <- fixture_project("ec5-demo-project_api-project_response_mobile-app-asset_2022.json")
  entries <- vapply(1:7, function(i) {
    entry_json(uuid(i),
      `1_Whats_your_name` = sprintf('"name %d"', i),
      `2_How_old_are_you` = i * 10,
      `3_Where_are_you` = sprintf('{"latitude": %d.5, "longitude": -1, "accuracy": 4}', i),
      `5_Whats_todays_date` = sprintf('"%02d/05/2024"', i),
      `6_What_time_is_it` = '"10:00:00"',
      `8_Whats_your_favouri` = if (i %% 2) '"Red"' else '"Blue"',
      `9_What_are_your_favo` = if (i %% 3) '["Cats", "Dogs"]' else "[]"
    )
  }, "")
  one <- parse_quietly(page_json(entries), p)
  three <- parse_quietly(c(page_json(entries[1:3]), page_json(entries[4:6]), page_json(entries[7])), p)
  raw_list <- parse_quietly(list(charToRaw(page_json(entries[1:4])), page_json(entries[5:7])), p)
  strip <- function(x) {
    attr(x, "provenance") <- NULL
    x
  }
  expect_identical(strip(three), strip(one))
  expect_identical(strip(raw_list), strip(one))
  expect_equal(nrow(one), 7L)
  expect_equal(one$`9_What_are_your_favo`[[3]], character(0))
  expect_equal(one$`9_What_are_your_favo`[[1]], c("Cats", "Dogs"))
  expect_equal(as.character(one$`8_Whats_your_favouri`[1:2]), c("Red", "Blue"))
})

test_that("duplicated entries keep their last copy", {
  p <- make_project(list(F = list(q("integer", "n"))))
  page1 <- page_json(c(
    entry_json(uuid(1), `1_n` = 1), entry_json(uuid(2), `1_n` = '"bad"'), entry_json(uuid(3), `1_n` = 3)
  ))
  page2 <- page_json(c(entry_json(uuid(2), `1_n` = 22), entry_json(uuid(4), `1_n` = '"worse"')))
  x <- parse_quietly(c(page1, page2), p)
  expect_equal(x$ec5_uuid, uuid(c(1, 3, 2, 4)))
  expect_equal(as.vector(x$`1_n`), c(1L, 3L, 22L, NA))
  # The problem of the dropped copy goes; the other is renumbered.
  expect_equal(ec5_problems(x)$row, 4L)
  expect_equal(ec5_problems(x)$actual, "worse")
})

test_that("duplicated branch entries are found by ec5_branch_uuid", {
  p <- api_test_project()
  branch_entry <- function(id, age) {
    sprintf(
      '{"ec5_branch_owner_uuid": "%s", "ec5_branch_uuid": "%s", "created_at": "2024-01-01T00:00:00.000Z", "8_Age": %d}',
      uuid(99), uuid(id), age
    )
  }
  x <- parse_quietly(page_json(c(branch_entry(1, 10), branch_entry(2, 20), branch_entry(1, 11))), p,
                     branch = "Family Members")
  expect_equal(x$ec5_branch_uuid, uuid(c(2, 1)))
  expect_equal(as.vector(x$`8_Age`), c(20L, 11L))
})

test_that("an empty result is a zero-row table with typed columns", {
  p <- fixture_project()
  empty <- '{"meta": {"total": 0, "per_page": 50, "current_page": 1, "last_page": 1},
             "data": {"id": "x", "type": "entries", "entries": []}, "links": {"next": null}}'
  x <- ec5_parse_entries(empty, p)
  full <- ec5_parse_entries(json_fixture("pyepicollect_entries_private.json"), p)
  expect_equal(nrow(x), 0L)
  expect_identical(names(x), names(full))
  expect_identical(lapply(x, class), lapply(full, class))
  expect_identical(lapply(x, typeof), lapply(full, typeof))
  expect_equal(nrow(ec5_problems(x)), 0L)
  none <- ec5_parse_entries(character(0), p)
  expect_identical(lapply(none, class), lapply(full, class))
  expect_identical(attr(none, "provenance")$total, NA_integer_)
  demo <- fixture_project("ec5-demo-project_api-project_response_mobile-app-asset_2022.json")
  y <- ec5_parse_entries(empty, demo)
  expect_s3_class(y$`8_Whats_your_favouri`, "factor")
  expect_equal(levels(y$`8_Whats_your_favouri`)[1], "Red")
  expect_type(y$`9_What_are_your_favo`, "list")
})

test_that("the parser helpers report each page's meta", {
  p <- fixture_project()
  cs <- ec5_column_spec(p)
  parser <- entries_parser(cs)
  expect_s3_class(parser, "ec5_entries_parser")
  meta <- parser_feed(parser, json_fixture("pyepicollect_entries_private.json"))
  expect_equal(meta$total, 2L)
  expect_equal(meta$per_page, 50L)
  expect_equal(meta$current_page, 1L)
  expect_equal(meta$last_page, 1L)
  expect_equal(meta$n, 2L)
  expect_equal(meta$map_index, 0L)
  expect_equal(meta$map_name, "EC5_AUTO")
  expect_true(is.na(meta$newest))
  expect_true(is.na(meta$`next`))
  meta2 <- parser_feed(parser, '{"meta": {"total": "3", "newest": "2024-05-01T00:00:00.000Z"},
    "data": {"entries": [null]}, "links": {"next": "https://x/p?page=2"}}')
  expect_equal(meta2$total, 3L)
  expect_equal(meta2$n, 0L)
  expect_equal(meta2$newest, "2024-05-01T00:00:00.000Z")
  expect_equal(meta2$`next`, "https://x/p?page=2")
  out <- parser_finish(parser)
  expect_named(out, c("columns", "problems", "unknown_keys"))
  expect_length(out$columns$ec5_uuid, 2L)
  expect_error(parser_feed(parser, "[]"), class = "ec5_error_argument")
  expect_error(parser_finish(parser), class = "ec5_error_argument")
  expect_error(parser_feed(list(), "[]"), class = "ec5_error_argument")
  table <- entries_table(out, cs, provenance = list(slug = "x"))
  expect_equal(attr(table, "provenance"), list(slug = "x"))
})

# --- the conversion contract ----------------------------------------------------

# One row per entry; `...` are key = JSON value pairs for the answers.
parse_one <- function(..., project = contract_project()) {
  parse_quietly(page_json(entry_json(uuid(1), ...)), project)
}

test_that("integers: numbers and numeric text; others are problems", {
  values <- c("42", '"17"', "30.0", '" 8 "', '"+5"', '"007"', "-0", '""', "null", "4.5",
              '"abc"', "true", "{}", "[]", "1180591620717411303424", '"1180591620717411303424"',
              "1e3", '"1e400"')
  x <- parse_quietly(page_json(vapply(seq_along(values), function(i) {
    entry_json(uuid(i), `1_int` = values[i])
  }, "")), contract_project())
  expect_identical(as.vector(x$`1_int`), c(
    42, 17, 30, 8, 5, 7, 0, NA, NA, NA, NA, NA, NA, NA, NA, NA, 1000, NA
  ))
  p <- ec5_problems(x)
  expect_equal(p$row, c(10:16, 18L))
  expect_equal(unique(p$column), "1_int")
  expect_equal(unique(p$expected), "integer")
  expect_equal(p$actual, c("4.5", "abc", "true", "an object", "an array", "1.1805916207174113e21",
                           "1180591620717411303424", "1e400"))
  big <- parse_one(`1_int` = "3000000000")
  expect_type(big$`1_int`, "double")
  expect_equal(as.vector(big$`1_int`), 3e9)
  edge <- parse_one(`1_int` = "-2147483648")
  expect_type(edge$`1_int`, "double")
  int64 <- parse_one(`1_int` = "9223372036854775807")
  expect_equal(as.vector(int64$`1_int`), 9223372036854775807)
})

test_that("decimals: numbers and numeric text", {
  values <- c("3.25", '"2.5"', "7", '""', '"1,5"', '"NaN"', "1180591620717411303424")
  x <- parse_quietly(page_json(vapply(seq_along(values), function(i) {
    entry_json(uuid(i), `2_dec` = values[i])
  }, "")), contract_project())
  expect_equal(as.vector(x$`2_dec`), c(3.25, 2.5, 7, NA, NA, NA, 2^70))
  expect_equal(ec5_problems(x)$actual, c("1,5", "NaN"))
  expect_equal(unique(ec5_problems(x)$expected), "number")
})

test_that("dates are read by their declared format, strictly", {
  x <- parse_quietly(page_json(c(
    entry_json(uuid(1), `3_dmy` = '"16/05/1986"', `4_mdy` = '"05/16/1986"', `5_ymd` = '"1986/05/16"',
               `6_my` = '"05/1986"', `7_dm` = '"29/02"'),
    entry_json(uuid(2), `3_dmy` = '"11/9/21"', `4_mdy` = '"16/05/1986"', `5_ymd` = '"1986-05-16"',
               `6_my` = '"13/1986"', `7_dm` = '"31/04"'),
    entry_json(uuid(3), `3_dmy` = '"29/02/2020"', `4_mdy` = '"02/29/2021"', `5_ymd` = "19860516",
               `6_my` = "5", `7_dm` = '""')
  )), contract_project())
  expect_equal(x$`3_dmy`, as.Date(c("1986-05-16", NA, "2020-02-29")), ignore_attr = c("label", "ec5_format"))
  expect_equal(x$`4_mdy`, as.Date(c("1986-05-16", NA, NA)), ignore_attr = c("label", "ec5_format"))
  expect_equal(x$`5_ymd`, as.Date(c("1986-05-16", NA, NA)), ignore_attr = c("label", "ec5_format"))
  # Each Date keeps its question's format, which ec5_write_csv() writes it in.
  expect_identical(attr(x$`4_mdy`, "ec5_format"), "MM/dd/YYYY")
  # Partial dates stay text, checked against their format.
  expect_equal(x$`6_my`, c("05/1986", NA, NA), ignore_attr = TRUE)
  expect_equal(x$`7_dm`, c("29/02", NA, NA), ignore_attr = TRUE)
  p <- ec5_problems(x)
  expect_equal(p$row, c(2L, 2L, 2L, 2L, 2L, 3L, 3L, 3L))
  expect_equal(p$column, c("3_dmy", "4_mdy", "5_ymd", "6_my", "7_dm", "4_mdy", "5_ymd", "6_my"))
  expect_equal(p$expected[1:4], c("date dd/MM/YYYY", "date MM/dd/YYYY", "date YYYY/MM/dd", "format MM/YYYY"))
  expect_equal(p$actual[1], "11/9/21")
})

test_that("times stay text and must match their format", {
  x <- parse_quietly(page_json(c(
    entry_json(uuid(1), `8_hms` = '"22:56:37"', `9_hm` = '"22:56"', `10_ms` = '"56:37"'),
    entry_json(uuid(2), `8_hms` = '"22:56"', `9_hm` = '"24:00"', `10_ms` = '"61:00"'),
    entry_json(uuid(3), `8_hms` = '"10:00:00 PM"', `9_hm` = "2256", `10_ms` = '""')
  )), contract_project())
  expect_equal(x$`8_hms`, c("22:56:37", NA, NA), ignore_attr = TRUE)
  expect_equal(x$`9_hm`, c("22:56", NA, NA), ignore_attr = TRUE)
  expect_equal(x$`10_ms`, c("56:37", NA, NA), ignore_attr = TRUE)
  expect_equal(ec5_problems(x)$expected, c("format HH:mm:ss", "format hh:mm", "format mm:ss",
                                           "format HH:mm:ss", "format hh:mm"))
})

test_that("radio answers become factors; unknown labels are problems", {
  x <- parse_quietly(page_json(c(
    entry_json(uuid(1), `11_radio` = '"yes"'), entry_json(uuid(2), `11_radio` = '"maybe"'),
    entry_json(uuid(3), `11_radio` = "1"), entry_json(uuid(4), `11_radio` = '""'),
    entry_json(uuid(5), `11_radio` = '["yes"]')
  )), contract_project())
  expect_s3_class(x$`11_radio`, "factor")
  expect_equal(levels(x$`11_radio`), c("yes", "no", "1"))
  expect_equal(as.character(x$`11_radio`), c("yes", NA, "1", NA, NA))
  expect_equal(ec5_problems(x)$actual, c("maybe", "an array"))
  expect_equal(ec5_problems(x)$expected[1], "one of the 3 answers")
})

test_that("checkbox and search answers are list columns", {
  values <- c('["a", "b"]', "[]", '""', "null", '"a"', '[""]', '{"a": 1}', '["a", {}]', "7")
  x <- parse_quietly(page_json(vapply(seq_along(values), function(i) {
    entry_json(uuid(i), `12_check` = values[i], `13_search` = values[i])
  }, "")), contract_project())
  expected <- list(c("a", "b"), character(0), character(0), character(0), "a", NA_character_,
                   NA_character_, NA_character_, "7")
  expect_equal(x$`12_check`, expected, ignore_attr = TRUE)
  expect_equal(x$`13_search`, expected, ignore_attr = TRUE)
  p <- ec5_problems(x)
  expect_equal(p$row, c(7L, 7L, 8L, 8L))
  expect_equal(unique(p$expected), "array of answers")
  # A key missing from an entry: no answer.
  y <- parse_one(`1_int` = 1)
  expect_equal(y$`12_check`, list(character(0)), ignore_attr = TRUE)
})

test_that("locations become six columns; blanks and missing members are NA", {
  values <- c(
    '{"latitude": 1.5, "longitude": -2.25, "accuracy": 3, "UTM_Northing": 10, "UTM_Easting": 20, "UTM_Zone": "30T"}',
    '{"latitude": "", "longitude": "", "accuracy": "", "UTM_Northing": "", "UTM_Easting": "", "UTM_Zone": ""}',
    '{"latitude": 0, "longitude": 0, "accuracy": 5}',
    '""', "null",
    '{"latitude": "4.5", "longitude": "x", "UTM_Zone": 30, "latitude": 6}',
    '"51.5, -0.1"', "[1, 2]"
  )
  x <- parse_quietly(page_json(vapply(seq_along(values), function(i) {
    entry_json(uuid(i), `14_where` = values[i])
  }, "")), contract_project())
  expect_equal(as.vector(x$lat_14_where), c(1.5, NA, 0, NA, NA, 6, NA, NA))
  expect_equal(as.vector(x$long_14_where), c(-2.25, NA, 0, NA, NA, NA, NA, NA))
  expect_equal(as.vector(x$accuracy_14_where), c(3, NA, 5, NA, NA, NA, NA, NA))
  expect_equal(as.vector(x$UTM_Northing_14_where), c(10, NA, NA, NA, NA, NA, NA, NA))
  expect_equal(as.vector(x$UTM_Zone_14_where), c("30T", NA, NA, NA, NA, "30", NA, NA))
  p <- ec5_problems(x)
  expect_equal(p$row, c(6L, 7L, 8L))
  expect_equal(p$column, c("long_14_where", "14_where", "14_where"))
  expect_equal(p$expected, c("number", "location object", "location object"))
})

test_that("phone numbers, text, media and counts", {
  x <- parse_quietly(page_json(c(
    entry_json(uuid(1), `15_phone` = "447700900123", `16_text` = '"sp. "', `17_kids` = 3),
    entry_json(uuid(2), `15_phone` = '"+44 7700"', `16_text` = '{"a": "b"}', `17_kids` = '""'),
    entry_json(uuid(3), `15_phone` = "1.5", `16_text` = "false", `17_kids` = '"2"')
  )), contract_project())
  expect_equal(x$`15_phone`, c("447700900123", "+44 7700", "1.5"), ignore_attr = TRUE)
  expect_equal(x$`16_text`, c("sp. ", NA, NA), ignore_attr = TRUE)
  expect_identical(as.vector(x$`17_kids`), c(3L, NA, 2L))
  expect_equal(ec5_problems(x)$actual, c("an object", "false"))
  expect_equal(ec5_problems(x)$expected, c("text", "text"))
})

test_that("system columns: timestamps in UTC, problems for the unreadable", {
  stamps <- c("2019-10-12T22:22:46.000Z", "2019-10-12T22:22:46Z", "2019-10-12T22:22:46.5+00:00",
              "2019-10-12 22:22:46", "2019-02-30T00:00:00.000Z", "12/10/2019", "")
  x <- parse_quietly(page_json(vapply(seq_along(stamps), function(i) {
    entry_json(uuid(i), created_at = stamps[i])
  }, "")), contract_project())
  base <- as.numeric(as.POSIXct("2019-10-12 22:22:46", tz = "UTC"))
  expect_equal(as.numeric(x$created_at), c(base, base, base + 0.5, base, NA, NA, NA))
  expect_equal(ec5_problems(x)$expected, c("ISO 8601 date-time", "ISO 8601 date-time"))
  expect_equal(ec5_problems(x)$column, c("created_at", "created_at"))
})

test_that("null entries are skipped, other non-entries are problems without a row", {
  x <- parse_quietly(page_json(c("null", entry_json(uuid(1)), "5", '"x"', "[]", entry_json(uuid(2)))),
                     contract_project())
  expect_equal(x$ec5_uuid, uuid(1:2))
  p <- ec5_problems(x)
  expect_equal(p$row, rep(NA_integer_, 3))
  expect_equal(p$expected, rep("entry object", 3))
  expect_equal(p$actual, c("5", "x", "an array"))
})

test_that("missing keys are NA, unknown keys are ignored with a warning, duplicate keys: last wins", {
  page <- page_json(c(
    '{"ec5_uuid": "u1", "1_int": 1, "1_int": 2, "extra": true, "ec5_branch_ref": "x"}',
    '{"ec5_uuid": "u2", "also_extra": 1}'
  ))
  expect_snapshot(x <- ec5_parse_entries(page, contract_project()))
  expect_warning(ec5_parse_entries(page, contract_project()), class = "ec5_warning_unknown_keys")
  expect_equal(as.vector(x$`1_int`), c(2L, NA))
  expect_true(all(is.na(x$created_at)))
  expect_true(all(is.na(x$`16_text`)))
})

test_that("keys are matched whatever their order from one entry to the next", {
  # The flattener first tries the key seen at the same position in the
  # previous entry; reordered, unknown and repeated keys must not fool it.
  page <- page_json(c(
    '{"ec5_uuid": "u1", "1_int": 1, "16_text": "a", "2_dec": 1.5}',
    '{"ec5_uuid": "u2", "16_text": "b", "1_int": 2, "2_dec": 2.5}',
    '{"ec5_uuid": "u3", "other": 9, "16_text": "c", "2_dec": 3.5}',
    '{"ec5_uuid": "u4", "1_int": 4, "1_int": 5, "16_text": "d"}',
    '{"2_dec": 6.5, "16_text": "e", "1_int": 6, "ec5_uuid": "u5"}'
  ))
  x <- suppressWarnings(ec5_parse_entries(page, contract_project()))
  expect_identical(x$ec5_uuid, paste0("u", 1:5))
  expect_identical(as.vector(x$`1_int`), c(1, 2, NA, 5, 6))
  expect_identical(as.vector(x$`16_text`), c("a", "b", "c", "d", "e"))
  expect_identical(as.vector(x$`2_dec`), c(1.5, 2.5, 3.5, NA, 6.5))
})

test_that("text that is not valid UTF-8, or holds NUL, is NA and a problem", {
  page <- charToRaw(page_json(c(
    entry_json(uuid(1), `16_text` = '"caf\\u00e9 \\ud83d\\ude00"'),
    entry_json(uuid(2), `16_text` = '"bad XX byte"', `11_radio` = '"yesXX"'),
    entry_json(uuid(3), `16_text` = '"nul \\u0000 inside"', `12_check` = '["a\\u0000"]'),
    entry_json(uuid(4), `16_text` = '"ok"', `bad keyXX` = "1")
  )))
  at <- gregexpr("XX", rawToChar(page))[[1]]
  for (i in at) page[i + 0:1] <- as.raw(c(0xC3, 0x28))
  x <- parse_quietly(page, contract_project())
  expect_equal(x$`16_text`, c("caf\u00e9 \U0001F600", NA, NA, "ok"), ignore_attr = TRUE)
  expect_equal(Encoding(x$`16_text`[1]), "UTF-8")
  expect_true(is.na(x$`11_radio`[2]))
  expect_equal(x$`12_check`[[3]], NA_character_)
  p <- ec5_problems(x)
  expect_equal(p$row, c(2L, 2L, 3L, 3L, 4L))
  expect_equal(p$actual, c("yes\\xC3(", "bad \\xC3( byte", "an array", "nul \\x00 inside", "1"))
  expect_true(all(validUTF8(p$actual)))
  expect_true(all(validUTF8(p$column)))
})

test_that("a page reads the same whatever its escapes, spacing and number forms", {
  # Text as raw UTF-8 and compact, against the same page with every
  # character of a string as a \u escape, blanks between tokens and numbers
  # in exponent form.
  text <- "na\u00efve caf\u00e9 \U0001F600"
  plain <- page_json(c(
    entry_json(uuid(1), `1_int` = "42", `2_dec` = "2.5", `11_radio` = '"yes"',
               `12_check` = '["a","b"]', `16_text` = paste0('"', text, '"'),
               `14_where` = '{"latitude":20.743439,"longitude":-78.5,"accuracy":28}'),
    entry_json(uuid(2), `1_int` = "-7", `2_dec` = "0.125", `16_text` = '"tab\\there \\"q\\" \\\\ /"')
  ))
  escape <- function(s) {
    units <- unlist(lapply(utf8ToInt(s), function(cp) {
      if (cp < 0x10000) return(cp)
      c(0xD800 + (cp - 0x10000) %/% 0x400, 0xDC00 + (cp - 0x10000) %% 0x400)
    }))
    paste0('"', paste0(sprintf("\\u%04X", units), collapse = ""), '"')
  }
  written <- page_json(c(
    paste0('{ "ec5_uuid" : ', escape(uuid(1)), ' ,\n "created_at": "2024-05-01T10:00:00.000Z",',
           ' "uploaded_at":"2024-05-01T10:05:00.000Z", "title": "', uuid(1), '",',
           ' "1_int": 42, "2_dec": 25e-1, "11_radio": "\\u0079es", "12_check": [ "a" , "\\u0062" ],',
           ' "16_text": ', escape(text), ',\t"14_where": { "latitude": 2.0743439E1,',
           ' "longitude": -78.50, "accuracy": 28 } }'),
    paste0('{"ec5_uuid":"', uuid(2), '","created_at":"2024-05-01T10:00:00.000Z",',
           '"uploaded_at":"2024-05-01T10:05:00.000Z","title":"', uuid(2), '",',
           '"1_int":-7,"2_dec":1.25e-1,"16_text":"tab\\there \\"q\\" \\\\ \\/"}')
  ))
  a <- parse_quietly(plain, contract_project())
  b <- parse_quietly(written, contract_project())
  attr(a, "provenance")$fetched_at <- attr(b, "provenance")$fetched_at <- NULL
  expect_identical(b, a)
  expect_equal(a$`16_text`, c(text, "tab\there \"q\" \\ /"), ignore_attr = TRUE)
  expect_equal(a$lat_14_where, c(20.743439, NA), ignore_attr = TRUE)
  expect_equal(a$`2_dec`, c(2.5, 0.125), ignore_attr = TRUE)
})

test_that("a key that is not valid UTF-8 is an unknown key, its values problems kept as text", {
  page <- charToRaw(page_json(c(
    entry_json(uuid(1), `16_text` = '"a"', `odd keyXX` = '"first value"'),
    entry_json(uuid(2), `16_text` = '"b"'),
    entry_json(uuid(3), `odd keyXX` = "12.5", `16_text` = '"c"')
  )))
  at <- gregexpr("XX", rawToChar(page))[[1]]
  for (i in at) page[i + 0:1] <- as.raw(c(0xE9, 0x20))
  w <- expect_warning(x <- suppressWarnings(ec5_parse_entries(page, contract_project()),
                                            classes = "ec5_warning_problems"),
                      class = "ec5_warning_unknown_keys")
  expect_match(conditionMessage(w), "odd key", fixed = TRUE)
  expect_match(conditionMessage(w), "xE9", fixed = TRUE)
  expect_equal(x$`16_text`, c("a", "b", "c"), ignore_attr = TRUE)
  p <- ec5_problems(x)
  expect_equal(p$row, c(1L, 3L))
  expect_equal(p$column, rep("odd key\\xE9 ", 2))
  expect_equal(p$expected, rep("a key in UTF-8", 2))
  expect_equal(p$actual, c("first value", "12.5"))
  expect_true(all(validUTF8(p$column)))
})

test_that("non-ASCII labels and levels are UTF-8", {
  p <- make_project(list(F = list(q("radio", "R\u00e9ponse", answers = c("\u2265 95", "\ufe65 10")))))
  x <- ec5_parse_entries(page_json(entry_json(uuid(1), `1_Rponse` = '"\\u2265 95"')), p)
  expect_equal(as.character(x$`1_Rponse`), "\u2265 95")
  expect_equal(Encoding(levels(x$`1_Rponse`)), c("UTF-8", "UTF-8"))
  expect_equal(attr(x$`1_Rponse`, "label"), "R\u00e9ponse")
})

test_that("deep nesting never crashes", {
  deep_value <- paste0(strrep("[", 10000), strrep("]", 10000))
  x <- parse_one(`16_text` = deep_value, `1_int` = paste0(strrep('{"a":', 10000), "1", strrep("}", 10000)))
  expect_true(is.na(x$`16_text`))
  expect_equal(ec5_problems(x)$actual, c("an object", "an array"))
  expect_error(suppressWarnings(ec5_parse_entries(deep_value, contract_project())), NA)
  expect_error(ec5_parse_entries(strrep("[", 100000), contract_project()), class = "ec5_error_parse")
})

test_that("broken envelopes are classed parse errors", {
  p <- contract_project()
  expect_error(ec5_parse_entries('{"data": {"entries": [', p), class = "ec5_error_parse")
  expect_error(ec5_parse_entries('{"data": 5}', p), class = "ec5_error_parse")
  expect_error(ec5_parse_entries('{"data": {"entries": {}}}', p), class = "ec5_error_parse")
  expect_error(ec5_parse_entries("42", p), class = "ec5_error_parse")
  expect_error(ec5_parse_entries("", p), class = "ec5_error_parse")
  nul_title <- expect_error(
    ec5_parse_entries('{"errors": [{"code": "ec5_256", "title": "A\\u0000B"}]}', p),
    class = "ec5_error_parse"
  )
  expect_identical(nul_title$code, "ec5_256")
  expect_identical(nul_title$title, "")
  expect_snapshot(error = TRUE, {
    ec5_parse_entries('{"data": {"entries": [{"ec5_uuid": "a"}', p)
    ec5_parse_entries('{"data": {"id": "x"}}', p)
    ec5_parse_entries('{"meta": {}}', p)
    ec5_parse_entries(json_fixture("pyepicollect_export_project_private_proyecto-api-python.json"), p)
    ec5_parse_entries('{"errors": [{"code": "ec5_256", "title": "Access denied.", "source": "auth"}]}', p)
  })
})

test_that("a page that fails to parse adds no rows, problems or unknown keys", {
  p <- contract_project()
  parser <- entries_parser(ec5_column_spec(p))
  parser_feed(parser, page_json(entry_json(uuid(1), `1_int` = "1")))
  # The first entry of the broken page is complete, with a problem and an
  # unknown key, before the page breaks off.
  broken <- paste0(
    '{"data": {"entries": [', entry_json(uuid(2), `1_int` = '"x"', extra = "1"),
    ', {"ec5_uuid": "', uuid(3), '"'
  )
  expect_error(parser_feed(parser, broken), class = "ec5_error_parse")
  # An errors body after entries is read as the DOM reader reads it.
  expect_error(
    parser_feed(parser, '{"data": [], "errors": [{"code": "ec5_256", "title": "x"}]}'),
    NA
  )
  parser_feed(parser, page_json(entry_json(uuid(4), `1_int` = "4")))
  out <- parser_finish(parser)
  expect_equal(out$columns$ec5_uuid, c(uuid(1), uuid(4)))
  expect_equal(out$columns$`1_int`, c(1L, 4L))
  expect_equal(nrow(out$problems), 0L)
  expect_length(out$unknown_keys, 0L)
})

test_that("conversion problems are announced once, with a pointer to ec5_problems()", {
  page <- page_json(c(
    entry_json(uuid(1), `1_int` = '"x"', `3_dmy` = '"1/1/24"'),
    entry_json(uuid(2), `1_int` = '"y"')
  ))
  expect_snapshot(x <- ec5_parse_entries(page, contract_project()))
  expect_warning(ec5_parse_entries(page, contract_project()), class = "ec5_warning_problems")
  expect_equal(nrow(ec5_problems(x)), 3L)
})

test_that("arguments are checked before any parsing", {
  p <- contract_project()
  expect_snapshot(error = TRUE, {
    ec5_parse_entries(1, p)
    ec5_parse_entries(list("{}", 2), p)
    ec5_parse_entries(NA_character_, p)
    ec5_parse_entries("[]", list())
    ec5_parse_entries("[]", p, form = "nope")
  })
})

test_that("the project may be given as its JSON", {
  x <- ec5_parse_entries(
    json_fixture("pyepicollect_entries_private.json"),
    json_fixture("pyepicollect_export_project_private_proyecto-api-python.json")
  )
  expect_equal(nrow(x), 2L)
})

# --- types from the definition alone ------------------------------------------------

# Integer questions with every kind of bounds the server sends.
bounds_project <- function() {
  make_project(list(F = list(
    q("integer", "none"),
    q("integer", "min only", min = 0),
    q("integer", "age", min = 16, max = 95),
    q("integer", "text bounds", min = "-5", max = "5"),
    q("integer", "empty bounds", min = "", max = ""),
    q("integer", "na floor", min = -2147483648, max = 0),
    q("integer", "wide", min = 0, max = 3e9),
    q("branch", "kids", branch = list(q("text", "kid")))
  )))
}

test_that("an integer question's type follows its bounds, never its values", {
  p <- bounds_project()
  names <- c("1_none", "2_min_only", "3_age", "4_text_bounds", "5_empty_bounds",
             "6_na_floor", "7_wide", "8_kids")
  types <- c("double", "double", "integer", "integer", "double", "double", "double", "integer")
  small <- entry_json(uuid(1), `1_none` = 1, `2_min_only` = 2, `3_age` = 30, `4_text_bounds` = '"-5"',
                      `5_empty_bounds` = 4, `6_na_floor` = -6, `7_wide` = 7, `8_kids` = 2)
  big <- entry_json(uuid(2), `1_none` = "3000000000", `2_min_only` = "9223372036854775807",
                    `3_age` = 95, `7_wide` = "3000000000", `8_kids` = 0)
  for (json in list(character(0), page_json(small), page_json(c(small, big)))) {
    x <- ec5_parse_entries(json, p)
    expect_identical(vapply(x[names], typeof, ""), stats::setNames(types, names))
    expect_identical(ec5_problems(x)$row, integer(0))
  }
  x <- ec5_parse_entries(page_json(c(small, big)), p)
  expect_identical(as.vector(x$`1_none`), c(1, 3e9))
  expect_identical(as.vector(x$`3_age`), c(30L, 95L))
  expect_identical(attr(x$`1_none`, "ec5_type"), "integer")
  expect_null(attr(x$`3_age`, "ec5_type"))
})

test_that("a value beyond 32 bits in a question bounded within them is a problem, not a new type", {
  p <- bounds_project()
  page <- page_json(entry_json(uuid(1), `3_age` = "3000000000", `4_text_bounds` = "-2147483648"))
  expect_warning(x <- ec5_parse_entries(page, p), class = "ec5_warning_problems")
  expect_type(x$`3_age`, "integer")
  expect_identical(as.vector(x$`3_age`), NA_integer_)
  expect_identical(as.vector(x$`4_text_bounds`), NA_integer_)
  problems <- ec5_problems(x)
  expect_identical(problems$column, c("3_age", "4_text_bounds"))
  expect_identical(problems$expected, rep("integer from -2147483647 to 2147483647", 2))
  expect_identical(problems$actual, c("3000000000", "-2147483648"))
})

test_that("the server's n/a uploader is NA", {
  p <- make_project(list(F = list(q("text", "Name"))), access = "private")
  page <- page_json(c(
    sub('"title"', '"created_by":"n/a","title"', entry_json(uuid(1), `1_Name` = '"n/a"')),
    sub('"title"', '"created_by":"a@example.org","title"', entry_json(uuid(2)))
  ))
  x <- ec5_parse_entries(page, p)
  expect_identical(x$created_by, c(NA, "a@example.org"))
  # Only the uploader: an answer "n/a" is an answer.
  expect_identical(as.vector(x$`1_Name`), c("n/a", NA))
  expect_identical(nrow(ec5_problems(x)), 0L)
})

# --- texts: HTML entities -------------------------------------------------------

test_that("choice answers are decoded to the definition's labels; free text is kept as typed", {
  p <- make_project(list(F = list(
    q("radio", "Field", answers = c("R&amp;D", "Law &lt;&gt; order")),
    q("checkbox", "Fields", answers = c("R&amp;D", "Law &lt;&gt; order")),
    q("searchsingle", "One", answers = c("A &quot;B&quot;")),
    q("text", "Notes")
  )))
  page <- page_json(c(
    entry_json(uuid(1), `1_Field` = '"R&amp;D"', `2_Fields` = '["R&amp;D", "Law &lt;&gt; order"]',
               `3_One` = '["A &quot;B&quot;"]', `4_Notes` = '"R&amp;D & more"'),
    entry_json(uuid(2), `1_Field` = '"Law <> order"', `2_Fields` = '["R&D"]', `3_One` = "[]")
  ))
  x <- ec5_parse_entries(page, p)
  expect_identical(levels(x$`1_Field`), c("R&D", "Law <> order"))
  expect_identical(as.character(x$`1_Field`), c("R&D", "Law <> order"))
  expect_identical(x$`2_Fields`, list(c("R&D", "Law <> order"), "R&D"), ignore_attr = TRUE)
  expect_identical(x$`3_One`, list("A \"B\"", character(0)), ignore_attr = TRUE)
  expect_identical(as.vector(x$`4_Notes`), c("R&amp;D & more", NA))
  expect_identical(nrow(ec5_problems(x)), 0L)
})

test_that("text columns make their strings on first use and behave as plain vectors", {
  state <- function(x) epicollect5:::lazy_text_state_cpp(x)
  p <- make_project(list(F = list(q("text", "name"))))
  more <- vapply(5:8, function(i) entry_json(uuid(i), `1_name` = '"more"'), "")
  x <- parse_quietly(page_json(c(
    entry_json(uuid(1), `1_name` = '"Zoë"'), entry_json(uuid(2), `1_name` = '""'),
    entry_json(uuid(3), `1_name` = '"b"'), entry_json(uuid(4), `1_name` = '"a\\u00e9"'), more
  )), p)
  all <- c("Zoë", NA, "b", "a\u00e9", rep("more", 4))
  name <- x$`1_name`
  expect_identical(state(name), "lazy")
  expect_identical(state(x$ec5_uuid), "lazy")
  expect_identical(state(as.character(1:2)), "plain")
  expect_identical(attr(name, "label"), "name")

  # A few elements, as printing reads them: nothing else is made.
  expect_identical(name[[1]], "Zoë")
  expect_identical(Encoding(name[c(1, 3)]), c("UTF-8", "unknown"))
  expect_identical(name[c(4, NA, 2)], c("a\u00e9", NA, NA))
  expect_identical(state(name), "lazy")

  # A copy shares the values; changing it changes neither the original
  # nor the table.
  copy <- name
  copy[2] <- "new"
  expect_identical(as.vector(copy), replace(all, 2, "new"))
  expect_identical(state(copy), "materialised")
  expect_identical(state(name), "lazy")
  expect_identical(as.vector(name), all)
  expect_identical(x$`1_name`[[2]], NA_character_)

  # Read whole (vctrs, sorting) or element by element past its length, a
  # vector makes all its strings once.
  again <- x$ec5_uuid
  expect_identical(again == uuid(3), seq_len(8) == 3)
  expect_identical(state(again), "lazy")
  expect_identical(again == uuid(3), seq_len(8) == 3)
  expect_identical(state(again), "materialised")
  title <- x$title
  expect_identical(vctrs::vec_slice(title, 3:2), title[3:2])
  expect_identical(as.vector(vctrs::vec_c(title)), uuid(1:8))
  expect_identical(state(title), "materialised")
  expect_identical(sort(name), sort(all))

  # saveRDS() writes plain strings; the package is not needed to read them.
  path <- withr::local_tempfile(fileext = ".rds")
  saveRDS(x, path)
  back <- readRDS(path)
  expect_identical(back, x)
  expect_identical(state(back$`1_name`), "plain")
})

test_that("text columns of de-duplicated rows and of empty tables are lazy too", {
  state <- function(x) epicollect5:::lazy_text_state_cpp(x)
  p <- make_project(list(F = list(q("text", "name"))))
  x <- parse_quietly(page_json(c(
    entry_json(uuid(1), `1_name` = '"first"'), entry_json(uuid(2), `1_name` = '"two"'),
    entry_json(uuid(1), `1_name` = '"last"')
  )), p)
  expect_identical(state(x$`1_name`), "lazy")
  expect_identical(as.vector(x$`1_name`), c("two", "last"))
  empty <- ec5_parse_entries(character(0), p)
  expect_identical(state(empty$`1_name`), "lazy")
  expect_identical(as.vector(empty$`1_name`), character(0))
})
