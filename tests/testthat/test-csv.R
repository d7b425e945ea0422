# Real exports (fixtures/csv/SOURCES.md): section A raw, section B re-saved.
raw_exports <- c(
  "shrubflam_csv_form-1_third_trip_2021-07_bom.csv",
  "nutnet-lbk_csv_light_2020_raw.csv",
  "nutnet-lbk_csv_light_2022_raw.csv",
  "nutnet-lbk_csv_species-comp_2020_raw.csv",
  "nutnet-lbk_csv_species-comp_2022_raw_curly-apostrophe.csv",
  "nutnet-lbk_spp-values-4_2022_raw.csv",
  "nutnet-lbk_csv_height_2020_raw_location_one-empty.csv",
  "nutnet-lbk_csv_height_2021_raw_location.csv",
  "g34p-phenology_csv_form-1__g34p-phenology_2025-09_v1_raw.csv",
  "g34p-phenology_csv_branch-1__phenology_2025-09_v1_raw.csv",
  "aru-anthropometrics_2024-02_raw.csv",
  "goathead-survey_csv_form-1__goathead_2020-07_raw_nobom.csv"
)

csv_fixture <- function(name) test_path("fixtures", "csv", name)

read_quietly <- function(file, ...) suppressMessages(ec5_read_csv(file, ...))

# Writes `lines` (already joined as the file's bytes) to a temporary file.
local_csv <- function(text, .local_envir = parent.frame()) {
  path <- withr::local_tempfile(fileext = ".csv", .local_envir = .local_envir)
  writeBin(charToRaw(enc2utf8(text)), path)
  path
}

# Reads `text` as a CSV file, writes it back, returns the bytes written.
round_trip <- function(text, ...) {
  x <- read_quietly(local_csv(text), ...)
  out <- withr::local_tempfile(fileext = ".csv")
  ec5_write_csv(x, out)
  rawToChar(readBin(out, "raw", file.size(out)))
}

header <- "ec5_uuid,created_at,uploaded_at,title"
uuid <- sprintf("6f23cff4-e3df-4b8b-bfa5-%012d", 1:20)
stamp <- "2022-09-17T15:43:38.572Z,2022-09-17T21:57:07.000Z"
# A CSV file with one system prefix per row, then the given question cells.
export <- function(questions, ..., bom = TRUE) {
  rows <- c(...)
  prefix <- sprintf("%s,%s,%s", uuid[seq_along(rows)], stamp, "T")
  body <- paste0(c(paste(header, questions, sep = ","), paste(prefix, rows, sep = ",")), "\n",
    collapse = ""
  )
  paste0(if (bom) "\ufeff", body)
}

# A column spec as ec5_column_spec() returns it, built by hand.
hand_spec <- function(name, type, format = NA_character_, levels = list(character()),
                      mode = "form") {
  list(
    spec = data.frame(
      name = name, type = type, format = format,
      levels = I(rep_len(levels, length(name))), label = paste("Question", name),
      ref = paste0("ref_", name), stringsAsFactors = FALSE
    ),
    options = list(mode = mode, child = FALSE, private = FALSE),
    form_ref = "form_ref", branch_ref = NA_character_, map_index = 0L,
    parent_form_ref = NA_character_
  )
}

# --- real files -----------------------------------------------------------------

test_that("every raw export is written back byte for byte", {
  for (name in raw_exports) {
    path <- csv_fixture(name)
    x <- read_quietly(path)
    out <- withr::local_tempfile(fileext = ".csv")
    ec5_write_csv(x, out)
    expect_identical(
      readBin(out, "raw", file.size(out)), readBin(path, "raw", file.size(path)),
      label = name
    )
    expect_true(attr(x, "ec5_csv")$server_form, label = name)
    expect_equal(nrow(ec5_problems(x)), 0L, label = name)
  }
})

test_that("raw exports are typed by the table contract", {
  x <- read_quietly(csv_fixture("shrubflam_csv_form-1_third_trip_2021-07_bom.csv"))
  expect_s3_class(x, "tbl_df")
  expect_identical(dim(x), c(50L, 17L))
  expect_s3_class(x$created_at, "POSIXct")
  expect_identical(attr(x$created_at, "tzone"), "UTC")
  expect_identical(round(as.numeric(x$created_at[[1]]) * 1000), 1626206461557)
  expect_identical(x$date[[1]], as.Date("2021-07-13"))
  expect_identical(attr(x$date, "ec5_format"), "dd/MM/YYYY")
  expect_type(x$lat_location, "double")
  expect_type(x$UTM_Northing_location, "double")
  expect_type(x$UTM_Zone_location, "character")
  expect_identical(x$site[[1]], "Edwards 2020-23")
  expect_type(x$percent_dead, "integer")
  expect_type(x$species_ID, "character") # one value is "QS"
  expect_identical(attr(x, "ec5_csv")$bom, TRUE)

  aru <- read_quietly(csv_fixture("aru-anthropometrics_2024-02_raw.csv"))
  expect_type(aru$`12_Body_temperature_`, "double") # 39 and 34.6
  expect_identical(aru$`9_Time_since_last_me`[[1]], "\ufe65 2 hours")
  expect_identical(attr(aru, "ec5_csv")$columns$format[[5]], "HH:mm")

  goat <- read_quietly(csv_fixture("goathead-survey_csv_form-1__goathead_2020-07_raw_nobom.csv"))
  expect_identical(attr(goat, "ec5_csv")$bom, FALSE)

  branch <- read_quietly(csv_fixture("g34p-phenology_csv_branch-1__phenology_2025-09_v1_raw.csv"))
  expect_identical(names(branch)[1:2], c("ec5_branch_owner_uuid", "ec5_branch_uuid"))
  expect_identical(nrow(branch), 1255L)
})

