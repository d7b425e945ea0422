# The R side of the HTTP layer: builds requests, hands each transfer to
# libcurl in src/http_transfer.cpp, reads the error body of failed answers,
# and turns failed responses into classed errors. Whether a request is sent
# again is decided by the retry policy (R/retry.R).
#
# Request list given to http_perform_cpp() (src/http_request.cpp):
#   method   "GET" or "POST"
#   url      the full URL, query included
#   headers  character vector of "Name: value"
#   body     raw vector or NULL
#   dest     file path or NULL: a 2xx body streams into this file, which is
#            removed again on any failure or interrupt
#   limiter  NULL or ec5_limiter(): the rate-limit bucket to pace against
#   options  http_options()
# Response list of one transfer:
#   status       integer HTTP status (>= 400 is returned), 0 when no answer came
#   headers      named character vector, lower-case names
#   body         raw vector; NULL when it went to `dest`
#   url          effective URL after redirects
#   retry_after  seconds the server asks to wait (Retry-After; 60 for a 429
#                without one), NA when it asks nothing
#   waited       seconds spent pacing before the transfer
#   failure      NULL, or why no answer came: list(kind ("transport" or
#                "timeout"), detail, hint, transient)
# http_transfer() adds `paced` and `errors` (response_errors()); the retry
# policy adds `tries` (transfers made) and sums `waited` over them.

#' @noRd
ec5_user_agent <- function() {
  agent <- getOption("epicollect5.user_agent")
  if (!is.null(agent)) {
    if (!is.character(agent) || length(agent) != 1 || is.na(agent) || !nzchar(agent)) {
      ec5_abort("Option {.code epicollect5.user_agent} must be a single non-empty string.",
        class = "argument"
      )
    }
    return(agent)
  }
  sprintf(
    "epicollect5/%s (R %s; libcurl %s)",
    utils::packageVersion("epicollect5"), getRversion(), cpp_check(libcurl_info_cpp())$version
  )
}

# A numeric option, checked.
option_number <- function(name, default, min = 0) {
  value <- getOption(name, default)
  if (!is.numeric(value) || length(value) != 1 || is.na(value) || value < min) {
    ec5_abort(
      "Option {.code {name}} must be a single number of at least {min}.",
      class = "argument",
      call = NULL
    )
  }
  value
}

# Transport settings, from options (the retry options are in R/retry.R):
#   epicollect5.connect_timeout  seconds to connect (30)
#   epicollect5.timeout          seconds a transfer may run below
#                                epicollect5.min_speed before it is
#                                abandoned (60)
#   epicollect5.min_speed        bytes a second (1024): a slow field
#                                connection (GPRS, 2G) still moves several
#                                kB a second; less for a whole minute is a
#                                trickle that would hold a fetch for hours
#   epicollect5.total_timeout    seconds for a whole transfer, 0 = none (0)
#   epicollect5.http_verbose     TRUE prints the headers exchanged (redacted)
http_options <- function() {
  list(
    connect_timeout = option_number("epicollect5.connect_timeout", 30, min = 0.001),
    low_speed_time = option_number("epicollect5.timeout", 60, min = 1),
    low_speed_limit = option_number("epicollect5.min_speed", 1024, min = 1),
    timeout = option_number("epicollect5.total_timeout", 0),
    retry_after_cap = retry_options()$retry_after_cap,
    user_agent = ec5_user_agent(),
    verbose = isTRUE(getOption("epicollect5.http_verbose")),
    on_wait = NULL
  )
}

# scheme://host[:port] of a URL: the server part of rate-limit keys.
url_origin <- function(url) {
  sub("^([a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*).*$", "\\1", url)
}

# `url` with the query appended: NULL values dropped, values percent-encoded,
# no trailing slash on the path (the server redirects those, and a redirected
# POST becomes a GET).
build_url <- function(url, query = list(), call = rlang::caller_env()) {
  parts <- regmatches(url, regexec("^([^?#]*)(\\?[^#]*)?", url))[[1]]
  path <- sub("/+$", "", parts[[2]])
  existing <- sub("^\\?", "", parts[[3]])
  query <- query[!vapply(query, is.null, logical(1))]
  bad <- !vapply(query, function(v) length(v) == 1 && !is.na(v), logical(1))
  if (any(bad)) {
    ec5_abort(
      "Query parameter{?s} {.arg {names(query)[bad]}} must be a single value.",
      class = "argument",
      call = call
    )
  }
  values <- vapply(query, function(v) {
    if (is.logical(v)) tolower(as.character(v)) else format(v, scientific = FALSE, trim = TRUE)
  }, "")
  encoded <- paste0(
    vapply(names(query), utils::URLencode, "", reserved = TRUE), "=",
    vapply(values, utils::URLencode, "", reserved = TRUE)
  )
  pairs <- c(if (nzchar(existing)) existing, if (length(query)) encoded)
  if (length(pairs)) paste0(path, "?", paste(pairs, collapse = "&")) else path
}

