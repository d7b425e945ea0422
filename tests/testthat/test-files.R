# The one atomic writer (R/files.R): whole or nothing, nothing left behind.

test_that("a file is written whole and nothing else stays in its folder", {
  dir <- withr::local_tempdir()
  path <- file.path(dir, "a.bin")
  write_atomic(as.raw(1:10), path)
  expect_identical(readBin(path, "raw", 100), as.raw(1:10))
  write_atomic(as.raw(11:12), path)
  expect_identical(readBin(path, "raw", 100), as.raw(11:12))
  expect_identical(list.files(dir, all.files = TRUE, no.. = TRUE), "a.bin")
})

test_that("a rename that fails is a classed error and keeps what was there", {
  dir <- withr::local_tempdir()
  # A folder in the file's place: the rename must fail.
  path <- file.path(dir, "taken")
  dir.create(path)
  writeLines("old", file.path(path, "inside"))
  err <- expect_error(write_atomic(as.raw(1:3), path), class = "ec5_error_io")
  expect_match(conditionMessage(err), "could not be moved into place")
  expect_identical(readLines(file.path(path, "inside")), "old")
  expect_identical(list.files(dir, all.files = TRUE, no.. = TRUE), "taken")
})

test_that("a folder that cannot be written is a classed error", {
  path <- file.path(withr::local_tempdir(), "no-such-folder", "a.bin")
  expect_error(suppressWarnings(write_atomic(as.raw(1), path)), class = "ec5_error_io")
})

test_that("temporary names are unique per process and call, beside the file", {
  path <- file.path(withr::local_tempdir(), "x.csv")
  a <- temp_beside(path)
  b <- temp_beside(path)
  expect_false(identical(a, b))
  expect_identical(dirname(a), dirname(path))
  expect_match(basename(a), paste0("^x\\.csv\\.", Sys.getpid(), "-.*\\.part$"))
  other <- callr::r(function(p) epicollect5:::temp_beside(p), list(path))
  expect_false(grepl(paste0("\\.", Sys.getpid(), "-"), basename(other)))
})