test_that("an empty location reads as six NAs", {
  x <- read_quietly(csv_fixture("nutnet-lbk_csv_height_2020_raw_location_one-empty.csv"))
  location <- x[, grep("_2_What_is_the_locati$", names(x))]
  empty <- rowSums(is.na(location))
  expect_identical(sum(empty == 6), 1L)
  expect_identical(sum(empty == 0), nrow(x) - 1L)
})

test_that("dates that fit two formats stay text, with a message", {
  path <- csv_fixture("nutnet-lbk_csv_height_2021_raw_location.csv")
  expect_snapshot(x <- ec5_read_csv(path))
  expect_type(x$`1_What_is_the_date`, "character")
  cols <- attr(x, "ec5_csv")$columns
  expect_identical(
    cols$candidates[cols$name == "1_What_is_the_date"], "dd/MM/YYYY, MM/dd/YYYY"
  )
  withr::local_options(epicollect5.verbose = FALSE)
  expect_no_message(ec5_read_csv(path))
})

test_that("re-saved exports are read with their damage reported", {
  problems <- function(name) ec5_problems(read_quietly(csv_fixture(name)))
  file_level <- function(p) p$expected[is.na(p$row)]

  first <- problems("shrubflam_csv_form-1_first_trip_2021-05.csv")
  expect_identical(
    file_level(first),
    "fields with a space, comma, quote, backslash, tab or line break quoted"
  )
  expect_match(first$actual, "^such fields unquoted: \\d+, the first on line 2$")

  biomass <- problems("nutnet-lbk_csv_biomass_2020_resaved_bom_crlf_unquoted.csv")
  expect_setequal(file_level(biomass), c(
    "LF line ends", "a newline at the end of the file",
    "fields with a space, comma, quote, backslash, tab or line break quoted"
  ))
  expect_identical(sum(!is.na(biomass$row)), 0L)

  for (name in c(
    "epacris_private_2023-05_crlf_bom.csv",
    "euphorbia_private_2023-05_crlf_bom.csv"
  )) {
    p <- problems(name)
    expect_true("LF line ends" %in% file_level(p), label = name)
    expect_identical(sum(!is.na(p$row)), 0L, label = name)
  }

  # Excel rewrote 12/07/2021 as 12/7/2021 in six rows: the column stays text
  # and each rewritten value is listed.
  x <- read_quietly(csv_fixture("shrubflam_csv_form-1__branch-collection_2021-08_bom.csv"))
  p <- ec5_problems(x)
  cells <- p[!is.na(p$row), ]
  expect_identical(unique(cells$actual), "12/7/2021")
  expect_identical(cells$row, 37:42)
  expect_identical(unique(cells$expected), "date dd/MM/YYYY (column kept as text)")
  expect_identical(x$date[cells$row], rep("12/7/2021", 6))
  expect_false(attr(x, "ec5_csv")$server_form)

  # Every date was rewritten as 11/9/21: nothing is guessed.
  y <- read_quietly(csv_fixture("nutnet-lbk_spp-comp_2021_resaved_d-m-yy.csv"))
  p <- ec5_problems(y)
  cells <- p[!is.na(p$row), ]
  expect_identical(cells$row, seq_len(nrow(y)))
  expect_identical(unique(cells$actual), "11/9/21")
  expect_type(y$`1_What_is_the_date`, "character")
})

test_that("the hand-edited file is refused as not an export", {
  path <- csv_fixture("shrubflam_csv_second_trip_2021-06_hand_edited.csv")
  err <- expect_error(ec5_read_csv(path), class = "ec5_error_parse")
  expect_identical(err$found[1:4], c("date", "site", "lat_location", "long_location"))
  expect_snapshot(ec5_read_csv(path), error = TRUE, transform = function(x) {
    gsub("'[^']*hand_edited.csv'", "'<file>'", x)
  })
})

test_that("a declared format turns re-saved dates into NA and problems", {
  spec <- hand_spec(
    c("1_What_is_the_date", "2_What_is_the_plot_n", "3_What_is_the_subplo", "4_What_is_the_specie", "5_What_is_the_percen"),
    c("date", "integer", "radio", "text", "integer"),
    format = c("dd/MM/YYYY", NA, NA, NA, NA),
    levels = list(character(), character(), c("NE", "NW", "SE", "SW"), character(), character())
  )
  path <- csv_fixture("nutnet-lbk_spp-comp_2021_resaved_d-m-yy.csv")
  expect_warning(x <- csv_read(path, spec), class = "ec5_warning_problems")
  expect_s3_class(x$`1_What_is_the_date`, "Date")
  expect_true(all(is.na(x$`1_What_is_the_date`)))
  expect_identical(levels(x$`3_What_is_the_subplo`), c("NE", "NW", "SE", "SW"))
  expect_identical(attr(x$`2_What_is_the_plot_n`, "label"), "Question 2_What_is_the_plot_n")
  p <- ec5_problems(x)
  cells <- p[!is.na(p$row), ]
  expect_identical(cells$row, seq_len(nrow(x)))
  expect_identical(unique(cells$expected), "date dd/MM/YYYY")
  expect_identical(unique(cells$column), "1_What_is_the_date")
})

# --- the tokenizer ------------------------------------------------------------------

test_that("BOM, CRLF and a missing final newline are all accepted", {
  base <- export("1_a", "x", "y")
  variants <- list(
    base,
    sub("^\ufeff", "", base),
    gsub("\n", "\r\n", base),
    sub("\n$", "", base)
  )
  tables <- lapply(variants, function(text) read_quietly(local_csv(text)))
  for (x in tables[-1]) expect_identical(x$`1_a`, tables[[1]]$`1_a`)
  expect_identical(tables[[1]]$`1_a`, c("x", "y"))
  expect_identical(attr(tables[[2]], "ec5_csv")$bom, FALSE)
})

