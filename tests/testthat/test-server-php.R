php_json <- component$srv_php_json

test_that("php_json() writes PHP json_encode() output", {
  expect_equal(
    php_json(list(a = 1L, b = 2.5, c = list(), d = list(1L, "x"), e = NULL, f = TRUE)),
    "{\"a\":1,\"b\":2.5,\"c\":[],\"d\":[1,\"x\"],\"e\":null,\"f\":true}"
  )
  # Non-ASCII as \u escapes (lowercase hex), surrogate pairs beyond the BMP.
  expect_equal(php_json("Zo\u00eb \U0001F41D"), "\"Zo\\u00eb \\ud83d\\udc1d\"")
  expect_equal(php_json("a\"b\\c\nd\te\001"), "\"a\\\"b\\\\c\\nd\\te\\u0001\"")
  # JSON_UNESCAPED_SLASHES for data, flags 0 (escaped) for error bodies.
  expect_equal(php_json("a/b"), "\"a/b\"")
  expect_equal(php_json("a/b", slashes = TRUE), "\"a\\/b\"")
  expect_equal(php_json(component$srv_php_number("9223372036854775807")), "9223372036854775807")
  expect_equal(php_json(list(x = NA)), "{\"x\":null}")
})

test_that("floats are written as PHP writes them", {
  json <- component$srv_php_float_json
  expect_equal(json(c(12, 0.1, 1 / 3, -42.930714, 0, 60)),
               c("12", "0.1", "0.3333333333333333", "-42.930714", "0", "60"))
  expect_equal(json(c(1e25, 1e-5, 2.5e-7, 1e-4)), c("1.0e+25", "1.0e-5", "2.5e-7", "0.0001"))
  expect_equal(json(-0), "-0")
  string <- component$srv_php_float_string
  expect_equal(string(c(12, 1 / 3, 1e25, 1e-5, 123456789012345678)),
               c("12", "0.33333333333333", "1.0E+25", "1.0E-5", "1.2345678901235E+17"))
})

test_that("(int) casts keep int64 exact and saturate beyond it", {
  int <- component$srv_php_int_text
  expect_equal(
    int(c("42", " 12abc", "abc", "3000000000", "9007199254740993", "12.7", "1e3", "007", "")),
    c("42", "12", "0", "3000000000", "9007199254740993", "12", "1000", "7", "0")
  )
  expect_equal(int(c("99999999999999999999", "-99999999999999999999")),
               c("9223372036854775807", "-9223372036854775808"))
  expect_equal(int(c(12.7, -3.2)), c("12", "-3"))
  expect_equal(int(component$srv_php_number("4402079460958")), "4402079460958")
})

test_that("php_fputcsv() quotes like PHP fputcsv()", {
  cells <- matrix(c("a", "b c", "x,y", "q\"uote", "back\\\"slash", "", "12", "line\nbreak", "\u00e9"),
                  nrow = 3, byrow = TRUE)
  expect_equal(
    component$srv_php_fputcsv(cells),
    c("a,\"b c\",\"x,y\"\n", "\"q\"\"uote\",\"back\\\"slash\",\n", "12,\"line\nbreak\",\u00e9\n")
  )
  expect_equal(component$srv_php_fputcsv(matrix(character(), 0, 2)), character())
})

test_that("dates are formatted with the question's datetime_format", {
  date <- component$srv_php_date
  iso <- "2019-02-12T00:00:00.000"
  expect_equal(date(c(iso, ""), "dd/MM/YYYY"), c("12/02/2019", ""))
  expect_equal(date(iso, "MM/dd/YYYY"), "02/12/2019")
  expect_equal(date(iso, "YYYY/MM/dd"), "2019/02/12")
  expect_equal(date(iso, "MM/YYYY"), "02/2019")
  expect_equal(date(iso, "dd/MM"), "12/02")
  time <- "1970-01-01T22:56:37.000"
  expect_equal(date(time, c("HH:mm:ss")), "22:56:37")
  expect_equal(date(time, "hh:mm:ss"), "22:56:37")
  expect_equal(date(time, "hh:mm"), "22:56")
  expect_equal(date(time, "mm:ss"), "56:37")
  expect_equal(date(iso, NA), "")
})

test_that("filter dates parse the ISO forms and reject the rest", {
  parse <- component$srv_parse_filter_date
  expect_equal(parse("2024-05-01T10:00:00.000Z"), 1714557600)
  expect_equal(parse("2024-05-01"), 1714521600)
  expect_equal(parse("2024-05-01T10:00:00+01:00"), 1714554000)
  expect_equal(parse("2024-05-01 10:00:00.5"), 1714557600.5)
  expect_true(is.na(parse("2024-02-30")))
  expect_true(is.na(parse("yesterday-ish")))
})

test_that("str_slug() follows Laravel's Str::slug()", {
  expect_equal(component$srv_str_slug(c("EC5 API Test", "Proyecto_API_Python", "a @ b", "--x--")),
               c("ec5-api-test", "proyecto-api-python", "a-at-b", "x"))
})

test_that("UTM matches a real export and the GPoint zone rules", {
  utm <- component$srv_utm_from_latlong(c(41.646183, 78.2, 60, -42.930714), c(-0.885127, 15.6, 5, -71.364073))
  # thirdparty_single_entry_with_utm_location_2019.json
  expect_equal(utm$northing[1], 4612654)
  expect_equal(utm$easting[1], 676120)
  expect_equal(utm$zone, c("30T", "33X", "32V", "19G"))
})

test_that("LIKE patterns and PHP truthiness", {
  expect_equal(component$srv_like_regex("a%b_c."), "a.*b.c\\.")
  expect_equal(component$srv_like_regex("ab", anchored_start = TRUE), "^ab")
  truthy <- component$srv_php_truthy
  expect_equal(c(truthy(""), truthy(0L), truthy("0"), truthy(NULL), truthy(1.5), truthy("x")),
               c(FALSE, FALSE, FALSE, FALSE, TRUE, TRUE))
})
