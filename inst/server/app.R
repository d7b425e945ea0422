# A local Epicollect5-compatible server: a webfakes app that speaks the API as
# API-NOTES.md describes it. It is a component of its own, outside the
# package namespace: the package's one loader, server_component() in
# R/demo-server.R, sources the files of inst/server/ into a fresh environment
# whose parent is the base environment. Every object here is named srv_*
# (the operator %||% aside) and calls only base R and, by `::`, stats, utils,
# jsonlite and webfakes: never the client. Because the functions live in that
# environment, the app takes them along when webfakes serializes it into the
# server subprocess.
#
# The entry point is srv_app(), which returns the webfakes app; srv_limits()
# and srv_clients() give its rate-limit presets and OAuth client apps. Users
# meet it through ec5_demo_server(); tests start it with local_ec5_server()
# (tests/testthat/helper-server.R) and call other srv_ functions directly.
#
#   app.R      the app: dispatch, routes, responses, request log, faults
#   data.R     hosted projects (inst/extdata/projects), mappings, statistics
#   entries.R  generated entries, stored as the server stores them
#   export.R   mapped entries as JSON objects and CSV rows
#   php.R      PHP encodings: json_encode, fputcsv, dates, casts, slugs, UTM
#   api.R      E1, E2, E4-E6;  media.R  E3, E7
#   guard.R    tokens, rate limits and project access
#   admin.R    the admin API under /_test/ (below) to observe and change it
#
# Client apps of the private projects (test credentials, not secrets):
#
#   client_id  client_secret                               project
#   1001       pYtH0nApiTestSecret0000000000000000001001    proyecto-api-python
#   1002       cRonusSept17TestSecret000000000000001002     cronus-sept17
#   1003       hInganghatWardhaDdrTestSecret00000001003     hinganghat-wardha-ddr
#
# srv_clients() returns this table.
#
# Admin API (JSON bodies; never logged, never throttled):
#   GET  /_test/log                 requests seen: method, path, query,
#                                   authorization (bool), user_agent, host,
#                                   status, fault
#   POST /_test/reset               clear log, limits, tokens, faults, edits
#   POST /_test/faults              add a fault: {type, path (regex), query
#                                   (regex on the query string), times,
#                                   status, delay, bytes, chunk, retry_after,
#                                   location}; GET lists, DELETE clears them
#   POST /_test/maintenance         {"on": true|false}
#   POST /_test/projects/{slug}     {status, access, bump_version}
#   POST /_test/entries/{slug}      {action: add|edit|delete, ...}
#   GET  /_test/entries/{slug}      stored (unmapped) entries, API-NOTES.md §4.5
#   POST /_test/schedule/{slug}     {after: k, changes: [entries bodies]}: apply
#                                   the changes (add, edit, delete, or bulk: n
#                                   entries in one second) once k more entries
#                                   requests of the project were answered;
#                                   DELETE clears the schedule
#   POST /_test/tokens/expire       every issued token expires now
#
# Fault types: "error" (status 500/502/503 with an HTML body), "rate_limit"
# (429 ec5_255 with Retry-After), "maintenance" (404 ec5_252),
# "revoke_token" (the request's token is revoked first), "drop_entry" (an
# entries page lacks one of its entries while its meta still counts it, as a
# server that lost an entry), "redirect" (media answered by a 302 to the
# other host name), and faults that damage the real response on the wire:
# "drop" (Content-Length larger than what is sent), "truncate" (a complete
# message holding half the body), "invalid_json", "html_body" (the body
# replaced by a PHP warning page, status and Content-Type kept: an image
# that is HTML), "stall" (no byte for `delay` seconds) and "trickle"
# (`chunk` bytes every `delay` seconds).