test_that("quoted cells follow PHP fputcsv, backslashes included", {
  cells <- c(
    "\"two words\"", "\"say \"\"hi\"\"\"", "\"a\\\"b\"", "\"ends in \\\"",
    "\"back\\\\\"", "\"line one\nline two\"", "\"tab\there\"", "\"x\\\"\"\"\""
  )
  text <- export("1_a", cells)
  x <- read_quietly(local_csv(text))
  expect_identical(x$`1_a`, c(
    "two words", "say \"hi\"", "a\\\"b", "ends in \\", "back\\\\",
    "line one\nline two", "tab\there", "x\\\"\""
  ))
  expect_identical(round_trip(text), text)
  expect_true(attr(x, "ec5_csv")$server_form)
})

test_that("RFC quoting from other tools is read and reported", {
  text <- export("1_a", "\"plain\"", "\"a \"\"b\"\"\"")
  x <- read_quietly(local_csv(text))
  expect_identical(x$`1_a`, c("plain", "a \"b\""))
  p <- ec5_problems(x)
  expect_identical(p$actual, "other fields quoted: 1, the first on line 2")
})

test_that("empty cells are NA and blank lines are skipped", {
  x <- read_quietly(local_csv(paste0(export("1_a,2_b", "x,", ",\"\""), "\n")))
  expect_identical(x$`1_a`, c("x", NA))
  expect_identical(x$`2_b`, c(NA_character_, NA_character_))
  expect_identical(ec5_problems(x)$actual, c(
    "blank lines (skipped): 1, the first on line 4",
    "other fields quoted: 1, the first on line 3"
  ))
})

test_that("rows with the wrong number of fields are reported", {
  x <- read_quietly(local_csv(export("1_a,2_b", "x,y,z", "x")))
  p <- ec5_problems(x)
  expect_identical(p$row, 1:2)
  expect_identical(p$expected, c("6 fields", "6 fields"))
  expect_identical(p$actual, c("7 fields", "5 fields"))
  expect_identical(x$`2_b`, c("y", NA))
})

test_that("broken files raise classed errors", {
  expect_error(ec5_read_csv(tempfile()), class = "ec5_error_io")
  expect_error(ec5_read_csv(tempdir()), class = "ec5_error_io")
  expect_error(ec5_read_csv(local_csv("")), class = "ec5_error_parse")
  hide_path <- function(x) gsub("'[^']*[.]csv'", "'<file>'", x)
  expect_snapshot(
    ec5_read_csv(local_csv(export("1_a", "\"never closed"))),
    error = TRUE, transform = hide_path
  )
  latin1 <- local_csv("")
  writeBin(c(charToRaw(sub("\n$", "", export("1_a", "caf"))), as.raw(0xe9), charToRaw("\n")), latin1)
  expect_snapshot(ec5_read_csv(latin1), error = TRUE, transform = hide_path)
  expect_error(ec5_read_csv(c("a", "b")), class = "ec5_error_argument")
})

test_that("a file read a few bytes at a time gives the table read whole", {
  # The reader holds one block of the file at a time: records, quoted line
  # breaks, CR LF pairs and UTF-8 sequences cut by a block's end must read
  # as they do whole.
  read_in <- function(path, block) {
    x <- suppressWarnings(suppressMessages(csv_read(path, block = block)))
    attr(x, "provenance") <- NULL
    x
  }
  text <- export(
    "1_note,2_date,3_n", "\"two\nlines, caf\u00e9\",12/07/2021,1", "\"say \"\"hi\"\"\",12/7/2021,2",
    "\"back\\\\\",13/07/2021,3,extra", "\u00e9t\u00e9,,4"
  )
  text <- sub(uuid[[3]], uuid[[1]], text)
  files <- c(
    local_csv(text),
    local_csv(gsub("\n", "\r\n", sub("\n$", "", text))),
    csv_fixture("shrubflam_csv_form-1__branch-collection_2021-08_bom.csv"),
    csv_fixture("nutnet-lbk_csv_biomass_2020_resaved_bom_crlf_unquoted.csv")
  )
  for (path in files) {
    whole <- read_in(path, 2^20)
    expect_gt(nrow(ec5_problems(whole)), 0L)
    for (block in c(1, 2, 3, 7, 64)) {
      expect_identical(read_in(path, block), whole, label = sprintf("%s in blocks of %d", basename(path), block))
    }
  }

  bad <- local_csv("")
  writeBin(c(charToRaw(export("1_a", "x", "y", "caf")), as.raw(0xe9), charToRaw("\n")), bad)
  for (block in c(1, 5, 2^20)) {
    expect_error(csv_read(bad, block = block), "line 5 holds a byte", class = "ec5_error_parse")
  }
  open <- local_csv(export("1_a", "x", "\"never\nclosed"))
  expect_error(csv_read(open, block = 3), "starts on line 3 is never closed", class = "ec5_error_parse")
})

test_that("a NUL byte is a parse error, not an R error from C++", {
  # Found by the fuzzer (tools/fuzz): the byte reached Rf_mkCharLenCE.
  for (at in c("header", "cell")) {
    path <- local_csv("")
    text <- charToRaw(export("1_a", "x"))
    text[if (at == "header") 5L else length(text) - 1L] <- as.raw(0)
    writeBin(text, path)
    expect_error(ec5_read_csv(path), "NUL byte", class = "ec5_error_parse")
  }
})

test_that("a duplicated entry keeps its last copy", {
  text <- export("1_a", "first", "second")
  text <- sub(uuid[[2]], uuid[[1]], text)
  x <- read_quietly(local_csv(text))
  expect_identical(x$`1_a`, "second")
  p <- ec5_problems(x)
  expect_identical(p$row, 1L)
  expect_identical(p$column, "ec5_uuid")
})

# --- inference --------------------------------------------------------------

