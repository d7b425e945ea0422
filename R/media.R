#' Download one media file
#'
#' Fetches a photo, audio or video file of an entry. The type is guessed from
#' the file name (`.jpg`, `.jpeg`, `.png`: photo; `.wav`: audio; `.mp4`:
#' audio or video, from the question when the project says which) unless
#' `type` is given.
#'
#' @inheritParams ec5_project
#' @param name The file name as it appears in an entries table: a bare name
#'   such as `"<uuid>_1700000000.jpg"` or a media URL of a public project.
#' @param format `"entry_original"` for the photo as uploaded, or
#'   `"entry_thumb"` for a 100x100 thumbnail. Audio and video are always
#'   fetched as uploaded.
#' @param path A file path to write to, or `NULL` to return the bytes.
#' @param type `"photo"`, `"audio"` or `"video"`; guessed when `NULL`.
#' @return The path written (invisibly), or a raw vector when `path` is
#'   `NULL`.
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE)
#' url <- ec5_demo_server()
#' students <- ec5_entries("ec5-demo", form = "Student", base_url = url)
#' photos <- students$`34_Profile_picture`
#' bytes <- ec5_media("ec5-demo", photos[!is.na(photos)][1], base_url = url)
#' length(bytes)
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_media <- function(slug, name, format = c("entry_original", "entry_thumb"),
                      path = NULL, type = NULL, auth = NULL,
                      base_url = ec5_base_url()) {
  base_url <- check_base_url(base_url)
  slug <- check_slug(slug, base_url)
  format <- check_choice(format)
  must <- "a media file name or URL from an entries table"
  check_string(name, must = must)
  file <- media_file_name(name)
  if (is.na(file)) {
    abort_argument(name, "name", must, call = rlang::current_env())
  }
  check_choice(type, values = c("photo", "audio", "video"), allow_null = TRUE)
  type <- type %||% media_type(file)
  check_path(path, allow_null = TRUE, must = "a file path, or {.code NULL}")
  auth <- resolve_auth(auth, base_url)
  project <- project_get(slug, auth, base_url)
  target <- if (is.null(path)) tempfile("ec5-media-") else path
  result <- media_fetch(slug, file, type, format, target, project, auth, base_url)
  if (!identical(result$status, "downloaded")) {
    ec5_abort(
      c("Could not download {.file {file}}.", "x" = result$error),
      class = if (identical(result$status, "placeholder")) "not_found" else "io"
    )
  }
  if (is.null(path)) {
    on.exit(unlink(target))
    return(readBin(target, "raw", file.size(target)))
  }
  invisible(path)
}

