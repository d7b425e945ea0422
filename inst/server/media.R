# Media of the local Epicollect5 server: E3 /api/export/media and E7
# /api/media (API-NOTES.md §6), and the presigned-URL target of the S3
# redirect fault.

srv_media_formats <- c("entry_original", "entry_thumb", "project_thumb", "project_mobile_logo",
                       "audio", "video", "temp")

srv_api_export_media <- function(ctx) {
  srv_media_response(ctx, public_only = FALSE)
}

srv_api_public_media <- function(ctx) {
  srv_media_response(ctx, public_only = TRUE)
}

srv_media_response <- function(ctx, public_only) {
  access <- srv_project_access(ctx, ctx$params[[1]], public_only = public_only)
  if (!is.null(access$response)) {
    return(access$response)
  }
  query <- ctx$req$query
  invalid <- srv_media_invalid(query)
  if (!is.null(invalid)) {
    return(invalid)
  }
  if (identical(ctx$fault$type, "redirect") && query$format %in% c("entry_original", "audio", "video")) {
    return(srv_media_redirect(ctx, access$project, query))
  }
  srv_media_file(ctx, access$project, query)
}

# One error per failing parameter, in rule order: type, name, format.
srv_media_invalid <- function(query) {
  check <- function(value, allowed = NULL) {
    if (is.null(value) || !nzchar(value)) "ec5_21" else if (!is.null(allowed) && !value %in% allowed) "ec5_29"
  }
  rules <- Filter(Negate(is.null), list(
    type = check(query$type, c("photo", "audio", "video")),
    name = check(query$name),
    format = check(query$format, srv_media_formats)
  ))
  if (length(rules)) srv_error_response(400L, unlist(rules), names(rules))
}

# The S3 redirect of the export route (API-NOTES.md §6): a presigned URL on
# another host. Here the other host is the other name of this server, so a
# client that forwards Authorization shows up in the request log.
srv_media_redirect <- function(ctx, project, query) {
  host <- sub("^http://", "", ctx$base_url)
  port <- sub("^.*:", "", host)
  other <- if (startsWith(host, "localhost")) "127.0.0.1" else "localhost"
  location <- if (!is.na(ctx$fault$location)) ctx$fault$location else sprintf(
    "http://%s:%s/_s3/%s?type=%s&format=%s&name=%s&X-Amz-Expires=600&X-Amz-Signature=%s",
    other, port, project$slug, query$type, query$format, srv_php_rawurlencode(query$name),
    paste(sample(c(0:9, letters[1:6]), 64, TRUE), collapse = "")
  )
  list(status = 302L, headers = list(Location = location, "Cache-Control" = "no-store",
                                     "Content-Type" = "text/html; charset=UTF-8"),
       body = sprintf("Redirecting to %s", location), fault = "redirect")
}

# The presigned target of srv_media_redirect(): no token, no limits.
srv_api_s3_media <- function(ctx) {
  project <- srv_projects(ctx$state)[[ctx$params[[1]]]]
  if (is.null(project)) {
    return(list(status = 403L, headers = list("Content-Type" = "application/xml"),
                body = "<Error><Code>AccessDenied</Code></Error>"))
  }
  srv_media_file(ctx, project, ctx$req$query)
}

# A media file, a placeholder, or 404 ec5_69 (API-NOTES.md §6)
#
# Entry files exist when an entry of the project names them and they were
# synced (a fixed share, chosen by name, was never uploaded from the device).
srv_media_file <- function(ctx, project, query) {
  format <- query$format
  name <- query$name
  if (format %in% c("project_thumb", "project_mobile_logo")) {
    file <- if (project$logo) c(project_thumb = "logo-512.jpg", project_mobile_logo = "logo-128.jpg")[[format]]
    return(srv_photo_response(file, ctx$req))
  }
  kind <- unname(c(entry_original = "photo", entry_thumb = "photo", audio = "audio", video = "video")[format])
  known <- !is.na(kind) && name %in% srv_media_names(project, srv_store(ctx$state, project$slug), kind) &&
    srv_media_synced(name)
  if (identical(query$type, "photo")) {
    file <- if (known) {
      sprintf("%s-%d.jpg", if (format == "entry_thumb") "thumb" else "photo", srv_name_hash(name) %% 3 + 1)
    }
    return(srv_photo_response(file, ctx$req, unsynced = TRUE))
  }
  if (!known) {
    return(srv_error_response(404L, "ec5_69", "media-service"))
  }
  srv_stream_response(srv_media_bytes(name), srv_media_content_type(query$type, name), ctx$req)
}