# The local Epicollect5 server as a webfakes app (the entry point).
#   entries         entries per form: NULL for each project's default, one
#                   number, or a named vector by project slug
#   seed            seed of the generated entries
#   limits          rate limits, from srv_limits()
#   token_lifetime  seconds an access token lives
#   max_per_page    the largest `per_page` accepted (1000 on the current
#                   server; lower values imitate servers that cap it, as the
#                   docs' 500)
srv_app <- function(entries = NULL, seed = 20240501L, limits = srv_limits(),
                    token_lifetime = 7200, max_per_page = 1000) {
  state <- new.env(parent = emptyenv())
  state$config <- list(
    entries = entries, seed = as.integer(seed), limits = limits,
    token_lifetime = token_lifetime, max_per_page = max_per_page
  )
  srv_reset(state)
  app <- webfakes::new_app()
  app$locals$ec5_state <- state
  app$all(webfakes::new_regexp(""), function(req, res) srv_handle(req, res, state))
  app
}

# Rate limits of the local server, as `c(requests, seconds)` per bucket
#
# `"production"` has the limits five.epicollect.net publishes (API-NOTES.md
# §11), `"code"` the server code's defaults. `...` overrides buckets, e.g.
# `entries = c(5, 2)`; a bucket set to `NULL` is not limited.
srv_limits <- function(preset = c("production", "code"), ...) {
  preset <- match.arg(preset)
  limits <- list(
    entries = c(5, 60), project = c(5, 60), media = c(10, 60),
    token = c(10, 3600), global = c(600, 60),
    public_media = c(300, 60), public_media_burst = c(5, 1), entries_google = c(10, 60)
  )
  if (preset == "code") {
    limits[c("entries", "project", "media")] <- list(c(60, 60), c(60, 60), c(30, 60))
  }
  overrides <- list(...)
  limits[names(overrides)] <- overrides
  limits
}

# The OAuth client apps the local server knows
srv_clients <- function() {
  catalogue <- srv_catalogue()
  clients <- catalogue[!is.na(catalogue$client_id), c("client_id", "client_secret", "slug")]
  rownames(clients) <- NULL
  clients
}

# Everything a test may have changed goes back to the start state. Projects
# and entries are rebuilt lazily from the seed, so they come back identical.
srv_reset <- function(state) {
  state$projects <- NULL
  state$stores <- list()
  state$tokens <- data.frame(token = character(), client_id = character(),
                             expires = numeric(), stringsAsFactors = FALSE)
  state$limiter <- new.env(parent = emptyenv())
  state$faults <- list()
  state$fault_id <- 0L
  state$log <- list()
  state$maintenance <- FALSE
  state$edits <- 0L
  state$schedule <- list()
  state$served <- list()
  invisible(state)
}

srv_projects <- function(state) {
  if (is.null(state$projects)) {
    state$projects <- srv_load_projects(state$config$entries)
  }
  state$projects
}

srv_store <- function(state, slug) {
  if (is.null(state$stores[[slug]])) {
    state$stores[[slug]] <- srv_generate_store(srv_projects(state)[[slug]], state$config$seed)
  }
  state$stores[[slug]]
}

# --- dispatch ---------------------------------------------------------------------

# One handler for every request: webfakes re-enters it after res$delay(),
# which the stalling and trickling faults use to send a response in parts.
srv_handle <- function(req, res, state) {
  pending <- res$locals$ec5_pending
  if (!is.null(pending)) {
    return(srv_deliver(res, pending))
  }
  response <- tryCatch(srv_respond(req, state), error = function(e) {
    srv_html_response(500L, "Server Error", conditionMessage(e))
  })
  if (!startsWith(req$path, "/_test/")) {
    srv_log(state, req, response)
  }
  srv_deliver(res, response)
}