#' Download the media files of a table
#'
#' Downloads every photo, audio and video file named in a table from
#' [ec5_entries()], [ec5_branch_entries()] or [ec5_project_data()] (or in a
#' character vector of file names) into the folder `path`. Each file is written to a
#' temporary name and renamed only when complete, so an interrupted or failed
#' download leaves no partial file; files already in `path` are skipped unless
#' `overwrite` is `TRUE`, so a second run downloads only what is missing. A
#' photo the device never uploaded comes back from the server as a
#' placeholder image; it is reported, not saved. One failed file does not
#' stop the others; an error that would fail every file (credentials, rate
#' limit, network, server) stops the run, and the next run resumes.
#'
#' Public projects are fetched from the public media URL (a larger rate
#' limit), private ones from the export endpoint with the token (10 files a
#' minute). Progress is one line in a terminal, with the waits for the rate
#' limit shown inside it, and a line a minute at most in a log.
#'
#' @section Linking files back to entries:
#' Each row of the result says where its file is named: the `table` (form
#' or branch name), the `question` (the column) and the `uuid` of the entry
#' (`ec5_uuid`, or `ec5_branch_uuid` for a branch entry), so the result joins
#' back onto the table by `uuid`. A file named in several cells is
#' downloaded once and listed with the first. Files given as a character
#' vector have `NA` there.
#'
#' With `layout = "table"` the files are laid out in one folder per table
#' and question, `<path>/<table>/<question>/<file>` (characters a folder name
#' cannot hold become `_`); files whose table is unknown stay in `path`.
#'
#' @inheritParams ec5_media
#' @param x A table of entries, an `ec5_project_data` object, or a character
#'   vector of media file names or URLs.
#' @param path The folder to write into; created if needed.
#' @param overwrite Whether to download files that already exist in `path`.
#' @param layout `"flat"`: every file directly in `path`; `"table"`: in one
#'   folder per table and question (see Linking files back to entries).
#' @param slug The project slug or URL; taken from `x` when it is a table from this
#'   package.
#' @return A tibble with one row per file: `name`, `table`, `question`,
#'   `uuid` (see Linking files back to entries), `path`, `status`
#'   (`"downloaded"`; `"skipped"`, already in `path`; `"placeholder"`, a
#'   photo the device never uploaded; `"missing"`, an audio or video file the
#'   device never uploaded; or `"failed"`), `bytes` and `error`.
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE)
#' url <- ec5_demo_server()
#' students <- ec5_entries("ec5-demo", form = "Student", base_url = url)
#' got <- ec5_media_download(students[1:3, ], tempfile("media"), layout = "table", base_url = url)
#' got[c("question", "uuid", "status")]
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_media_download <- function(x, path, format = c("entry_original", "entry_thumb"),
                               overwrite = FALSE, layout = c("flat", "table"),
                               slug = NULL, auth = NULL, base_url = ec5_base_url()) {
  check_media_source(x)
  check_path(path, must = "a folder path")
  format <- check_choice(format)
  check_bool(overwrite)
  layout <- check_choice(layout)
  base_url <- check_base_url(base_url)
  slug <- check_slug(slug %||% media_slug(x), base_url)
  cells <- media_cells(x)
  paths <- media_paths(path, cells, format, layout)
  wanted <- overwrite | !media_whole(paths, cells$name)
  media_folders(c(path, dirname(paths[wanted])))
  auth <- resolve_auth(auth, base_url)
  # With every file at hand, nothing is asked of the server, not even the definition.
  project <- if (any(wanted)) project_get(slug, auth, base_url)
  types <- media_types_from_project(cells, project)
  rows <- media_download_all(slug, cells$name, types, format, paths, wanted, project, auth, base_url,
    call = rlang::current_env()
  )
  tibble::tibble(
    cells[c("name", "table", "question", "uuid")],
    path = vapply(rows, `[[`, "", "path"),
    status = vapply(rows, `[[`, "", "status"),
    bytes = vapply(rows, `[[`, 0, "bytes"),
    error = vapply(rows, `[[`, "", "error")
  )
}

# A file the server does not have (404 ec5_69, a refused name) fails alone;
# any other error (credentials, rate limit, network, server) would fail every
# file, so it stops the run. Files already written stay, and the next run
# skips them. Progress counts the files; the time left, the ones to fetch.
media_download_all <- function(slug, files, types, format, paths, wanted,
                               project, auth, base_url, call) {
  task <- progress_start(
    paste(slug, "media"), "file",
    pace = list(base_url = base_url, slug = slug, class = media_class(project))
  )
  on.exit(progress_end(task))
  # Files still to fetch after the i-th.
  left <- c(rev(cumsum(rev(wanted)))[-1], 0)
  lapply(seq_along(files), function(i) {
    result <- if (!wanted[i]) {
      media_result(paths[i], "skipped", file.size(paths[i]))
    } else {
      tryCatch(
        media_fetch(slug, files[i], types[i], format, paths[i], project, auth, base_url, call = call),
        ec5_error_not_found = media_failed,
        ec5_error_bad_request = media_failed
      )
    }
    progress_step(task, i, length(files), left = left[i])
    result
  })
}

# The rate-limit bucket of a project's media: public projects have their own.
media_class <- function(project) {
  if (identical(project$project$access, "public")) "public_media" else "media"
}

# One file that could not be had; 404 ec5_69 is an audio or video file the
# device never uploaded.
media_failed <- function(e) {
  status <- if (identical(e$code, "ec5_69")) "missing" else "failed"
  media_result(NA_character_, status, error = cli::ansi_strip(conditionMessage(e)))
}