# Photos are cached for a day, for good when the URL carries a version;
# placeholders always for good (a missing entry photo gets the 512 px
# "not synced" image, anything else the 256 px generic one).
srv_photo_response <- function(file, req, unsynced = FALSE) {
  placeholder <- is.null(file)
  if (placeholder) {
    file <- if (unsynced) "placeholder-unsynced-512.jpg" else "placeholder-256.jpg"
  }
  immutable <- placeholder || !is.null(req$query$v)
  list(
    status = 200L,
    headers = list(
      "Content-Type" = "image/jpeg",
      "Cache-Control" = if (immutable) "public, max-age=31536000, immutable" else "public, max-age=86400"
    ),
    body = srv_asset(file, function() {
      path <- srv_file("server", "media", file)
      readBin(path, "raw", file.size(path))
    })
  )
}

# Audio and video are streamed with byte ranges.
srv_stream_response <- function(bytes, type, req) {
  headers <- list("Content-Type" = type, "Accept-Ranges" = "bytes")
  range <- regmatches(req$get_header("range") %||% "",
                      regexec("^bytes=([0-9]*)-([0-9]*)$", req$get_header("range") %||% ""))[[1]]
  if (!length(range)) {
    return(list(status = 200L, headers = headers, body = bytes))
  }
  n <- length(bytes)
  from <- if (nzchar(range[2])) as.numeric(range[2]) else max(n - as.numeric(range[3]), 0)
  to <- if (nzchar(range[3]) && nzchar(range[2])) min(as.numeric(range[3]), n - 1) else n - 1
  if (from > to || from >= n) {
    return(list(status = 416L, headers = c(headers, list("Content-Range" = sprintf("bytes */%d", n))),
                body = raw(0)))
  }
  headers[["Content-Range"]] <- sprintf("bytes %.0f-%.0f/%d", from, to, n)
  list(status = 206L, headers = headers, body = bytes[(from + 1):(to + 1)])
}

srv_media_content_type <- function(type, name) {
  if (type == "audio" && grepl("\\.wav$", name)) "audio/wav" else paste0(type, "/mp4")
}

# The file names the entries of a project hold for a media type.
srv_media_names <- function(project, store, kind) {
  refs <- unlist(lapply(project$definition$forms, function(form) {
    srv_media_refs(form$inputs, kind)
  }))
  unlist(lapply(refs, function(ref) srv_as_text_value(srv_answer_column(store, ref))))
}

srv_media_refs <- function(inputs, kind) {
  unlist(lapply(inputs, function(input) {
    c(if (identical(input$type, kind)) input$ref, srv_media_refs(c(input$group, input$branch), kind))
  }))
}

srv_name_hash <- function(name) {
  sum(utf8ToInt(name) * seq_along(utf8ToInt(name)))
}

# About one file in seven was never synced from the device.
srv_media_synced <- function(name) {
  srv_name_hash(name) %% 7 != 0
}

# Bytes for an audio or video file: a short WAV tone, or an MP4 header
# (`ftyp` box) followed by filler. Deterministic for a name.
srv_media_bytes <- function(name) {
  if (grepl("\\.wav$", name)) {
    samples <- as.raw(round(128 + 100 * sin(seq_len(2000) * 2 * pi * 440 / 8000)))
    header <- c(charToRaw("RIFF"), srv_le_bytes(36 + length(samples), 4), charToRaw("WAVEfmt "),
                srv_le_bytes(16, 4), srv_le_bytes(1, 2), srv_le_bytes(1, 2), srv_le_bytes(8000, 4),
                srv_le_bytes(8000, 4), srv_le_bytes(1, 2), srv_le_bytes(8, 2), charToRaw("data"),
                srv_le_bytes(length(samples), 4))
    return(c(header, samples))
  }
  ftyp <- c(srv_le_bytes(24, 4)[4:1], charToRaw("ftypisom"), srv_le_bytes(512, 4)[4:1], charToRaw("isomiso2"))
  filler <- as.raw((seq_len(3000) * (srv_name_hash(name) %% 251 + 1)) %% 256)
  c(ftyp, srv_le_bytes(length(filler) + 8, 4)[4:1], charToRaw("mdat"), filler)
}

srv_le_bytes <- function(value, n) {
  as.raw((value %/% 256^(seq_len(n) - 1)) %% 256)
}