srv_respond <- function(req, state) {
  # Percent-decoding can yield bytes that are not UTF-8 (e.g. "%de").
  req$path <- srv_valid_utf8(req$path)
  if (startsWith(req$path, "/_test/")) {
    return(srv_admin_respond(req, state))
  }
  # The shipped Apache configuration redirects away trailing slashes.
  if (grepl("./$", req$path)) {
    return(srv_trailing_slash_redirect(req))
  }
  route <- srv_match_route(req)
  fault <- srv_take_fault(state, req)
  if (!is.null(fault) && fault$type %in% c("error", "rate_limit", "maintenance")) {
    return(srv_fault_response(fault, state$config$limits[[route$limit[1] %||% "global"]]))
  }
  if (state$maintenance) {
    return(srv_error_response(404L, "ec5_252", "maintenance.mode"))
  }
  if (is.null(route)) {
    return(srv_error_response(422L, "ec5_219", "page not found exception"))
  }
  throttle <- srv_throttle_request(state, route, req)
  if (!is.null(throttle$response)) {
    return(throttle$response)
  }
  if (identical(fault$type, "revoke_token")) {
    srv_revoke_bearer(state, req)
  }
  ctx <- list(req = req, state = state, params = route$params, fault = fault,
              base_url = srv_request_base_url(req))
  response <- route$handler(ctx)
  response$headers <- c(response$headers, throttle$headers)
  if (identical(fault$type, "drop_entry")) response$fault <- fault$type
  if (!is.null(fault) && fault$type %in% srv_damage_types) {
    response <- srv_damage_response(response, fault)
  }
  response
}

srv_routes <- function() {
  list(
    list(method = "get", pattern = "^/api/export/entries/([^/]+)$", handler = srv_api_entries, limit = "entries"),
    list(method = "get", pattern = "^/api/export/project/([^/]+)$", handler = srv_api_project, limit = "project"),
    list(method = "get", pattern = "^/api/export/media/([^/]+)$", handler = srv_api_export_media, limit = "media"),
    list(method = "get", pattern = "^/api/export/(entries|project|media)/?$", handler = srv_api_empty_slug,
         limit = NULL),
    list(method = "get", pattern = "^/api/media/([^/]+)$", handler = srv_api_public_media,
         limit = c("public_media", "public_media_burst", "global")),
    list(method = "get", pattern = "^/api/projects(?:/(.*))?$", handler = srv_api_search, limit = "global"),
    list(method = "get", pattern = "^/api/project-version/([^/]+)$", handler = srv_api_version, limit = "global"),
    list(method = "post", pattern = "^/api/oauth/token$", handler = srv_api_token, limit = "token"),
    list(method = "get", pattern = "^/_s3/([^/]+)$", handler = srv_api_s3_media, limit = NULL)
  )
}

# The route of a request with its path parameters, or NULL (the server
# answers unknown routes and wrong methods alike with 422 ec5_219).
srv_match_route <- function(req) {
  method <- if (req$method == "head") "get" else req$method
  for (route in srv_routes()) {
    m <- regmatches(req$path, regexec(route$pattern, req$path, perl = TRUE))[[1]]
    if (length(m) && route$method == method) {
      route$params <- m[-1]
      return(route)
    }
  }
  NULL
}

srv_trailing_slash_redirect <- function(req) {
  query <- req$query_string %||% ""
  path <- sub("^https?://[^/]+", "", req$url)
  location <- paste0(srv_request_base_url(req), sub("/+$", "", path),
                     if (nzchar(query)) paste0("?", sub("^[?]", "", query)))
  list(status = 301L, headers = list(Location = location, "Content-Type" = "text/html; charset=iso-8859-1"),
       body = sprintf("<html><body>Moved Permanently: <a href=\"%s\">here</a></body></html>", location))
}

srv_valid_utf8 <- function(x) {
  x <- as.character(x)
  bad <- !validUTF8(x)
  x[bad] <- iconv(x[bad], "UTF-8", "UTF-8", sub = "?")
  Encoding(x) <- "UTF-8"
  x
}

srv_request_base_url <- function(req) {
  host <- req$get_header("host")
  if (is.null(host)) sub("^(https?://[^/]+).*$", "\\1", req$url) else paste0("http://", host)
}

# --- responses ---------------------------------------------------------------------

srv_json_type <- "application/vnd.api+json; charset=utf-8"

srv_json_response <- function(body, status = 200L, headers = list()) {
  list(status = status, headers = c(list("Content-Type" = srv_json_type), headers), body = body)
}

# The `{"data": ...}` document most endpoints send.
srv_data_response <- function(data) {
  srv_json_response(srv_php_json(list(data = data)))
}