# Files already in the folder that pass the check of R/media-check.R: a file
# left corrupt by an older run is fetched again.
media_whole <- function(paths, files) {
  vapply(seq_along(paths), function(i) {
    file.exists(paths[i]) && is.na(media_check(paths[i], files[i]))
  }, TRUE)
}

# Downloads one file to a temporary name beside `path`, checks the status,
# content type and placeholder signature, then renames it into place. A file
# that fails its check (R/media-check.R) was damaged on the way: the retry
# policy requests it again, and when every try fails it is reported, never
# kept.
media_fetch <- function(slug, file, type, format, path, project, auth, base_url,
                        call = rlang::caller_env()) {
  format <- if (type == "photo") format else type
  class <- media_class(project)
  public <- class == "public_media"
  part <- temp_beside(path)
  on.exit(unlink(part))
  problem <- NA_character_
  check <- function(resp) {
    announced <- suppressWarnings(as.numeric(response_header(resp, "content-length")))
    problem <<- if (media_type_sent(resp)) media_check(part, file, expected = announced) else NA_character_
    if (!is.na(problem)) {
      ec5_abort(problem, class = "parse", damaged = TRUE)
    }
  }
  resp <- tryCatch(
    ec5_api_get(
      base_url,
      paste0(if (public) "/api/media/" else "/api/export/media/", slug),
      query = list(type = type, format = format, name = file),
      auth = if (public) NULL else auth,
      pace = list(slug = slug, class = class),
      dest = part,
      check = check,
      what = "media request",
      call = call
    ),
    ec5_error_parse = function(e) e
  )
  if (inherits(resp, "ec5_error_parse")) {
    return(media_result(NA_character_, "failed", file.size(part),
      paste0(problem, if (isTRUE(resp$tries > 1)) paste0(" It was requested ", resp$tries, " times."))))
  }
  bytes <- file.size(part)
  if (!media_type_sent(resp)) {
    return(media_result(NA_character_, "failed", bytes,
      paste0("The server sent ", response_header(resp, "content-type"), " instead of a media file.")))
  }
  if (is_placeholder(resp, bytes)) {
    return(media_result(NA_character_, "placeholder", bytes,
      "The server sent its placeholder image: the device never uploaded this photo."))
  }
  if (!move_into_place(part, path)) {
    return(media_result(NA_character_, "failed", bytes, paste0("Could not write ", path, ".")))
  }
  media_result(path, "downloaded", bytes)
}

media_type_sent <- function(resp) {
  grepl("^(image|audio|video)/", response_header(resp, "content-type"))
}

media_result <- function(path, status, bytes = NA_real_, error = NA_character_) {
  list(path = path, status = status, bytes = as.double(bytes), error = error)
}

# API-NOTES.md §6: missing photos come back as 200 with a placeholder JPEG of
# a known size, sent as immutable even though we sent no `v`.
is_placeholder <- function(resp, bytes) {
  cache <- response_header(resp, "cache-control")
  grepl("immutable", cache, fixed = TRUE) && bytes %in% c(40073, 3735)
}

media_pattern <- "([^/?&=]+_[0-9]+\\.(jpg|jpeg|png|mp4|wav))(&|$)"

# The bare file name of a media cell: the `name` parameter of a public URL,
# or the cell itself when it is already a file name.
media_file_name <- function(x) {
  x <- as.character(x)
  out <- rep(NA_character_, length(x))
  hit <- !is.na(x) & grepl(media_pattern, x, ignore.case = TRUE)
  out[hit] <- sub(paste0("^.*?", media_pattern, ".*$"), "\\1", x[hit], ignore.case = TRUE, perl = TRUE)
  out
}

media_type <- function(file) {
  ext <- tolower(tools::file_ext(file))
  type <- unname(c(jpg = "photo", jpeg = "photo", png = "photo", wav = "audio", mp4 = "video")[ext])
  ifelse(is.na(type), "photo", type)
}

# A thumbnail must not overwrite (or be mistaken for) the original.
media_local_name <- function(file, format) {
  if (format == "entry_thumb") paste0("thumb_", file) else file
}