test_that("only canonical text forms are typed", {
  x <- read_quietly(local_csv(export(
    "1_int,2_dec,3_zero,4_pad,5_exp,6_big,7_long,8_mixed",
    "12,34.6,007,1.50,1e3,3000000000,1234567890123456,5",
    "-3,39,1,2.5,2,-1,1,x"
  )))
  expect_identical(x$`1_int`, c(12L, -3L))
  expect_identical(x$`2_dec`, c(34.6, 39))
  expect_type(x$`3_zero`, "character")
  expect_type(x$`4_pad`, "character")
  expect_type(x$`5_exp`, "character")
  # Without a definition the values bound an integer column.
  expect_identical(x$`6_big`, structure(c(3e9, -1), ec5_type = "integer"))
  expect_type(x$`7_long`, "character")
  expect_type(x$`8_mixed`, "character")
  expect_identical(nrow(ec5_problems(x)), 0L)
})

test_that("integers beyond int32 are written back as digits", {
  text <- export("1_big", "3000000000", "999999999999999")
  expect_identical(round_trip(text), text)
})

test_that("dates are inferred only when one layout fits every value", {
  x <- read_quietly(local_csv(export(
    "1_dmy,2_mdy,3_ymd,4_time,5_hm",
    "13/08/2021,08/13/2021,2021/08/13,10:43:17,09:05",
    "01/02/2021,02/01/2021,2021/02/01,23:59:59,23:00"
  )))
  dates <- as.Date(c("2021-08-13", "2021-02-01"))
  expect_equal(x$`1_dmy`, dates, ignore_attr = "ec5_format")
  expect_equal(x$`2_mdy`, dates, ignore_attr = "ec5_format")
  expect_equal(x$`3_ymd`, dates, ignore_attr = "ec5_format")
  expect_identical(attr(x$`2_mdy`, "ec5_format"), "MM/dd/YYYY")
  expect_identical(x$`4_time`, c("10:43:17", "23:59:59"))
  cols <- attr(x, "ec5_csv")$columns
  expect_identical(cols$format[cols$name %in% c("4_time", "5_hm")], c("HH:mm:ss", "HH:mm"))
})

test_that("invalid calendar dates are not dates", {
  x <- read_quietly(local_csv(export("1_d", "31/02/2021", "13/08/2021")))
  expect_type(x$`1_d`, "character")
  p <- ec5_problems(x)
  expect_identical(p$actual, "31/02/2021")
})

test_that("created_at is parsed to the millisecond and problems name bad stamps", {
  text <- export("1_a", "x", "y")
  text <- sub("2022-09-17T15:43:38.572Z", "\"17/09/2022 15:43\"", text, fixed = TRUE)
  expect_warning(x <- read_quietly(local_csv(text)), class = "ec5_warning_problems")
  expect_identical(is.na(x$created_at), c(TRUE, FALSE))
  p <- ec5_problems(x)
  expect_identical(p$column, "created_at")
  expect_identical(p$actual, "17/09/2022 15:43")
})

test_that("a location needs numbers", {
  text <- export(
    "lat_1_w,long_1_w,accuracy_1_w,UTM_Northing_1_w,UTM_Easting_1_w,UTM_Zone_1_w",
    "30.92469,-99.36626B1:B1048576,5,3422000,449000,14R"
  )
  expect_snapshot(x <- read_quietly(local_csv(text)))
  expect_identical(x$long_1_w, NA_real_)
  expect_identical(x$UTM_Zone_1_w, "14R")
  p <- ec5_problems(x)
  expect_identical(p$row, 1L)
  expect_identical(p$column, "long_1_w")
  expect_identical(p$expected, "number")
  expect_identical(p$actual, "-99.36626B1:B1048576")
})

# --- the writer -------------------------------------------------------------

test_that("numbers are written as PHP prints them", {
  x <- tibble::tibble(ec5_uuid = "u", n = c(34.6, 0.1 + 0.2, 1e-5, 1e15, 0.0001, -0.5, 100, 1 / 3, NA, -0))
  out <- withr::local_tempfile(fileext = ".csv")
  ec5_write_csv(x, out, bom = FALSE)
  expect_identical(
    readLines(out)[-1],
    paste0("u,", c("34.6", "0.3", "1.0E-5", "1.0E+15", "0.0001", "-0.5", "100", "0.33333333333333", "", "-0"))
  )
})

test_that("time stamps keep their milliseconds exactly", {
  ms <- c(0, 1, 999, 1594933091933, 1626206461557, 1684480243762, -1)
  x <- tibble::tibble(
    ec5_uuid = "u", created_at = as.POSIXct(ms / 1000, origin = "1970-01-01", tz = "UTC")
  )
  out <- withr::local_tempfile(fileext = ".csv")
  ec5_write_csv(x, out)
  lines <- readLines(out, encoding = "UTF-8")[-1]
  expect_identical(lines, paste0("u,", c(
    "1970-01-01T00:00:00.000Z", "1970-01-01T00:00:00.001Z", "1970-01-01T00:00:00.999Z",
    "2020-07-16T20:58:11.933Z", "2021-07-13T20:01:01.557Z", "2023-05-19T07:10:43.762Z",
    "1969-12-31T23:59:59.999Z"
  )))
  # Every millisecond of a second survives a read and a write.
  stamps <- sprintf("2021-07-13T20:01:01.%03dZ", 0:999)
  text <- paste0("ec5_uuid,created_at\n", paste0(sprintf("u%d,", 0:999), stamps, "\n", collapse = ""))
  expect_identical(round_trip(text), text)
})

test_that("factors, lists, dates, logicals and NAs are written as the server does", {
  x <- tibble::tibble(
    ec5_uuid = c("u1", "u2"),
    radio = factor(c("Yes", NA), levels = c("Yes", "No")),
    checkbox = list(c("a", "b, c", "d"), character()),
    date = structure(as.Date(c("2021-07-13", NA)), ec5_format = "MM/dd/YYYY"),
    plain_date = as.Date(c("2021-07-13", "0999-01-02")),
    flag = c(TRUE, FALSE),
    text = c("x \"y\"", NA)
  )
  out <- withr::local_tempfile(fileext = ".csv")
  ec5_write_csv(x, out)
  bytes <- readBin(out, "raw", file.size(out))
  expect_identical(bytes[1:3], as.raw(c(0xef, 0xbb, 0xbf)))
  expect_identical(rawToChar(bytes[-(1:3)]), paste0(
    "ec5_uuid,radio,checkbox,date,plain_date,flag,text\n",
    "u1,Yes,\"a, \"\"b, c\"\", d\",07/13/2021,13/07/2021,1,\"x \"\"y\"\"\"\n",
    "u2,,,,02/01/0999,,\n"
  ))
})

