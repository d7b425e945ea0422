# E3 and E7 of the local server against API-NOTES.md §6.
srv <- local_ec5_server(limits = component$srv_limits(
  "code", media = NULL, public_media = NULL, public_media_burst = NULL, entries = NULL
))
demo <- list(
  student = "ec5de3000b3c4c34a00243e3b5b68a3b_5720cf256d11b",
  department = "ec5de3000b3c4c34a00243e3b5b68a3b_5720ceeb6d118"
)
all_entries <- function(slug = "ec5-demo", ..., .headers = character()) {
  r <- srv_get(srv, paste0("/api/export/entries/", slug), ..., per_page = 1000, .headers = .headers)
  srv_json(r)$data$entries
}
errors <- function(response) {
  vapply(srv_json(response)$errors, function(e) paste(e$code, e$source), "")
}
field <- function(items, name) vapply(items, function(e) as.character(e[[name]]), "")

photo_names <- function() {
  rows <- all_entries(form_ref = demo$student)
  urls <- field(rows, "34_Profile_picture")
  sub("^.*name=([^&]+).*$", "\\1", urls[nzchar(urls)])
}

test_that("E3 and E7 send photos, thumbnails and placeholders", {
  names <- photo_names()
  served <- lapply(names, function(name) {
    srv_get(srv, "/api/export/media/ec5-demo", type = "photo", format = "entry_original", name = name)
  })
  sizes <- vapply(served, function(r) length(r$body), 0L)
  expect_true(all(vapply(served, `[[`, 0L, "status") == 200L))
  expect_true(all(vapply(served, function(r) r$headers[["content-type"]], "") == "image/jpeg"))
  expect_true(all(vapply(served, function(r) identical(r$body[1:3], as.raw(c(0xFF, 0xD8, 0xFF))), TRUE)))
  real <- served[sizes != 40073]
  expect_true(length(real) > 0)
  expect_true(any(sizes == 40073))
  expect_equal(real[[1]]$headers[["cache-control"]], "public, max-age=86400")
  placeholder <- served[[which(sizes == 40073)[1]]]
  expect_equal(placeholder$headers[["cache-control"]], "public, max-age=31536000, immutable")
  name <- names[sizes != 40073][1]
  versioned <- srv_get(srv, "/api/media/ec5-demo", type = "photo", format = "entry_original",
                       name = name, v = "1600000000")
  expect_equal(versioned$headers[["cache-control"]], "public, max-age=31536000, immutable")
  thumb <- srv_get(srv, "/api/media/ec5-demo", type = "photo", format = "entry_thumb", name = name)
  expect_true(length(thumb$body) < length(real[[1]]$body))
  logo <- srv_get(srv, "/api/export/media/ec5-demo", type = "photo", format = "project_thumb", name = "logo.jpg")
  expect_equal(logo$status, 200L)
  no_logo <- srv_get(srv, "/api/export/media/test-cleaning", type = "photo", format = "project_mobile_logo",
                     name = "logo.jpg")
  expect_equal(length(no_logo$body), 3735)
})

test_that("E3 streams audio and video with ranges; missing ones are 404 ec5_69", {
  departments <- all_entries(form_ref = demo$department)
  audio <- field(departments, "30_Welcome_message")
  names <- sub("^.*name=([^&]+).*$", "\\1", audio[nzchar(audio)])
  served <- lapply(names, function(name) {
    srv_get(srv, "/api/export/media/ec5-demo", type = "audio", format = "audio", name = name)
  })
  status <- vapply(served, `[[`, 0L, "status")
  expect_true(all(status %in% c(200L, 404L)))
  expect_true(any(status == 404L))
  missing <- served[[which(status == 404L)[1]]]
  expect_equal(srv_json(missing)$errors[[1]],
               list(code = "ec5_69", title = "No File Uploaded.", source = "media-service"))
  ok <- which(status == 200L)
  types <- vapply(served[ok], function(r) r$headers[["content-type"]], "")
  expect_setequal(unique(types), intersect(c("audio/mp4", "audio/wav"), unique(types)))
  expect_equal(types, ifelse(grepl("\\.wav$", names[ok]), "audio/wav", "audio/mp4"))
  expect_equal(served[[ok[1]]]$headers[["accept-ranges"]], "bytes")
  ranged <- srv_get(srv, "/api/export/media/ec5-demo", type = "audio", format = "audio", name = names[ok[1]],
                    .headers = c(Range = "bytes=0-9"))
  expect_equal(ranged$status, 206L)
  expect_equal(length(ranged$body), 10)
  expect_match(ranged$headers[["content-range"]], "^bytes 0-9/[0-9]+$")
  never <- srv_get(srv, "/api/export/media/ec5-demo", type = "video", format = "video", name = "nope.mp4")
  expect_equal(never$status, 404L)
})

test_that("E3 rejects missing and invalid parameters, one error each", {
  r <- srv_get(srv, "/api/export/media/ec5-demo")
  expect_equal(r$status, 400L)
  expect_equal(errors(r), c("ec5_21 type", "ec5_21 name", "ec5_21 format"))
  expect_equal(errors(srv_get(srv, "/api/export/media/ec5-demo", type = "pdf", name = "a", format = "audio")),
               "ec5_29 type")
  expect_equal(errors(srv_get(srv, "/api/export/media/ec5-demo", type = "photo", name = "a", format = "big")),
               "ec5_29 format")
})

test_that("E7 serves public projects only; E3 private ones with a token", {
  r <- srv_get(srv, "/api/media/proyecto-api-python", type = "photo", format = "entry_original", name = "a.jpg")
  expect_equal(errors(r), "ec5_77 middleware")
  token <- srv_token(srv, "proyecto-api-python")
  rows <- all_entries("proyecto-api-python", .headers = srv_bearer(token))
  name <- Filter(nzchar, field(rows, "6_Foto"))[1]
  photo <- srv_get(srv, "/api/export/media/proyecto-api-python", type = "photo", format = "entry_original",
                   name = name, .headers = srv_bearer(token))
  expect_equal(photo$status, 200L)
  expect_equal(errors(srv_get(srv, "/api/export/media/proyecto-api-python", type = "photo",
                              format = "entry_original", name = name)), "ec5_256 middleware")
})
