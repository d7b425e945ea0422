parse <- function(x) cpp_check(json_parse_cpp(x))

test_that("objects become named lists and scalar arrays atomic vectors", {
  x <- parse('{"a":[1,2,null],"b":{"c":"x\\u00e9\\ud83d\\ude00"},"s":["a",null],"l":[true,null],"i":[1,2.5]}')
  expect_identical(x$a, c(1L, 2L, NA))
  expect_identical(x$b, list(c = "x\u00e9\U0001F600"))
  expect_identical(Encoding(x$b$c), "UTF-8")
  expect_identical(x$s, c("a", NA))
  expect_identical(x$l, c(TRUE, NA))
  expect_identical(x$i, c(1, 2.5))
})

test_that("mixed arrays become lists, with NULL for null", {
  x <- parse('[1,"a",null,{"k":[]}]')
  expect_identical(x, list(1L, "a", NULL, list(k = list())))
})

test_that("big integers become doubles", {
  expect_identical(parse("[1,3000000000]"), c(1, 3e9))
  expect_identical(parse("-2147483648"), -2147483648)
  # 12345678901234567890 rounded to a double, written so that no long double
  # is involved (valgrind computes R's long doubles as doubles).
  expect_identical(parse("12345678901234567890"), 0x1.56A95319D63E1p63)
})

test_that("scalars, null, empty containers and raw input", {
  expect_null(parse("null"))
  expect_identical(parse("true"), TRUE)
  expect_identical(parse('"x"'), "x")
  expect_identical(parse("{}"), setNames(list(), character()))
  expect_identical(parse("[]"), list())
  expect_identical(parse("[null,null]"), c(NA, NA))
  expect_identical(parse(charToRaw('{"a":1}')), list(a = 1L))
})

test_that("malformed JSON, bad UTF-8 and NUL characters are parse errors", {
  expect_error(parse('{"a":'), class = "ec5_error_parse")
  expect_error(parse(""), class = "ec5_error_parse")
  expect_error(parse(as.raw(c(0x22, 0xff, 0x22))), class = "ec5_error_parse")
  expect_error(parse('["a\\u0000b"]'), class = "ec5_error_parse")
  expect_error(parse(1), class = "ec5_error_argument")
  expect_snapshot(parse('{"a": tru}'), error = TRUE)
})

test_that("deep nesting is a parse error, not a C stack overflow", {
  # Found by fuzzing (tools/fuzz): the recursive parse overflowed the stack.
  deep <- function(n, open = "[", close = "]") {
    charToRaw(paste0(strrep(open, n), strrep(close, n)))
  }
  expect_error(parse(deep(1e6)), "deeper than 512", class = "ec5_error_parse")
  expect_error(parse(deep(1e5, '{"a":', "}")), class = "ec5_error_parse")
  expect_length(parse(deep(500)), 1L)
})

test_that("a string declared as bytes is read as it is, not an R error from C++", {
  # Rf_translateCharUTF8() raises an R error on "bytes", a long jump over the
  # C++ objects of the parser.
  json <- '{"a":"\xe9"}'
  Encoding(json) <- "bytes"
  expect_identical(Encoding(json), "bytes")
  expect_error(parse(json), class = "ec5_error_parse")
})