test_that("a table typed from a spec is written back byte for byte", {
  text <- export(
    "1_when,2_pick,3_ticks,4_n",
    "05/16/1986,No,\"a, \"\"b, c\"\", d\",3",
    "12/31/2001,Yes,a,",
    ",,,"
  )
  spec <- hand_spec(
    c("1_when", "2_pick", "3_ticks", "4_n"), c("date", "radio", "checkbox", "integer"),
    format = c("MM/dd/YYYY", NA, NA, NA),
    levels = list(character(), c("Yes", "No"), c("a", "b, c", "d"), character())
  )
  x <- csv_read(local_csv(text), spec)
  expect_identical(x$`1_when`, structure(as.Date(c("1986-05-16", "2001-12-31", NA)), ec5_format = "MM/dd/YYYY", label = "Question 1_when"))
  expect_identical(as.character(x$`2_pick`), c("No", "Yes", NA))
  expect_identical(x$`3_ticks`, structure(list(c("a", "b, c", "d"), "a", character()), label = "Question 3_ticks"))
  out <- withr::local_tempfile(fileext = ".csv")
  ec5_write_csv(x, out)
  expect_identical(rawToChar(readBin(out, "raw", file.size(out))), text)
})

test_that("a spec for another form or branch is refused", {
  path <- csv_fixture("g34p-phenology_csv_branch-1__phenology_2025-09_v1_raw.csv")
  expect_error(csv_read(path, hand_spec("5_id_scan", "text")), class = "ec5_error_argument")
  form <- csv_fixture("g34p-phenology_csv_form-1__g34p-phenology_2025-09_v1_raw.csv")
  expect_snapshot(x <- csv_read(form, hand_spec(c("1_date", "2_time", "99_gone"), c("date", "time", "text"), format = c("dd/MM/YYYY", "HH:mm", NA))))
  expect_s3_class(x$`1_date`, "Date")
  expect_type(x$`3_phenology`, "integer")
})

test_that("the bom argument overrides what was read", {
  path <- csv_fixture("goathead-survey_csv_form-1__goathead_2020-07_raw_nobom.csv")
  x <- read_quietly(path)
  out <- withr::local_tempfile(fileext = ".csv")
  ec5_write_csv(x, out, bom = TRUE)
  bytes <- readBin(out, "raw", file.size(out))
  expect_identical(bytes[1:3], as.raw(c(0xef, 0xbb, 0xbf)))
  expect_identical(bytes[-(1:3)], readBin(path, "raw", file.size(path)))
  expect_error(ec5_write_csv(x, out, bom = NA), class = "ec5_error_argument")
})

test_that("writing is atomic: an error leaves no file behind", {
  dir <- withr::local_tempdir()
  out <- file.path(dir, "entries.csv")
  x <- tibble::tibble(ec5_uuid = "u", when = as.difftime(1, units = "secs"))
  expect_snapshot(ec5_write_csv(x, out), error = TRUE)
  expect_identical(list.files(dir, all.files = TRUE, no.. = TRUE), character())

  writeLines("old", out)
  ec5_write_csv(tibble::tibble(ec5_uuid = "u"), out)
  expect_identical(readBin(out, "raw", 100), charToRaw("\ufeffec5_uuid\nu\n"))
  expect_identical(list.files(dir, all.files = TRUE, no.. = TRUE), "entries.csv")

  expect_error(ec5_write_csv(x, file.path(dir, "no", "such.csv")), class = "ec5_error_io")
  expect_error(ec5_write_csv(x, dir), class = "ec5_error_io")
  expect_error(ec5_write_csv(list(a = 1), out), class = "ec5_error_argument")
  numbers <- tibble::tibble(ec5_uuid = "u", ticks = list(1:2))
  expect_error(ec5_write_csv(numbers, out), class = "ec5_error_argument")
  expect_identical(readBin(out, "raw", 100), charToRaw("\ufeffec5_uuid\nu\n"))
})

test_that("dates and times without a calendar form are refused, not garbled", {
  # Inf reached a double-to-integer conversion (undefined behaviour) and wrote
  # a year like -25252734927764585.
  dir <- withr::local_tempdir()
  out <- file.path(dir, "entries.csv")
  bad <- list(
    d = structure(c(1, Inf), class = "Date"),
    d = structure(-1e300, class = "Date"),
    t = .POSIXct(c(0, -Inf), tz = "UTC"),
    t = .POSIXct(1e18, tz = "UTC")
  )
  for (i in seq_along(bad)) {
    x <- tibble::tibble(ec5_uuid = "u", !!names(bad)[i] := bad[[i]], .rows = length(bad[[i]]))
    expect_error(ec5_write_csv(x, out), "cannot be written", class = "ec5_error_argument")
  }
  expect_identical(list.files(dir, all.files = TRUE, no.. = TRUE), character())
})

test_that("an empty table writes its header only", {
  x <- read_quietly(local_csv(export("1_a")))
  expect_identical(nrow(x), 0L)
  expect_identical(round_trip(export("1_a")), export("1_a"))
})

# --- the same values through JSON and CSV -----------------------------------

