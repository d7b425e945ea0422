# Media downloads (R/media.R) against the local server: public projects
# through E7 without a token, private ones through E3 with one; placeholders,
# missing files, faults, redirects to another host, and a second run that
# asks for nothing.

media_path_public <- "/api/media/"
media_path_export <- "/api/export/media/"

# A few rows of a form of ec5-demo (Student has photos and videos, Department
# audio as .mp4 and .wav), with every file's expected outcome: the server
# never received about one file in seven (media_synced()); such a photo comes
# back as its placeholder, such audio or video as 404 ec5_69.
demo_media <- function(srv, form, rows = 1:6) {
  x <- ec5_entries("ec5-demo", form = form, base_url = srv$url)[rows, ]
  p <- ec5_project("ec5-demo", base_url = srv$url)
  inputs <- p$inputs[p$inputs$type %in% c("photo", "audio", "video") & p$inputs$map_to %in% names(x), ]
  files <- lapply(seq_len(nrow(inputs)), function(i) {
    name <- epicollect5:::media_file_name(x[[inputs$map_to[i]]])
    name <- name[!is.na(name)]
    synced <- vapply(name, component$srv_media_synced, logical(1), USE.NAMES = FALSE)
    status <- ifelse(synced, "downloaded", if (inputs$type[i] == "photo") "placeholder" else "missing")
    data.frame(name = name, type = inputs$type[i], status = status, column = inputs$map_to[i])
  })
  list(table = x, files = do.call(rbind, files))
}

# The first `n` files of `type` the server has, from demo_media()$files.
synced_media <- function(files, type, n = 1) {
  utils::head(files$name[files$status == "downloaded" & files$type == type], n)
}

# The bytes the server holds for a file, read from its assets rather than
# requested (a request would spend the rate limit the client paces by).
server_media_bytes <- function(name, type, format = type) {
  if (type != "photo") {
    return(component$srv_media_bytes(name))
  }
  file <- if (!component$srv_media_synced(name)) {
    "placeholder-unsynced-512.jpg"
  } else {
    sprintf("%s-%d.jpg", if (format == "entry_thumb") "thumb" else "photo", component$srv_name_hash(name) %% 3 + 1)
  }
  path <- system.file("extdata", "server", "media", file, package = "epicollect5", mustWork = TRUE)
  readBin(path, "raw", file.size(path))
}

# The private project with photos, its credentials and its data.
private_data <- function(srv) {
  slug <- "proyecto-api-python"
  auth <- server_auth(srv, slug)
  list(slug = slug, auth = auth, data = ec5_project_data(slug, auth = auth, base_url = srv$url))
}

# The media requests of a log (the definition's version check left out).
media_log <- function(log) {
  log[grepl("^/(api/media|api/export/media|_s3)/", log$path), ]
}

test_that("public photos, audio and video download through E7 without a token", {
  srv <- local_client_server()
  local_fast_retries()
  dir <- withr::local_tempdir()
  students <- demo_media(srv, "Student")
  departments <- demo_media(srv, "Department")
  files <- rbind(students$files, departments$files)
  expect_setequal(files$type, c("photo", "audio", "video"))
  mark <- log_marker(srv)
  out <- rbind(
    ec5_media_download(students$table, dir, base_url = srv$url),
    ec5_media_download(departments$table, dir, base_url = srv$url)
  )
  log <- mark()
  expect_named(out, c("name", "table", "question", "uuid", "path", "status", "bytes", "error"))
  expect_type(out$path, "character")
  expect_type(out$bytes, "double")
  expect_setequal(out$name, files$name)
  expect_equal(out$status, files$status[match(out$name, files$name)])
  # One request per file, on the public route, never with a token.
  media <- log[startsWith(log$path, media_path_public), ]
  expect_equal(nrow(media), nrow(files))
  expect_false(any(media$authorization))
  expect_equal(count_matching(log, media_path_export), 0)
  expect_equal(count_matching(log, "/api/oauth/token"), 0)
  # Each type was asked for as its question says (an .mp4 may be audio).
  expect_equal(
    sub("^type=([a-z]+)&.*$", "\\1", media$query),
    files$type[match(sub("^.*name=", "", media$query), files$name)]
  )
  # What was saved is what the server holds, byte for byte, and nothing else.
  done <- out[out$status == "downloaded", ]
  expect_gt(nrow(done), 0)
  for (i in seq_len(nrow(done))) {
    type <- files$type[files$name == done$name[i]]
    expected <- server_media_bytes(done$name[i], type, if (type == "photo") "entry_original" else type)
    actual <- readBin(done$path[i], "raw", file.size(done$path[i]))
    expect_identical(actual, expected, label = done$name[i])
    expect_equal(done$bytes[i], length(expected))
  }
  expect_setequal(list.files(dir), done$name)
  expect_true(all(is.na(out$error[out$status == "downloaded"])))
  expect_true(all(is.na(out$path[out$status != "downloaded"])))
})

