# The check of media files (R/media-check.R): whole files of each type pass,
# files cut short or of another type fail with a reason.

check_bytes <- function(bytes, name, expected = NA_real_) {
  path <- withr::local_tempfile()
  writeBin(bytes, path)
  epicollect5:::media_check(path, name, expected = expected)
}

server_asset_bytes <- function(file) {
  path <- system.file("extdata", "server", "media", file, package = "epicollect5", mustWork = TRUE)
  readBin(path, "raw", file.size(path))
}

be32 <- function(n) as.raw((n %/% 256^(3:0)) %% 256)

png_bytes <- function() {
  ihdr <- c(be32(13), charToRaw("IHDR"), be32(1), be32(1), as.raw(c(8, 0, 0, 0, 0)), raw(4))
  c(as.raw(c(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)), ihdr,
    be32(0), charToRaw("IEND"), as.raw(c(0xae, 0x42, 0x60, 0x82)))
}

mp4_bytes <- function(mdat = 100) {
  c(be32(16), charToRaw("ftypisom"), be32(512), be32(8 + mdat), charToRaw("mdat"), as.raw(seq_len(mdat) %% 256))
}

test_that("whole files of each type pass", {
  jpeg <- server_asset_bytes("photo-1.jpg")
  expect_equal(check_bytes(jpeg, "a_1.jpg"), NA_character_)
  expect_equal(check_bytes(jpeg, "a_1.JPEG", expected = length(jpeg)), NA_character_)
  # Zero padding after the end marker, as some cameras write.
  expect_equal(check_bytes(c(jpeg, raw(10)), "a_1.jpg"), NA_character_)
  expect_equal(check_bytes(png_bytes(), "a_1.png"), NA_character_)
  expect_equal(check_bytes(component$srv_media_bytes("a_1.wav"), "a_1.wav"), NA_character_)
  expect_equal(check_bytes(component$srv_media_bytes("a_1.mp4"), "a_1.mp4"), NA_character_)
  expect_equal(check_bytes(mp4_bytes(), "a_1.mp4"), NA_character_)
  # A 64-bit box size, and a last box that runs to the end (size 0).
  large <- c(be32(1), charToRaw("mdat"), be32(0), be32(16 + 20), raw(20))
  expect_equal(check_bytes(c(mp4_bytes(), large), "a_1.mp4"), NA_character_)
  open <- c(be32(0), charToRaw("mdat"), raw(30))
  expect_equal(check_bytes(c(mp4_bytes(), open), "a_1.mp4"), NA_character_)
})

test_that("files cut short fail, each with its reason", {
  jpeg <- server_asset_bytes("photo-1.jpg")
  half <- function(x) x[seq_len(length(x) %/% 2)]
  expect_match(check_bytes(half(jpeg), "a_1.jpg"), "end marker")
  expect_match(check_bytes(half(png_bytes()), "a_1.png"), "IEND")
  expect_match(check_bytes(half(component$srv_media_bytes("a_1.wav")), "a_1.wav"), "says it holds")
  expect_match(check_bytes(half(component$srv_media_bytes("a_1.mp4")), "a_1.mp4"), "cut short")
  # Cut inside a box header.
  expect_match(check_bytes(c(mp4_bytes(), be32(40)), "a_1.mp4"), "box header")
  # A box header of garbage.
  expect_match(check_bytes(c(mp4_bytes(), be32(3), raw(4)), "a_1.mp4"), "impossible size")
  expect_match(check_bytes(raw(0), "a_1.jpg"), "does not start")
  expect_match(check_bytes(raw(0), "a_1.mp4"), "cut short")
})

test_that("files of another type fail", {
  html <- charToRaw("<br />\n<b>Warning</b>: file not found<br />\n<html><body></body></html>")
  for (name in c("a_1.jpg", "a_1.png", "a_1.wav", "a_1.mp4")) {
    expect_match(check_bytes(html, name), "does not start", label = name)
  }
  expect_match(check_bytes(png_bytes(), "a_1.jpg"), "does not start as a JPEG")
})

test_that("the length must be the one announced", {
  jpeg <- server_asset_bytes("photo-1.jpg")
  expect_match(check_bytes(jpeg, "a_1.jpg", expected = length(jpeg) + 1), "announced")
  expect_equal(epicollect5:::media_check(tempfile(), "a_1.jpg"), "The file cannot be read.")
})

test_that("only the head and the tail of a large file are read", {
  # A sparse 4 GB file: reading it whole would take seconds and memory.
  path <- withr::local_tempfile(fileext = ".mp4")
  size <- 4 * 1024^3
  con <- file(path, "wb")
  writeBin(c(mp4_bytes(0), be32(1), charToRaw("mdat"), be32(0), be32(0)), con)
  close(con)
  # Grow the file without writing its middle, then end the 64-bit box there.
  header <- 16 + 8
  con <- file(path, "r+b")
  seek(con, header + 8, rw = "write")
  writeBin(c(be32((size - header) %/% 2^32), be32((size - header) %% 2^32)), con)
  seek(con, size - 1, rw = "write")
  writeBin(as.raw(0), con)
  close(con)
  skip_if(file.size(path) != size, "no large sparse files here")
  expect_equal(epicollect5:::media_check(path, "a_1.mp4"), NA_character_)
  expect_equal(epicollect5:::media_check(path, "a_1.mp4", expected = size), NA_character_)
})