birds <- '{"data": {"project": {"ref": "p1", "name": "Birds", "slug": "birds",
  "access": "public", "forms": [{"ref": "p1_f1", "name": "Sighting",
  "slug": "sighting", "inputs": [
  {"ref": "p1_f1_q1", "type": "integer", "question": "How many?"},
  {"ref": "p1_f1_q2", "type": "decimal", "question": "Weight"},
  {"ref": "p1_f1_q3", "type": "date", "question": "When?", "datetime_format": "dd/MM/YYYY"},
  {"ref": "p1_f1_q4", "type": "time", "question": "Time", "datetime_format": "HH:mm"},
  {"ref": "p1_f1_q5", "type": "radio", "question": "Sex", "possible_answers": [
    {"answer_ref": "a1", "answer": "Male"}, {"answer_ref": "a2", "answer": "Female"}]},
  {"ref": "p1_f1_q6", "type": "checkbox", "question": "Seen", "possible_answers": [
    {"answer_ref": "b1", "answer": "Tree"}, {"answer_ref": "b2", "answer": "Bush, low"},
    {"answer_ref": "b3", "answer": "Sky"}]},
  {"ref": "p1_f1_q7", "type": "location", "question": "Where"},
  {"ref": "p1_f1_q8", "type": "text", "question": "Notes"}]}]}}}'

birds_json <- '{"data": {"entries": [
  {"ec5_uuid": "u1", "created_at": "2024-05-01T10:00:00.557Z",
   "uploaded_at": "2024-05-01T10:05:00.000Z", "title": "Two birds",
   "1_How_many": 2, "2_Weight": 2.5, "3_When": "01/05/2024", "4_Time": "10:00",
   "5_Sex": "Female", "6_Seen": ["Tree", "Bush, low"],
   "7_Where": {"latitude": 51.5, "longitude": -0.12, "accuracy": 5,
     "UTM_Northing": 5710000, "UTM_Easting": 699000, "UTM_Zone": "30U"},
   "8_Notes": "a \\"big\\" one, really"},
  {"ec5_uuid": "u2", "created_at": "2024-05-02T10:00:00.001Z",
   "uploaded_at": "2024-05-02T10:05:00.000Z", "title": "u2",
   "1_How_many": "", "2_Weight": "", "3_When": "", "4_Time": "",
   "5_Sex": "", "6_Seen": [],
   "7_Where": {"latitude": "", "longitude": "", "accuracy": "",
     "UTM_Northing": "", "UTM_Easting": "", "UTM_Zone": ""},
   "8_Notes": ""},
  {"ec5_uuid": "u3", "created_at": "2024-05-03T10:00:00.999Z",
   "uploaded_at": "2024-05-03T10:05:00.000Z", "title": "u3",
   "1_How_many": "many", "2_Weight": 3000000000, "3_When": "11/9/21", "4_Time": "9:05",
   "5_Sex": "Unknown", "6_Seen": ["Sky"],
   "7_Where": {"latitude": 0, "longitude": 0, "accuracy": 3,
     "UTM_Northing": "", "UTM_Easting": "", "UTM_Zone": ""},
   "8_Notes": "multi\\nline"}]}}'

# The same entries as the server's CSV export writes them.
birds_csv <- paste0(
  "\ufeffec5_uuid,created_at,uploaded_at,title,1_How_many,2_Weight,3_When,4_Time,5_Sex,6_Seen,",
  "lat_7_Where,long_7_Where,accuracy_7_Where,UTM_Northing_7_Where,UTM_Easting_7_Where,UTM_Zone_7_Where,8_Notes\n",
  "u1,2024-05-01T10:00:00.557Z,2024-05-01T10:05:00.000Z,\"Two birds\",2,2.5,01/05/2024,10:00,Female,",
  "\"Tree, \"\"Bush, low\"\"\",51.5,-0.12,5,5710000,699000,30U,\"a \"\"big\"\" one, really\"\n",
  "u2,2024-05-02T10:00:00.001Z,2024-05-02T10:05:00.000Z,u2,,,,,,,,,,,,,\n",
  "u3,2024-05-03T10:00:00.999Z,2024-05-03T10:05:00.000Z,u3,many,3000000000,11/9/21,9:05,Unknown,",
  "Sky,0,0,3,,,,\"multi\nline\"\n"
)

test_that("a CSV value and the same JSON value give the same R value and problems", {
  project <- ec5_project_from_json(birds)
  expect_warning(from_json <- ec5_parse_entries(birds_json, project), class = "ec5_warning_problems")
  expect_warning(from_csv <- ec5_read_csv(local_csv(birds_csv), project), class = "ec5_warning_problems")
  expect_identical(names(from_csv), names(from_json))
  for (name in names(from_json)) {
    expect_identical(from_csv[[name]], from_json[[name]], label = name)
  }
  expect_s3_class(from_csv$`5_Sex`, "factor")
  expect_identical(from_csv$`6_Seen`[[1]], c("Tree", "Bush, low"), ignore_attr = TRUE)
  expect_identical(attr(from_csv$`3_When`, "ec5_format"), "dd/MM/YYYY")
  key <- function(p) p[order(p$row, p$column), ]
  expect_identical(key(ec5_problems(from_csv)), key(ec5_problems(from_json)))
  expect_identical(ec5_problems(from_csv)$actual, c("many", "11/9/21", "9:05", "Unknown"))
  expect_identical(attr(from_csv, "provenance")$slug, "birds")
})

test_that("tables from the JSON path are written as the server writes them", {
  project <- ec5_project_from_json(birds)
  clean <- sub("u3,.*", "", birds_csv)
  json <- sub(',\\s*\\{"ec5_uuid": "u3".*\\]\\}\\}$', "]}}", birds_json)
  from_json <- ec5_parse_entries(json, project)
  out <- withr::local_tempfile(fileext = ".csv")
  ec5_write_csv(from_json, out)
  expect_identical(rawToChar(readBin(out, "raw", file.size(out))), enc2native(clean))

  from_csv <- ec5_read_csv(local_csv(clean), project)
  ec5_write_csv(from_csv, out)
  expect_identical(rawToChar(readBin(out, "raw", file.size(out))), enc2native(clean))
})

