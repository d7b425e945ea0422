test_that("the situation report names what is set, never the secrets", {
  withr::local_envvar(EC5_CLIENT_ID = "1001", EC5_CLIENT_SECRET = "sEcReT-sitrep-0000000000000000000000000")
  withr::local_options(epicollect5.cache_dir = withr::local_tempdir())
  out <- capture.output(info <- ec5_sitrep(base_url = "https://five.epicollect.net"), type = "message")
  text <- paste(c(out, capture.output(str(info))), collapse = "\n")
  expect_no_match(text, "sEcReT")
  expect_true(info$client_id_set)
  expect_true(info$client_secret_set)
  expect_equal(info$token, "none stored")
  expect_match(info$libcurl, "^[0-9]+\\.[0-9]+")
  expect_match(text, "EC5_CLIENT_SECRET")
})

test_that("without credentials it says so", {
  withr::local_envvar(EC5_CLIENT_ID = NA, EC5_CLIENT_SECRET = NA)
  info <- suppressMessages(ec5_sitrep(base_url = "https://five.epicollect.net"))
  expect_false(info$client_id_set)
  expect_equal(info$token, "no credentials set")
})

test_that("a token cache that cannot be used is reported, not an error", {
  withr::local_envvar(EC5_CLIENT_ID = "1001", EC5_CLIENT_SECRET = "sEcReT-sitrep-0000000000000000000000000")
  dir <- withr::local_tempdir()
  withr::local_options(epicollect5.cache_dir = dir)
  writeLines("not a folder", file.path(dir, "tokens"))
  info <- suppressMessages(ec5_sitrep(base_url = "https://five.epicollect.net"))
  expect_equal(info$token, paste("the token cache", file.path(dir, "tokens"), "cannot be used"))
})