# Every media file named in `x`, each once (its first cell), with where it
# is named: a data frame of name, table, question (the column, as `x` names
# it), uuid (the entry's key, R/table-layout.R) and export (the column's
# export name, R/column-names.R); all but name are NA for a character vector.
# Vectorised over the cells of each column.
media_cells <- function(x) {
  cells <- if (is.character(x)) {
    media_cells_frame(media_file_name(x))
  } else if (inherits(x, "ec5_project_data")) {
    tables <- unclass(x)
    vctrs::vec_rbind(!!!Map(media_table_cells, tables, names(tables)))
  } else {
    media_table_cells(x, media_table_name(x))
  }
  cells <- cells[!is.na(cells$name) & !duplicated(cells$name), ]
  rownames(cells) <- NULL
  cells
}

media_cells_frame <- function(name, table = NA_character_, question = NA_character_,
                              uuid = NA_character_, export = NA_character_) {
  n <- length(name)
  data.frame(
    name = name, table = rep_len(table, n), question = rep_len(question, n),
    uuid = rep_len(uuid, n), export = rep_len(export, n)
  )
}

media_table_cells <- function(table, name) {
  key <- entry_key(names(table))
  uuid <- if (is.na(key)) rep(NA_character_, nrow(table)) else as.character(table[[key]])
  text <- vapply(table, is.character, TRUE)
  columns <- names(table)[text]
  exports <- export_names(table)[text]
  parts <- Map(function(column, export) {
    files <- media_file_name(table[[column]])
    hit <- !is.na(files)
    media_cells_frame(files[hit], name, column, uuid[hit], export)
  }, columns, exports)
  vctrs::vec_rbind(media_cells_frame(character()), !!!parts)
}

# The form or branch a table of this package holds, NA for another table.
media_table_name <- function(x) {
  provenance <- attr(x, "provenance")
  provenance$branch %|NA|% provenance$form %||% NA_character_
}

# Where each file goes: into `path`, or with layout "table" into
# <path>/<table>/<question>/ when its table is known.
media_paths <- function(path, cells, format, layout) {
  files <- media_local_name(cells$name, format)
  if (layout == "flat") {
    return(file.path(path, files))
  }
  known <- !is.na(cells$table) & !is.na(cells$question)
  folders <- rep(path, nrow(cells))
  folders[known] <- file.path(path, folder_name(cells$table[known]), folder_name(cells$question[known]))
  file.path(folders, files)
}

# A table or question name as one folder name on every system: no
# separators, reserved characters or names made of dots.
folder_name <- function(x) {
  x <- gsub('[/\\\\:*?"<>|[:cntrl:]]', "_", x)
  x[x %in% c("", ".", "..")] <- "_"
  x
}

media_folders <- function(folders, call = rlang::caller_env()) {
  for (folder in unique(folders)) {
    if (!dir.exists(folder) && !dir.create(folder, recursive = TRUE)) {
      ec5_abort("Could not create folder {.file {folder}}.", class = "io", call = call)
    }
  }
}

media_slug <- function(x, call = rlang::caller_env()) {
  slug <- if (inherits(x, "ec5_project_data")) {
    attr(x, "project")$project$slug
  } else {
    attr(x, "provenance")$slug
  }
  if (is.null(slug)) {
    ec5_abort(
      c("{.arg slug} is needed: {.arg x} does not say which project it comes from.",
        "i" = "Tables from {.fn ec5_entries} and the other functions of epicollect5 say it; for file names, give {.arg slug}."),
      class = "argument", argument = "slug", call = call
    )
  }
  slug
}

# An .mp4 is audio or video depending on its question; the project's inputs
# say which for the questions the files are named in. Files of unknown
# origin fall back to the extension.
media_types_from_project <- function(cells, project) {
  types <- media_type(cells$name)
  if (is.null(project)) {
    return(types)
  }
  inputs <- project$inputs[project$inputs$type %in% c("audio", "video"), ]
  known <- match(cells$export, inputs$map_to)
  types[!is.na(known)] <- inputs$type[known[!is.na(known)]]
  types
}