test_that("an .mp4 is audio or video as its question says, in tables and project data", {
  srv <- local_client_server()
  data <- ec5_project_data("ec5-demo", base_url = srv$url)
  p <- attr(data, "project")
  av <- p$inputs[p$inputs$type %in% c("audio", "video"), ]
  expected <- unlist(lapply(seq_len(nrow(av)), function(i) {
    table <- data[[p$forms$name[p$forms$ref == av$form_ref[i]]]]
    names <- unique(stats::na.omit(epicollect5:::media_file_name(table[[av$map_to[i]]])))
    stats::setNames(rep(av$type[i], length(names)), names)
  }))
  expect_setequal(unique(expected), c("audio", "video"))
  expect_true(any(grepl("[.]mp4$", names(expected)[expected == "audio"])))
  cells <- epicollect5:::media_cells(data)
  cells <- cells[cells$name %in% names(expected), ]
  expect_setequal(cells$name, names(expected))
  expect_equal(epicollect5:::media_types_from_project(cells, p), unname(expected[cells$name]))
  department <- epicollect5:::media_cells(data[["Department"]])
  audio <- department[department$name %in% names(expected)[expected == "audio"], ]
  expect_gt(nrow(audio), 0)
  expect_equal(epicollect5:::media_types_from_project(audio, p), rep("audio", nrow(audio)))
  # Without the project, the extension decides.
  mp4 <- audio[grepl("mp4$", audio$name), ]
  expect_equal(unique(epicollect5:::media_types_from_project(mp4, NULL)), "video")
  # Tables with clean names name the same files, typed by the same questions.
  clean <- ec5_project_data("ec5-demo", base_url = srv$url, col_names = "clean")
  clean_cells <- epicollect5:::media_cells(clean)
  clean_cells <- clean_cells[clean_cells$name %in% names(expected), ]
  expect_setequal(clean_cells$name, cells$name)
  expect_equal(epicollect5:::media_types_from_project(clean_cells, p), unname(expected[clean_cells$name]))
})

test_that("a never-uploaded photo is reported as the placeholder, not saved", {
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  students <- demo_media(srv, "Student", rows = 1:60)
  missing <- students$files[students$files$status == "placeholder", ]
  expect_gt(nrow(missing), 0)
  out <- ec5_media_download(missing$name, dir, slug = "ec5-demo", base_url = srv$url)
  expect_equal(out$status, rep("placeholder", nrow(missing)))
  expect_equal(out$bytes, rep(40073, nrow(missing)))
  expect_match(out$error, "placeholder image")
  expect_length(list.files(dir, all.files = TRUE, no.. = TRUE), 0)
  # The server sent exactly its unsynced placeholder.
  placeholder <- server_media_bytes(missing$name[1], "photo")
  expect_length(placeholder, 40073)
  err <- expect_error(ec5_media("ec5-demo", missing$name[1], base_url = srv$url), class = "ec5_error_not_found")
  expect_snapshot(ec5_media("ec5-demo", missing$name[1], base_url = srv$url), error = TRUE)
  # Missing audio and video are 404 ec5_69: a "missing" row, and the rest goes on.
  departments <- demo_media(srv, "Department", rows = 1:60)
  gone <- departments$files[departments$files$status == "missing", ]
  expect_gt(nrow(gone), 0)
  # The rows with those files and two more.
  column <- departments$table[[gone$column[1]]]
  rows <- union(which(epicollect5:::media_file_name(column) %in% gone$name), 1:2)
  out <- ec5_media_download(departments$table[rows, ], dir, slug = "ec5-demo", base_url = srv$url)
  expect_equal(nrow(out), length(rows))
  expect_equal(out$status[match(gone$name, out$name)], rep("missing", nrow(gone)))
  expect_match(out$error[match(gone$name, out$name)], "ec5_69")
  expect_setequal(list.files(dir), out$name[out$status == "downloaded"])
})

