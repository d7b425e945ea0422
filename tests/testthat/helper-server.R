# The local Epicollect5 server for tests, and a small HTTP client to talk to
# it directly.
#
# `component` is the server component (inst/server/) of the *installed*
# package, loaded by the package's own loader, server_component(); unit tests
# call its functions as component$srv_<name>(). Its header
# (inst/server/app.R) documents the admin API and the fault types.
#
# local_ec5_server(...) starts component$srv_app(...) in a webfakes
# subprocess (stopped when `.local_envir` ends) and returns:
#   url            base URL, no trailing slash
#   log()          data frame of the requests the server saw (time, method,
#                  path, query, authorization, user_agent, host, status, fault)
#   faults(...)    inject a fault, e.g. faults(type = "error", status = 503,
#                  path = "^/api/export/entries", times = 2); `query = <regex>`
#                  narrows it to matching query strings (one form or branch)
#   clear_faults(), reset(), maintenance(on)
#   project(slug, status =, access =, bump_version = TRUE)
#   entries(slug, action = "add" | "edit" | "delete", ...)  runtime edits
#   raw_entries(slug, form_ref =, branch_ref =)  stored (unmapped) entries
#   schedule(slug, after, changes)  apply `changes` (a list of entries()
#                  bodies; action "bulk" adds `n` entries in one second) once
#                  `after` more entries requests of the project were answered
#   expire_tokens()
#   clients        data frame of client_id, client_secret, slug
#
# srv_request() is a plain-socket HTTP/1.1 client (the curl package is not a
# dependency): it returns status, headers, body bytes and whether the body
# was complete, so tests can observe dropped and slow transfers exactly.

component <- epicollect5:::server_component()

local_ec5_server <- function(..., .local_envir = parent.frame()) {
  testthat::skip_if_not_installed("webfakes")
  testthat::skip_if_not_installed("jsonlite")
  app <- component$srv_app(...)
  # Several threads, so that a stalled response does not block the others.
  process <- webfakes::local_app_process(
    app,
    opts = webfakes::server_opts(num_threads = 4),
    .local_envir = .local_envir
  )
  url <- sub("/$", "", process$url())
  admin <- function(method, path, body = NULL) {
    response <- srv_request(paste0(url, "/_test/", path), method = method, json = body)
    jsonlite::fromJSON(response$text, simplifyVector = TRUE)$data
  }
  list(
    url = url,
    process = process,
    clients = component$srv_clients(),
    log = function() srv_log_frame(admin("GET", "log")),
    faults = function(...) admin("POST", "faults", list(...)),
    clear_faults = function() admin("DELETE", "faults"),
    reset = function() admin("POST", "reset"),
    maintenance = function(on = TRUE) admin("POST", "maintenance", list(on = on)),
    project = function(slug, ...) admin("POST", paste0("projects/", slug), list(...)),
    entries = function(slug, ...) admin("POST", paste0("entries/", slug), list(...)),
    schedule = function(slug, after, changes) {
      admin("POST", paste0("schedule/", slug), list(after = after, changes = changes))
    },
    raw_entries = function(slug, ...) {
      response <- srv_request(paste0(url, "/_test/entries/", slug), query = list(...))
      jsonlite::fromJSON(response$text, simplifyVector = FALSE)$data
    },
    expire_tokens = function() admin("POST", "tokens/expire")
  )
}

srv_log_frame <- function(log) {
  if (!length(log)) {
    return(data.frame(time = character(), method = character(), path = character(),
                      query = character(), authorization = logical(), user_agent = character(),
                      host = character(), status = integer(), fault = character()))
  }
  as.data.frame(log)
}