# A CSV file with `cells` (a named list of equal-length character vectors,
# NA as an empty cell), quoted as fputcsv quotes.
cells_csv <- function(cells) {
  field <- function(x) {
    x[is.na(x)] <- ""
    quote <- grepl("[ ,\"\\\\]", x)
    x[quote] <- paste0("\"", gsub("\"", "\"\"", x[quote]), "\"")
    x
  }
  rows <- do.call(paste, c(lapply(cells, field), sep = ","))
  local_csv(paste0(paste(c(paste(names(cells), collapse = ","), rows), collapse = "\n"), "\n"),
            .local_envir = parent.frame())
}

test_that("CSV cells are typed exactly as the same JSON values", {
  p <- contract_project()
  json_values <- list(
    `1_int` = c("42", '"17"', "4.5", '""'),
    `3_dmy` = c('"16/05/1986"', '"11/9/21"', '""', '"29/02/2020"'),
    `8_hms` = c('"22:56:37"', '"22:56"', '""', '"00:00:00"'),
    `11_radio` = c('"yes"', '"maybe"', '""', '"1"'),
    `15_phone` = c('"123"', '"+44"', '""', '"x"')
  )
  ids <- sprintf("00000000-0000-4000-8000-%012d", 1:4)
  entries <- vapply(1:4, function(i) {
    do.call(entry_json, c(list(ids[i]), lapply(json_values, `[`, i)))
  }, "")
  from_json <- parse_quietly(page_json(entries), p)
  # The same values as CSV cells: the JSON strings unquoted.
  cells <- lapply(names(from_json), function(n) rep(NA_character_, 4))
  names(cells) <- names(from_json)
  cells$ec5_uuid <- ids
  cells$created_at <- rep("2024-05-01T10:00:00.000Z", 4)
  cells$uploaded_at <- rep("2024-05-01T10:05:00.000Z", 4)
  cells$title <- ids
  for (n in names(json_values)) cells[[n]] <- gsub('^"|"$', "", json_values[[n]])
  from_csv <- suppressWarnings(ec5_read_csv(cells_csv(cells), p))
  attr(from_csv, "ec5_csv") <- NULL
  attr(from_csv, "provenance") <- NULL
  attr(from_json, "provenance") <- NULL
  expect_identical(from_csv, from_json)
})

test_that("CSV cells of multi-answer questions are split as the server joins them", {
  p <- contract_project()
  names_out <- names(parse_quietly(character(0), p))
  cells <- rep(list(rep(NA_character_, 5)), length(names_out))
  names(cells) <- names_out
  cells$ec5_uuid <- sprintf("00000000-0000-4000-8000-%012d", 1:5)
  cells$`12_check` <- c("a, b", "", "\"x, y\", b", "\"x, y\"", "a")
  x <- suppressWarnings(ec5_read_csv(cells_csv(cells), p))
  expect_equal(x$`12_check`, list(c("a", "b"), character(0), c("x, y", "b"), "x, y", "a"),
               ignore_attr = TRUE)
})

# --- the API and the CSV export of one server ----------------------------------

# Rows in key order, without the table attributes that only one path sets. The
# server joins the answers `[""]` into an empty cell, which reads as no
# answer: the CSV export cannot tell them apart, so one empty answer (NA in
# JSON) is compared as none.
comparable <- function(x, key) {
  x <- x[order(x[[key]]), ]
  for (j in which(vapply(x, is.list, logical(1)))) {
    x[[j]][vapply(x[[j]], identical, logical(1), NA_character_)] <- list(character(0))
  }
  attr(x, "ec5_csv") <- NULL
  attr(x, "provenance") <- NULL
  attr(x, "problems") <- NULL
  x
}

test_that("the API path and the CSV path give the same columns for the same entries", {
  srv <- local_client_server()
  for (slug in c("ec5-demo", "test-cleaning", "proyecto-api-python")) {
    auth <- if (slug %in% srv$clients$slug) server_auth(srv, slug)
    tables <- ec5_project_data(slug, auth = auth, base_url = srv$url)
    project <- attr(tables, "project")
    h <- attr(tables, "hierarchy")
    for (i in seq_len(nrow(h))) {
      branch <- if (h$kind[i] == "branch") h$ref[i]
      form <- h$ref[i]
      if (!is.null(branch)) form <- project$inputs$form_ref[project$inputs$ref == branch]
      resp <- epicollect5:::ec5_request(
        paste0(srv$url, "/api/export/entries/", slug),
        query = c(list(form_ref = form, format = "csv", headers = "true", per_page = 1000),
                  if (!is.null(branch)) list(branch_ref = branch)),
        token = if (!is.null(auth)) epicollect5:::ec5_token(auth)
      )
      path <- withr::local_tempfile(fileext = ".csv")
      writeBin(resp$body, path)
      from_csv <- ec5_read_csv(path, project, form = form, branch = branch)
      from_api <- tables[[h$table[i]]]
      label <- paste(slug, h$table[i])
      key <- if (is.null(branch)) "ec5_uuid" else "ec5_branch_uuid"
      expect_identical(names(from_csv), names(from_api), label = label)
      expect_identical(comparable(from_csv, key), comparable(from_api, key), label = label)
      expect_identical(ec5_problems(from_csv), ec5_problems(from_api), label = label)
    }
  }
})