test_that("a second run downloads nothing and asks nothing", {
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  students <- demo_media(srv, "Student")
  present <- students$files$name[students$files$status == "downloaded"]
  first <- ec5_media_download(present, dir, slug = "ec5-demo", base_url = srv$url)
  expect_equal(unique(first$status), "downloaded")
  mark <- log_marker(srv)
  second <- ec5_media_download(present, dir, slug = "ec5-demo", base_url = srv$url)
  expect_equal(second$status, rep("skipped", length(present)))
  expect_equal(second$path, first$path)
  expect_equal(second$bytes, first$bytes)
  expect_equal(nrow(mark()), 0)
  # Files the server did not have are asked for again (the device may have
  # uploaded them since), once each; the others are skipped.
  third <- ec5_media_download(students$table, dir, base_url = srv$url)
  log <- mark()
  expect_equal(sort(third$name[third$status == "skipped"]), sort(present))
  expect_equal(count_matching(log, media_path_public), sum(students$files$status != "downloaded"))
  # overwrite = TRUE downloads again.
  again <- ec5_media_download(present, dir, slug = "ec5-demo", overwrite = TRUE, base_url = srv$url)
  expect_equal(unique(again$status), "downloaded")
  expect_equal(count_matching(mark(), media_path_public), length(present))
})

test_that("thumbnails are saved beside the originals under their own names", {
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  students <- demo_media(srv, "Student")
  photos <- students$files$name[students$files$type == "photo" & students$files$status == "downloaded"]
  out <- ec5_media_download(photos, dir, format = "entry_thumb", slug = "ec5-demo", base_url = srv$url)
  expect_equal(unique(out$status), "downloaded")
  expect_equal(basename(out$path), paste0("thumb_", photos))
  expected <- server_media_bytes(photos[1], "photo", "entry_thumb")
  expect_identical(readBin(out$path[1], "raw", file.size(out$path[1])), expected)
  expect_lt(length(expected), file.size(ec5_media_download(photos[1], dir, slug = "ec5-demo", base_url = srv$url)$path))
})

test_that("private media come from E3 with the token", {
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  private <- private_data(srv)
  slug <- private$slug
  auth <- private$auth
  x <- private$data
  names <- epicollect5:::media_cells(x)$name
  expect_gt(length(names), 0)
  mark <- log_marker(srv)
  out <- ec5_media_download(x, dir, auth = auth, base_url = srv$url)
  log <- mark()
  expect_setequal(out$name, names)
  media <- log[startsWith(log$path, media_path_export), ]
  expect_equal(nrow(media), length(names))
  expect_true(all(media$authorization))
  expect_equal(count_matching(log, media_path_public), 0)
  synced <- vapply(out$name, component$srv_media_synced, logical(1))
  expect_equal(out$status, ifelse(synced, "downloaded", "placeholder"), ignore_attr = TRUE)
  first <- out[out$status == "downloaded", ][1, ]
  expect_identical(
    readBin(first$path, "raw", file.size(first$path)),
    server_media_bytes(first$name, "photo")
  )
  # Without credentials the project is private: an auth error, nothing saved.
  withr::local_envvar(EC5_CLIENT_ID = "", EC5_CLIENT_SECRET = "")
  empty <- withr::local_tempdir()
  expect_error(ec5_media_download(x, empty, base_url = srv$url), class = "ec5_error_auth")
  expect_length(list.files(empty), 0)
})

test_that("a redirect to another host does not carry the token", {
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  p <- private_data(srv)
  out <- ec5_media_download(p$data, dir, auth = p$auth, base_url = srv$url)
  file <- out[out$status == "downloaded", ][1, ]
  unlink(file$path)
  mark <- log_marker(srv)
  srv$faults(type = "redirect", path = media_path_export, times = 1)
  again <- ec5_media_download(file$name, dir, slug = p$slug, auth = p$auth, base_url = srv$url)
  expect_equal(again$status, "downloaded")
  expect_equal(again$bytes, file$bytes)
  log <- media_log(mark())
  expect_equal(log$status, c(302L, 200L))
  expect_equal(log$authorization, c(TRUE, FALSE))
  expect_true(startsWith(log$path[2], "/_s3/"))
  expect_false(identical(log$host[1], log$host[2]))
  # ec5_media() follows the redirect too, still without the token there.
  srv$faults(type = "redirect", path = media_path_export, times = 1)
  bytes <- ec5_media(p$slug, file$name, auth = p$auth, base_url = srv$url)
  expect_identical(bytes, readBin(again$path, "raw", file.size(again$path)))
  expect_equal(media_log(mark())$authorization, c(TRUE, FALSE))
})