#' Performs one API request under the retry policy
#'
#' @param url Full URL without the query.
#' @param query Named list of query parameters; NULL elements are dropped.
#' @param pace `list(slug =, class =)` to pace against the server's rate
#'   limit for that project and class, or NULL.
#' @param token Access token (sent as `Authorization: Bearer`), or NULL.
#' @return The response list described at the top of this file; HTTP errors
#'   are returned, a transport failure that outlasts the retries is raised.
#' @noRd
ec5_request <- function(url, query = list(), method = "GET", headers = character(),
                        body = NULL, dest = NULL, pace = NULL, token = NULL,
                        call = rlang::caller_env()) {
  ec5_retrying(
    function() {
      http_transfer(url, query, method = method, headers = headers, body = body,
                    dest = dest, pace = pace, token = token, call = call)
    },
    call = call
  )
}

# One transfer, with the arguments of ec5_request().
http_transfer <- function(url, query = list(), method = "GET", headers = character(),
                          body = NULL, dest = NULL, pace = NULL, token = NULL,
                          call = rlang::caller_env()) {
  url <- build_url(url, query, call = call)
  if (!any(grepl("^accept:", headers, ignore.case = TRUE))) {
    headers <- c("Accept: application/json", headers)
  }
  if (!is.null(token)) {
    headers <- c(headers, paste("Authorization: Bearer", token))
  }
  limiter <- if (!is.null(pace)) {
    ec5_limiter(url_origin(url), pace$slug, pace$class, call = call)
  }
  options <- http_options()
  options["on_wait"] <- list(wait_reporter())
  request <- list(
    method = method,
    url = url,
    headers = headers,
    body = body,
    dest = if (!is.null(dest)) enc2native(path.expand(dest)),
    limiter = limiter,
    options = options
  )
  resp <- cpp_check(http_perform_cpp(request), call = call)
  resp$paced <- !is.null(limiter)
  resp$errors <- if (resp$status >= 400L) response_errors(resp)
  resp
}

# Raises the classed error for a response with status >= 400; returns the
# response invisibly otherwise. `what` names the request for the message
# ("entries request", "token request", ...).
ec5_response_check <- function(resp, what = "request", call = rlang::caller_env()) {
  if (resp$status < 400L) {
    return(invisible(resp))
  }
  retry_after <- suppressWarnings(as.numeric(resp$headers["retry-after"]))
  ec5_http_abort(
    resp$status,
    resp$url,
    errors = resp$errors,
    what = what,
    retry_after = if (!is.na(retry_after)) retry_after,
    html = response_is_html(resp),
    tries = resp$tries %||% 1L,
    call = call
  )
}

# The items of the response's ec5 error body (list of code, title, source),
# or NULL when the body is something else. Read once per failed response, by
# http_transfer(), through the one reader of error bodies (src/error_body.cpp).
response_errors <- function(resp) {
  cpp_check(error_body_cpp(resp$body %||% raw()))
}

# The first ec5 code of the response's error body, or "".
error_code <- function(resp) {
  if (length(resp$errors$code)) resp$errors$code[[1]] else ""
}

# A response header by its lower-case name, "" when the response lacks it.
response_header <- function(resp, name) {
  value <- unname(resp$headers[name])
  if (is.na(value)) "" else value
}

# The server's clock when it answered, in seconds since 1970 (the `Date`
# header, IMF-fixdate as HTTP requires, e.g. "Sun, 06 Nov 1994 08:49:37 GMT");
# NA when the header is absent or unreadable.
response_date <- function(resp) {
  pattern <- "^[A-Za-z]{3}, ([0-9]{2}) ([A-Za-z]{3}) ([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT$"
  date <- response_header(resp, "date")
  parts <- regmatches(date, regexec(pattern, date))[[1]]
  if (length(parts) != 7L) {
    return(NA_real_)
  }
  month <- match(parts[3], month.abb)
  time <- ISOdatetime(parts[4], month, parts[2], parts[5], parts[6], parts[7], tz = "UTC")
  as.numeric(time)
}

response_is_html <- function(resp) {
  type <- response_header(resp, "content-type")
  # A body written to a file (NULL here) is judged by its type alone.
  start <- utils::head(resp$body %||% raw(), 100)
  start <- rawToChar(start[start != as.raw(0)])
  isTRUE(grepl("html", type, fixed = TRUE)) || grepl("^\\s*<", start)
}