# An ec5 error response; `source` and `code` may be vectors (one error each)
srv_error_response <- function(status, code, source, headers = list()) {
  errors <- Map(function(code, source) {
    list(code = code, title = srv_code_title(code), source = source)
  }, code, source)
  # Error bodies are encoded with flags 0, so slashes are escaped.
  srv_json_response(srv_php_json(list(errors = unname(errors)), slashes = TRUE), status, headers)
}

srv_code_title <- function(code) {
  titles <- srv_asset("codes", function() {
    srv_read_json_file(srv_file("server", "server_ec5_codes_config_php_titles.json"))
  })
  titles[[code]] %||% code
}

# Read-only assets (titles, media) are read once per process.
srv_cache <- new.env(parent = emptyenv())

srv_asset <- function(name, read) {
  if (is.null(srv_cache[[name]])) {
    srv_cache[[name]] <- read()
  }
  srv_cache[[name]]
}

srv_html_response <- function(status, title, detail = "") {
  body <- paste0(
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
    "<title>", title, "</title>\n</head>\n<body>\n<div class=\"code\">", status,
    "</div>\n<div class=\"message\">", title, "</div>\n",
    # An error of the local server itself shows here, to debug tests.
    if (nzchar(detail)) paste0("<!-- ", gsub("--", "- -", detail, fixed = TRUE), " -->\n"),
    "</body>\n</html>\n"
  )
  list(status = status, headers = list("Content-Type" = "text/html; charset=UTF-8"), body = body)
}

# Writes a response. A damaged response goes out in parts: webfakes calls the
# handler again after each res$delay(), and the state of the transfer lives
# in res$locals.
srv_deliver <- function(res, response) {
  body <- srv_body_raw(response$body)
  delivery <- response$delivery
  if (is.null(res$locals$ec5_pending)) {
    res$set_status(response$status)
    # As a web server does: clients date the changes they see by it.
    res$set_header("Date", srv_http_date(Sys.time()))
    for (name in names(response$headers)) res$set_header(name, response$headers[[name]])
    if (is.null(delivery)) {
      return(res$send(body))
    }
    res$set_header("Content-Length", length(body))
    response$offset <- 0L
    res$locals$ec5_pending <- response
    if (delivery$type == "stall") {
      return(res$delay(delivery$delay))
    }
  }
  pending <- res$locals$ec5_pending
  if (delivery$type == "drop") {
    res$write(body[seq_len(delivery$bytes)])
    return(res$send(raw(0)))
  }
  if (delivery$type == "stall") {
    res$write(body)
    return(res$send(raw(0)))
  }
  chunk <- seq_len(min(delivery$chunk, length(body) - pending$offset)) + pending$offset
  res$write(body[chunk])
  pending$offset <- pending$offset + length(chunk)
  res$locals$ec5_pending <- pending
  if (pending$offset >= length(body)) res$send(raw(0)) else res$delay(delivery$delay)
}