test_that("ec5_media() returns the bytes or writes dest", {
  srv <- local_client_server()
  students <- demo_media(srv, "Student")
  photo <- students$files$name[students$files$type == "photo" & students$files$status == "downloaded"][1]
  url <- students$table[[which(vapply(students$table, function(col) any(grepl(photo, col, fixed = TRUE)), TRUE))]]
  url <- url[grepl(photo, url, fixed = TRUE)][1]
  expected <- server_media_bytes(photo, "photo")
  expect_identical(ec5_media("ec5-demo", photo, base_url = srv$url), expected)
  # A public media URL from the table works as the name.
  expect_identical(ec5_media("ec5-demo", url, base_url = srv$url), expected)
  dest <- withr::local_tempfile(fileext = ".jpg")
  expect_identical(ec5_media("ec5-demo", photo, path = dest, base_url = srv$url), dest)
  expect_identical(readBin(dest, "raw", file.size(dest)), expected)
  expect_identical(
    ec5_media("ec5-demo", photo, format = "entry_thumb", base_url = srv$url),
    server_media_bytes(photo, "photo", "entry_thumb")
  )
  video <- students$files[students$files$type == "video" & students$files$status == "downloaded", ]$name[1]
  expect_identical(
    ec5_media("ec5-demo", video, base_url = srv$url),
    server_media_bytes(video, "video")
  )
  # Nothing is left in the temporary folder.
  expect_length(list.files(tempdir(), pattern = "^ec5-media-"), 0)
})

test_that("an interrupted or failed download leaves no file behind", {
  srv <- local_client_server()
  local_fast_retries()
  dir <- withr::local_tempdir()
  students <- demo_media(srv, "Student")
  ok <- students$files$status == "downloaded"
  # A photo first, whose bytes are checked.
  present <- c(students$files$name[ok & students$files$type == "photo"], students$files$name[ok & students$files$type == "video"])
  mark <- log_marker(srv)
  # Once: retried, and the file is whole. A "truncate" fault, a short body
  # with an honest Content-Length, fails the check of R/media-check.R.
  expected <- server_media_bytes(present[1], "photo")
  for (type in c("drop", "stall", "trickle", "error", "truncate")) {
    # A trickle of one byte every 3 s is below the low-speed limit.
    srv$faults(type = type, path = media_path_public, times = 1, delay = 3, chunk = 1, status = 503)
    out <- ec5_media_download(present[1], dir, slug = "ec5-demo", overwrite = TRUE, base_url = srv$url)
    expect_equal(out$status, "downloaded", label = type)
    expect_identical(readBin(out$path, "raw", file.size(out$path)), expected, label = type)
    expect_equal(count_matching(mark(), media_path_public), 2, label = type)
    expect_equal(list.files(dir, all.files = TRUE, no.. = TRUE), present[1], label = type)
  }
  # Persistent: the run stops with the classed error; the file fetched
  # before stays, and nothing half-written is left.
  srv$faults(type = "drop", path = media_path_public, times = 100)
  expect_error(
    ec5_media_download(present, dir, slug = "ec5-demo", base_url = srv$url),
    class = "ec5_error_transport"
  )
  expect_equal(list.files(dir, all.files = TRUE, no.. = TRUE), present[1])
  srv$clear_faults()
  srv$faults(type = "error", status = 503, path = media_path_public, times = 100)
  err <- expect_error(ec5_media_download(present, dir, slug = "ec5-demo", base_url = srv$url), class = "ec5_error_server")
  expect_snapshot(ec5_media_download(present, dir, slug = "ec5-demo", base_url = srv$url),
                  error = TRUE, transform = mask_run)
  expect_equal(list.files(dir, all.files = TRUE, no.. = TRUE), present[1])
  # ec5_media() with dest: no file either.
  dest <- file.path(dir, "one.jpg")
  expect_error(ec5_media("ec5-demo", present[2], path = dest, base_url = srv$url), class = "ec5_error_server")
  expect_false(file.exists(dest))
  srv$clear_faults()
  # The local server answers a fault before it counts the request against
  # its rate limit, the client counts every attempt: its one-second window
  # would end before the server's. A pause realigns them.
  Sys.sleep(1.2)
  # The next run resumes: only what is missing is fetched.
  mark()
  out <- ec5_media_download(present, dir, slug = "ec5-demo", base_url = srv$url)
  expect_equal(out$status, c("skipped", rep("downloaded", length(present) - 1)))
  expect_equal(count_matching(mark(), media_path_public), length(present) - 1)
  expect_setequal(list.files(dir, all.files = TRUE, no.. = TRUE), present)
})