test_that("tables with clean names are read, and written back with the export names", {
  for (name in raw_exports) {
    path <- csv_fixture(name)
    x <- read_quietly(path, col_names = "clean")
    expect_identical(make.names(names(x), unique = TRUE), names(x), label = name)
    expect_identical(export_names(x), attr(x, "ec5_csv")$header, label = name)
    out <- withr::local_tempfile(fileext = ".csv")
    ec5_write_csv(x, out)
    expect_identical(
      readBin(out, "raw", file.size(out)), readBin(path, "raw", file.size(path)),
      label = name
    )
  }
  located <- read_quietly(csv_fixture("nutnet-lbk_csv_height_2021_raw_location.csv"), col_names = "clean")
  expect_length(grep("_lat$", names(located)), 1L)
  expect_length(grep("_utm_zone$", names(located)), 1L)

  project <- ec5_project_from_json(birds)
  clean <- sub("u3,.*", "", birds_csv)
  json <- sub(',\\s*\\{"ec5_uuid": "u3".*\\]\\}\\}$', "]}}", birds_json)
  from_json <- ec5_parse_entries(json, project, col_names = "clean")
  out <- withr::local_tempfile(fileext = ".csv")
  ec5_write_csv(from_json, out)
  expect_identical(rawToChar(readBin(out, "raw", file.size(out))), enc2native(clean))
  from_csv <- ec5_read_csv(local_csv(clean), project, col_names = "clean")
  expect_identical(names(from_csv), names(from_json))
  expect_identical(ec5_labels(from_csv), ec5_labels(from_json))
})

# --- types from the definition, entities, the n/a uploader ------------------------------

test_that("an integer question held as a double is written as digits, as the server writes it", {
  p <- make_project(list(F = list(q("integer", "Count"), q("decimal", "Share"))))
  ids <- sprintf("00000000-0000-4000-8000-%012d", 1:4)
  page <- sprintf(
    '{"data":{"entries":[%s]}}',
    paste(sprintf(
      '{"ec5_uuid":"%s","created_at":"2024-05-01T10:00:00.000Z","uploaded_at":"2024-05-01T10:05:00.000Z","title":"t","1_Count":%s,"2_Share":%s}',
      ids, c("9223372036854775807", "-9223372036854775808", "3000000000", "12"),
      c("1e15", "2.5", "3", "0.1")
    ), collapse = ",")
  )
  x <- ec5_parse_entries(page, p)
  out <- withr::local_tempfile(fileext = ".csv")
  ec5_write_csv(x, out)
  lines <- readLines(out, encoding = "UTF-8")
  counts <- vapply(strsplit(lines[-1], ","), `[[`, "", 5)
  shares <- vapply(strsplit(lines[-1], ","), `[[`, "", 6)
  expect_identical(counts, c("9223372036854775807", "-9223372036854775808", "3000000000", "12"))
  # A decimal question stays a PHP float.
  expect_identical(shares, c("1.0E+15", "2.5", "3", "0.1"))
  # The mark survives subsetting, so a filtered table is written the same way.
  kept <- x[x$`2_Share` < 1 | x$`2_Share` > 1e14, ]
  ec5_write_csv(kept, out)
  expect_identical(vapply(strsplit(readLines(out)[-1], ","), `[[`, "", 5), c("9223372036854775807", "12"))
  back <- ec5_read_csv(out, p)
  expect_identical(nrow(ec5_problems(back)), 0L)
  expect_identical(back$`1_Count`, kept$`1_Count`)
})

test_that("choice answers with entities and the n/a uploader read from a CSV as from JSON", {
  p <- make_project(list(F = list(
    q("radio", "Field", answers = c("R&amp;D", "Law")),
    q("checkbox", "Fields", answers = c("R&amp;D", "Law"))
  )), access = "private")
  text <- paste0(
    "\ufeffec5_uuid,created_at,uploaded_at,created_by,title,1_Field,2_Fields\n",
    "u1,2024-05-01T10:00:00.000Z,2024-05-01T10:05:00.000Z,n/a,T,R&amp;D,\"R&amp;D, Law\"\n",
    "u2,2024-05-01T10:00:00.000Z,2024-05-01T10:05:00.000Z,a@example.org,T,Law,\n"
  )
  x <- ec5_read_csv(local_csv(text), p)
  expect_identical(x$created_by, c(NA, "a@example.org"))
  expect_identical(as.character(x$`1_Field`), c("R&D", "Law"))
  expect_identical(x$`2_Fields`, list(c("R&D", "Law"), character(0)), ignore_attr = TRUE)
  expect_identical(nrow(ec5_problems(x)), 0L)
  # Written back: the uploader as the server's placeholder, answers as decoded text.
  out <- withr::local_tempfile(fileext = ".csv")
  ec5_write_csv(x, out)
  expect_identical(rawToChar(readBin(out, "raw", file.size(out))), gsub("&amp;", "&", text, fixed = TRUE))
  back <- ec5_read_csv(out, p)
  expect_identical(back$created_by, x$created_by)
  expect_identical(back$`1_Field`, x$`1_Field`)
})

test_that("every table the local server serves is written and read back without a problem", {
  srv <- local_client_server()
  digits <- FALSE
  for (slug in component$srv_catalogue()$slug) {
    auth <- if (slug %in% srv$clients$slug) server_auth(srv, slug)
    tables <- suppressWarnings(ec5_project_data(slug, auth = auth, base_url = srv$url))
    project <- attr(tables, "project")
    h <- attr(tables, "hierarchy")
    for (i in seq_len(nrow(h))) {
      branch <- if (h$kind[i] == "branch") h$ref[i]
      form <- if (is.null(branch)) h$ref[i] else project$inputs$form_ref[project$inputs$ref == branch]
      from_api <- tables[[h$table[i]]]
      path <- withr::local_tempfile(fileext = ".csv")
      ec5_write_csv(from_api, path)
      digits <- digits || any(grepl(",9223372036854775807,", readLines(path, encoding = "UTF-8")))
      back <- ec5_read_csv(path, project, form = form, branch = branch)
      label <- paste(slug, h$table[i])
      expect_identical(nrow(ec5_problems(back)), 0L, label = label)
      key <- if (is.null(branch)) "ec5_uuid" else "ec5_branch_uuid"
      # Values the API could not convert are NA in both; so are their problems.
      expect_identical(comparable(back, key), comparable(from_api, key), label = label)
    }
  }
  # The server's saturated 64-bit integer was among the values written.
  expect_true(digits)
})