# An HTTP date (IMF-fixdate), in English whatever the locale.
srv_http_date <- function(time) {
  lt <- as.POSIXlt(time, tz = "UTC")
  days <- c("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
  sprintf(
    "%s, %02d %s %04d %02d:%02d:%02d GMT",
    days[lt$wday + 1L], lt$mday, month.abb[lt$mon + 1L], lt$year + 1900L, lt$hour, lt$min, floor(lt$sec)
  )
}

srv_body_raw <- function(body) {
  if (is.raw(body)) body else charToRaw(enc2utf8(paste(body, collapse = "")))
}

# --- log ------------------------------------------------------------------------------

srv_log <- function(state, req, response) {
  state$log[[length(state$log) + 1L]] <- list(
    time = srv_iso_time(as.numeric(Sys.time()), as.numeric(Sys.time()) %% 1 * 1000),
    method = toupper(req$method),
    path = req$path,
    query = req$query_string %||% "",
    authorization = !is.null(req$get_header("authorization")),
    user_agent = req$get_header("user-agent") %||% "",
    host = req$get_header("host") %||% "",
    status = as.integer(response$status),
    fault = response$fault %||% ""
  )
}

# --- faults ---------------------------------------------------------------------------

srv_damage_types <- c("drop", "truncate", "invalid_json", "html_body", "stall", "trickle")
srv_fault_types <- c("error", "rate_limit", "maintenance", "revoke_token", "redirect", "drop_entry",
                     srv_damage_types)

srv_add_fault <- function(state, spec) {
  if (!isTRUE(spec$type %in% srv_fault_types)) {
    return(srv_error_response(400L, "ec5_29", "type"))
  }
  state$fault_id <- state$fault_id + 1L
  defaults <- list(path = ".", query = "", times = 1L, status = 500L, delay = 30, bytes = NA,
                   chunk = 16L, retry_after = 1L, location = NA)
  fault <- utils::modifyList(defaults, spec)
  fault$id <- state$fault_id
  state$faults[[length(state$faults) + 1L]] <- fault
  srv_data_response(fault)
}

# The first fault whose path and query patterns match uses up one of its
# `times` (the query pattern picks one form or branch of a project).
srv_take_fault <- function(state, req) {
  for (i in seq_along(state$faults)) {
    fault <- state$faults[[i]]
    if (grepl(fault$path, req$path, perl = TRUE) &&
      grepl(fault$query, req$query_string %||% "", perl = TRUE)) {
      fault$times <- fault$times - 1L
      if (fault$times <= 0L) state$faults[[i]] <- NULL else state$faults[[i]] <- fault
      return(fault)
    }
  }
  NULL
}

# `limit` is the route's bucket, whose size a 429 reports.
srv_fault_response <- function(fault, limit) {
  response <- switch(fault$type,
    error = srv_html_response(as.integer(fault$status), srv_fault_status_text(fault$status)),
    rate_limit = srv_error_response(429L, "ec5_255", "rate-limiter", list(
      "Retry-After" = fault$retry_after,
      "X-RateLimit-Limit" = limit[1] %||% 60,
      "X-RateLimit-Remaining" = 0,
      "X-RateLimit-Reset" = floor(as.numeric(Sys.time())) + fault$retry_after
    )),
    maintenance = srv_error_response(404L, "ec5_252", "maintenance.mode")
  )
  response$fault <- fault$type
  response
}

srv_fault_status_text <- function(status) {
  texts <- c("500" = "Server Error", "502" = "Bad Gateway", "503" = "Service Unavailable",
             "504" = "Gateway Timeout")
  unname(texts[as.character(status)] %||% "Error")
}

# What a PHP server sends when a file it streams is missing: warnings, then
# a page, under the headers already chosen.
srv_php_warning_page <- function() {
  paste0(
    "<br />\n<b>Warning</b>:  fopen(/var/www/storage/app/entries/photo/missing.jpg): ",
    "failed to open stream: No such file or directory in <b>/var/www/app/Media.php</b> ",
    "on line <b>42</b><br />\n<!DOCTYPE html>\n<html><head><title>Epicollect5</title></head>",
    "<body><p>Something went wrong.</p></body></html>\n"
  )
}

# The faults that damage a real response on its way out.
srv_damage_response <- function(response, fault) {
  body <- srv_body_raw(response$body)
  n <- length(body)
  response$body <- body
  response$fault <- fault$type
  switch(fault$type,
    truncate = response$body <- body[seq_len(n %/% 2L)],
    # A JSON body that starts `{'`: one wrong quote makes it unreadable.
    invalid_json = response$body <- c(charToRaw("{'"), body[-(1:2)]),
    html_body = response$body <- charToRaw(srv_php_warning_page()),
    drop = response$delivery <- list(type = "drop", bytes = if (is.na(fault$bytes)) n %/% 2L else fault$bytes),
    # webfakes reads the delay as a double: an integer from JSON would not do.
    stall = response$delivery <- list(type = "stall", delay = as.numeric(fault$delay)),
    trickle = response$delivery <- list(type = "trickle", chunk = as.integer(fault$chunk),
                                        delay = as.numeric(fault$delay))
  )
  response
}