test_that("media arguments are checked before any request", {
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  mark <- log_marker(srv)
  url <- srv$url
  expect_error(ec5_media("ec5-demo", "notes.txt", base_url = url), class = "ec5_error_argument")
  expect_error(ec5_media("ec5-demo", "a_1.jpg", path = 1, base_url = url), class = "ec5_error_argument")
  expect_error(ec5_media("ec5-demo", "a_1.jpg", format = "big", base_url = url))
  expect_error(ec5_media_download(list(1), dir, slug = "ec5-demo", base_url = url), class = "ec5_error_argument")
  expect_error(ec5_media_download("a_1.jpg", "", slug = "ec5-demo", base_url = url), class = "ec5_error_argument")
  expect_error(ec5_media_download("a_1.jpg", dir, overwrite = NA, slug = "ec5-demo", base_url = url), class = "ec5_error_argument")
  expect_error(ec5_media_download("a_1.jpg", dir, base_url = url), class = "ec5_error_argument")
  expect_error(ec5_media_download("a_1.jpg", dir, slug = "EC5 demo", base_url = url), class = "ec5_error_argument")
  expect_equal(nrow(mark()), 0)
  expect_snapshot(error = TRUE, {
    ec5_media("ec5-demo", "notes.txt", base_url = url)
    ec5_media_download("a_1.jpg", dir, base_url = url)
    ec5_media_download(list(1), dir, slug = "ec5-demo", base_url = url)
  })
  # Nothing to download: no request at all.
  out <- ec5_media_download(character(), dir, slug = "ec5-demo", base_url = url)
  expect_equal(nrow(out), 0)
  expect_named(out, c("name", "table", "question", "uuid", "path", "status", "bytes", "error"))
  expect_equal(nrow(mark()), 0)
  expect_error(ec5_media_download("a_1.jpg", dir, layout = "nested", slug = "ec5-demo", base_url = url))
})

test_that("each file names its entry, table and question; layout \"table\" files them so", {
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  students <- demo_media(srv, "Student", rows = 1:3)
  departments <- demo_media(srv, "Department", rows = 1:2)
  out <- rbind(
    ec5_media_download(students$table, dir, layout = "table", base_url = srv$url),
    ec5_media_download(departments$table, dir, layout = "table", base_url = srv$url)
  )
  files <- rbind(students$files, departments$files)
  expect_setequal(out$name, files$name)
  expect_equal(out$question, files$column[match(out$name, files$name)])
  expect_setequal(out$table, c("Student", "Department"))
  # The uuid and question lead back to the cell that names the file.
  for (i in seq_len(nrow(out))) {
    table <- if (out$table[i] == "Student") students$table else departments$table
    cell <- table[[out$question[i]]][table$ec5_uuid == out$uuid[i]]
    expect_identical(epicollect5:::media_file_name(cell), out$name[i])
  }
  # <path>/<table>/<question>/<file>, for the files downloaded only.
  done <- out[out$status == "downloaded", ]
  expect_gt(nrow(done), 0)
  expect_equal(done$path, file.path(dir, done$table, done$question, done$name))
  expect_setequal(list.files(dir, recursive = TRUE), file.path(done$table, done$question, done$name))
  # A second run finds them there; the flat layout does not.
  mark <- log_marker(srv)
  again <- ec5_media_download(students$table, dir, layout = "table", base_url = srv$url)
  expect_equal(again$status[again$name %in% done$name], rep("skipped", sum(again$name %in% done$name)))
  expect_equal(count_matching(mark(), media_path_public), sum(students$files$status != "downloaded"))
})