#' One HTTP/1.1 request over a plain socket
#'
#' `query` is a named list (values are percent-encoded); `json` a body to
#' send as JSON, `form` one to send url-encoded, `body` raw text with its
#' `Content-Type` in `headers`. Reads until the server closes or `timeout`
#' seconds pass without data.
srv_request <- function(url, method = "GET", query = NULL, headers = character(),
                        json = NULL, form = NULL, body = NULL, timeout = 10) {
  parts <- regmatches(url, regexec("^http://([^:/]+):([0-9]+)(/[^?]*)?(\\?.*)?$", url))[[1]]
  target <- paste0(if (nzchar(parts[4])) parts[4] else "/", parts[5])
  if (length(query)) {
    encoded <- vapply(query, function(v) utils::URLencode(as.character(v), reserved = TRUE), "")
    target <- paste0(target, if (grepl("?", target, fixed = TRUE)) "&" else "?",
                     paste0(names(query), "=", encoded, collapse = "&"))
  }
  if (!is.null(json)) {
    body <- as.character(jsonlite::toJSON(json, auto_unbox = TRUE, null = "null"))
    headers <- c(headers, "Content-Type" = "application/json")
  }
  if (!is.null(form)) {
    body <- paste0(names(form), "=", vapply(form, function(v) {
      utils::URLencode(as.character(v), reserved = TRUE)
    }, ""), collapse = "&")
    headers <- c(headers, "Content-Type" = "application/x-www-form-urlencoded")
  }
  payload <- if (is.null(body)) raw(0) else charToRaw(enc2utf8(body))
  head <- c(
    sprintf("%s %s HTTP/1.1", method, target),
    sprintf("Host: %s:%s", parts[2], parts[3]),
    "Connection: close",
    if (length(headers)) paste0(names(headers), ": ", headers),
    if (length(payload) || method == "POST") sprintf("Content-Length: %d", length(payload))
  )
  con <- socketConnection(parts[2], as.integer(parts[3]), blocking = TRUE,
                          open = "r+b", timeout = timeout)
  on.exit(close(con))
  start <- Sys.time()
  writeBin(c(charToRaw(paste0(paste(head, collapse = "\r\n"), "\r\n\r\n")), payload), con)
  received <- list()
  repeat {
    chunk <- readBin(con, "raw", 65536L)
    if (!length(chunk)) break
    received[[length(received) + 1L]] <- chunk
  }
  srv_parse_response(unlist(received), as.numeric(difftime(Sys.time(), start, units = "secs")))
}

srv_parse_response <- function(bytes, elapsed) {
  split <- srv_find_crlfcrlf(bytes)
  if (is.na(split)) {
    return(list(status = NA_integer_, headers = list(), body = bytes, text = "",
                complete = FALSE, elapsed = elapsed))
  }
  lines <- strsplit(rawToChar(bytes[seq_len(split - 1L)]), "\r\n", fixed = TRUE)[[1]]
  fields <- lines[-1]
  headers <- as.list(sub("^[^:]*:\\s*", "", fields))
  names(headers) <- tolower(sub(":.*$", "", fields))
  body <- bytes[-seq_len(split + 3L)]
  length <- suppressWarnings(as.numeric(headers[["content-length"]]))
  text <- if (any(body == as.raw(0))) "" else rawToChar(body)
  Encoding(text) <- "UTF-8"
  list(
    status = as.integer(strsplit(lines[1], " ", fixed = TRUE)[[1]][2]),
    headers = headers,
    body = body,
    text = text,
    complete = is.na(length) || length(body) == length,
    elapsed = elapsed
  )
}

srv_find_crlfcrlf <- function(bytes) {
  n <- length(bytes)
  if (n < 4) {
    return(NA_integer_)
  }
  hits <- which(bytes[-c(n - 2:0)] == as.raw(13) & bytes[-c(1, n - 1:0)] == as.raw(10) &
                bytes[-c(1:2, n)] == as.raw(13) & bytes[-(1:3)] == as.raw(10))
  if (length(hits)) hits[1] else NA_integer_
}

# The parsed JSON body of a response (lists, as the server sent it).
srv_json <- function(response) {
  jsonlite::fromJSON(response$text, simplifyVector = FALSE)
}

# GET an API path of the local server with query parameters (`.headers`
# are HTTP headers: `headers` is a query parameter of the API).
srv_get <- function(server, path, ..., .headers = character()) {
  srv_request(paste0(server$url, path), query = list(...), headers = .headers)
}

# A token for a private project's client app.
srv_token <- function(server, slug) {
  client <- server$clients[server$clients$slug == slug, ]
  response <- srv_request(paste0(server$url, "/api/oauth/token"), method = "POST", json = list(
    grant_type = "client_credentials", client_id = client$client_id,
    client_secret = client$client_secret
  ))
  srv_json(response)$access_token
}

srv_bearer <- function(token) {
  c(Authorization = paste("Bearer", token))
}