test_that("media cells carry table, question and the entry's or branch entry's uuid", {
  branch <- tibble::tibble(
    ec5_uuid = c("site-1", "site-1", "site-2"),
    ec5_branch_uuid = c("visit-1", "visit-2", "visit-3"),
    `5_Photo` = c("visit-1_1700000000.jpg", NA, "visit-3_1700000002.jpg"),
    `6_Voice` = c("visit-1_1700000001.mp4", "visit-2_1700000001.wav", "visit-1_1700000000.jpg"),
    `7_Note` = c("a note", "b", "c")
  )
  attr(branch, "provenance") <- list(slug = "p", form = "Site", branch = "Visit")
  cells <- epicollect5:::media_cells(branch)
  # Column by column; a file named twice is listed with its first cell.
  expect_equal(cells$name, c("visit-1_1700000000.jpg", "visit-3_1700000002.jpg", "visit-1_1700000001.mp4", "visit-2_1700000001.wav"))
  expect_equal(cells$table, rep("Visit", 4))
  expect_equal(cells$question, c("5_Photo", "5_Photo", "6_Voice", "6_Voice"))
  expect_equal(cells$uuid, c("visit-1", "visit-3", "visit-1", "visit-2"))
  # A form's table: its own uuid; a table of another origin: no table name.
  form <- branch[c("ec5_uuid", "5_Photo")]
  attr(form, "provenance") <- list(slug = "p", form = "Site", branch = NA_character_)
  expect_equal(epicollect5:::media_cells(form)$table, c("Site", "Site"))
  expect_equal(epicollect5:::media_cells(form)$uuid, c("site-1", "site-2"))
  plain <- data.frame(ec5_uuid = form$ec5_uuid, photo = form$`5_Photo`)
  expect_equal(epicollect5:::media_cells(plain)$table, c(NA_character_, NA_character_))
  expect_equal(epicollect5:::media_cells(plain)$question, c("photo", "photo"))
  # A character vector: only the names.
  bare <- epicollect5:::media_cells(c("a_1.jpg", NA, "a_1.jpg", "nope"))
  expect_equal(bare$name, "a_1.jpg")
  expect_true(is.na(bare$table) && is.na(bare$question) && is.na(bare$uuid))
  expect_equal(nrow(epicollect5:::media_cells(branch[0, ])), 0)
  # Folders: one per table and question, names made safe; unknown tables stay on top.
  both <- rbind(cells[1, ], bare)
  both$table[1] <- "A/B: C?"
  expect_equal(
    epicollect5:::media_paths("out", both, "entry_thumb", "table"),
    c(file.path("out", "A_B_ C_", "5_Photo", "thumb_visit-1_1700000000.jpg"), file.path("out", "thumb_a_1.jpg"))
  )
  expect_equal(epicollect5:::media_paths("out", both, "entry_original", "flat"), file.path("out", both$name))
  expect_equal(epicollect5:::folder_name(c("..", "", "ok name", "tab\tname")), c("_", "_", "ok name", "tab_name"))
})

test_that("media names come from URLs and bare names alike", {
  name <- "e791b360-2f0b-4f52-9a4d-6d1c3a1b2c3d_1708345534.jpg"
  url <- paste0("https://five.epicollect.net/api/media/x?type=photo&format=entry_original&name=", name, "&v=1708345534")
  expect_equal(epicollect5:::media_file_name(c(name, url, NA, "nope")), c(name, name, NA, NA))
  expect_equal(epicollect5:::media_type(c("a_1.jpg", "a_1.PNG", "a_1.wav", "a_1.mp4")),
               c("photo", "photo", "audio", "video"))
  expect_equal(epicollect5:::media_local_name(c("a_1.jpg", "b_2.jpg"), "entry_thumb"),
               c("thumb_a_1.jpg", "thumb_b_2.jpg"))
})

test_that("a body cut short under a matching Content-Length is never kept as downloaded", {
  srv <- local_client_server()
  local_fast_retries()
  dir <- withr::local_tempdir()
  files <- demo_media(srv, "Student")$files
  present <- c(synced_media(files, "photo"), synced_media(files, "video"))
  # Once: requested again, and kept whole.
  mark <- log_marker(srv)
  srv$faults(type = "truncate", path = media_path_public, times = 1)
  out <- ec5_media_download(present[1], dir, slug = "ec5-demo", base_url = srv$url)
  expect_equal(out$status, "downloaded")
  expect_identical(readBin(out$path, "raw", file.size(out$path)), server_media_bytes(present[1], "photo"))
  expect_equal(count_matching(mark(), media_path_public), 2)
  unlink(out$path)
  # Every time: requested within the budget (3 here), then reported, not kept.
  srv$faults(type = "truncate", path = media_path_public, times = 100)
  out <- ec5_media_download(present, dir, slug = "ec5-demo", base_url = srv$url)
  expect_equal(out$status, c("failed", "failed"))
  expect_match(out$error[1], "JPEG image is cut short: it lacks its end marker. It was requested 3 times.", fixed = TRUE)
  expect_match(out$error[2], "MP4 file is cut short")
  expect_equal(count_matching(mark(), media_path_public), 6)
  expect_length(list.files(dir, all.files = TRUE, no.. = TRUE), 0)
  expect_error(ec5_media("ec5-demo", present[1], base_url = srv$url), "cut short", class = "ec5_error_io")
})

test_that("a corrupt file from an older run is fetched again, a whole one skipped", {
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  files <- demo_media(srv, "Student")$files
  present <- c(synced_media(files, "photo", 2), synced_media(files, "video"))
  first <- ec5_media_download(present, dir, slug = "ec5-demo", base_url = srv$url)
  expect_equal(unique(first$status), "downloaded")
  # An older run kept half a photo and an HTML page as a video.
  whole <- readBin(first$path[1], "raw", file.size(first$path[1]))
  writeBin(whole[seq_len(length(whole) %/% 2)], first$path[1])
  writeLines("<br />\n<b>Warning</b>", first$path[3])
  mark <- log_marker(srv)
  second <- ec5_media_download(present, dir, slug = "ec5-demo", base_url = srv$url)
  expect_equal(second$status, c("downloaded", "skipped", "downloaded"))
  expect_equal(count_matching(mark(), media_path_public), 2)
  expect_identical(readBin(second$path[1], "raw", file.size(second$path[1])), whole)
  expect_identical(
    readBin(second$path[3], "raw", file.size(second$path[3])),
    server_media_bytes(present[3], "video")
  )
})

test_that("two processes downloading into one folder do not collide", {
  skip_if_not_installed("callr")
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  students <- demo_media(srv, "Student", rows = 1:10)
  present <- students$files$name[students$files$status == "downloaded"]
  # Each answer comes in parts over half a second, and both processes start
  # together with the same list: they write each file at the same time.
  srv$faults(type = "trickle", path = media_path_public, times = 1000, delay = 0.1, chunk = 1000)
  download <- function(present, dir, url, start) {
    options(epicollect5.verbose = FALSE, epicollect5.rate_limits = list(public_media = c(50, 1)))
    Sys.sleep(max(0, start - as.numeric(Sys.time())))
    epicollect5::ec5_media_download(present, dir, slug = "ec5-demo", overwrite = TRUE, base_url = url)
  }
  args <- list(present = present, dir = dir, url = srv$url, start = as.numeric(Sys.time()) + 5)
  procs <- lapply(1:2, function(i) callr::r_bg(download, args = args))
  for (p in procs) p$wait(60000)
  out <- do.call(rbind, lapply(procs, function(p) p$get_result()))
  expect_equal(nrow(out), 2 * length(present))
  expect_equal(out$error[out$status != "downloaded"], character())
  expect_setequal(list.files(dir, all.files = TRUE, no.. = TRUE), present)
  for (name in present) {
    path <- file.path(dir, name)
    type <- students$files$type[match(name, students$files$name)]
    expect_identical(readBin(path, "raw", file.size(path)), server_media_bytes(name, type), label = name)
  }
})

test_that("an HTML page served as an image is requested again, never kept", {
  srv <- local_client_server()
  local_fast_retries()
  dir <- withr::local_tempdir()
  photo <- synced_media(demo_media(srv, "Student")$files, "photo")
  mark <- log_marker(srv)
  srv$faults(type = "html_body", path = media_path_public, times = 1)
  out <- ec5_media_download(photo, dir, slug = "ec5-demo", base_url = srv$url)
  expect_equal(out$status, "downloaded")
  expect_identical(readBin(out$path, "raw", file.size(out$path)), server_media_bytes(photo, "photo"))
  expect_equal(count_matching(mark(), media_path_public), 2)
  unlink(out$path)
  srv$faults(type = "html_body", path = media_path_public, times = 100)
  out <- ec5_media_download(photo, dir, slug = "ec5-demo", base_url = srv$url)
  expect_equal(out$status, "failed")
  expect_match(out$error, "It does not start as a JPEG image does. It was requested 3 times.", fixed = TRUE)
  expect_equal(count_matching(mark(), media_path_public), 3)
  expect_length(list.files(dir, all.files = TRUE, no.. = TRUE), 0)
})
