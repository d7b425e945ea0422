# Every error the package raises is an `ec5_error` with a subclass that says
# what went wrong, so callers can branch on class, never on message text:
#
#   ec5_error_argument      bad input from the caller (before any request)
#   ec5_error_auth          credentials missing, wrong, revoked, other project
#   ec5_error_not_found     unknown project, form, branch, map index
#   ec5_error_rate_limited  429 after the retries allowed
#   ec5_error_bad_request   other 4xx answers
#   ec5_error_server        5xx answers and maintenance mode
#   ec5_error_parse         a body that is not the JSON the API promises
#   ec5_error_transport     connection, TLS or time-out failures
#   ec5_error_io            a file could not be read or written
#   ec5_error_store         the database of a local copy failed (closed,
#                           read-only, full, damaged); ec5_error_locked
#                           with it when another sync held the lock too long
#   ec5_error_incomplete    entries kept changing faster than they could be
#                           read (R/paging.R)
#
# Warnings: ec5_warning_problems (values that became NA), ec5_warning_unknown_keys,
# ec5_warning_incomplete (the server counts entries the result lacks).

ec5_abort <- function(message, class = NULL, ..., call = rlang::caller_env(),
                      .envir = parent.frame()) {
  cli::cli_abort(
    message,
    class = c(if (!is.null(class)) paste0("ec5_error_", class), "ec5_error"),
    ...,
    call = call,
    .envir = .envir
  )
}

# The one wrapper of every call into C++: re-raises a failure returned by
# the glue (src/glue.h, src/errors.h) as a classed condition. An interrupt
# stays an interrupt so that Esc behaves as it does elsewhere.
cpp_check <- function(x, call = rlang::caller_env()) {
  if (!inherits(x, "ec5_cpp_failure")) {
    return(x)
  }
  if (identical(x$kind, "interrupt")) {
    rlang::interrupt()
  }
  ec5_abort_failure(x$kind, x$message, as.list(x$fields), call = call)
}

# Raises a failure of `kind` ("timeout" is also a transport error): the
# one-line `message`, the hint that `fields$hint` names, and the other fields
# as fields of the condition. The texts are inserted as values, so braces in
# them are never interpreted.
ec5_abort_failure <- function(kind, message, fields = list(), call = rlang::caller_env()) {
  hint <- unname(failure_hints[fields$hint %||% ""])
  fields$hint <- NULL
  class <- if (identical(kind, "timeout")) c("timeout", "transport") else kind
  rlang::inject(ec5_abort(
    c("{message}", "i" = if (!is.na(hint)) "{hint}"),
    class = class,
    !!!fields,
    call = call
  ))
}

# What to do about a failure, by the `hint` key C++ gives (src/http_transfer.cpp).
failure_hints <- c(
  address = "Check the server address (option `epicollect5.base_url`) and your internet connection.",
  timeout = "The server was too slow to answer. Try again later, or allow more time with option `epicollect5.timeout` (seconds) or a slower pace with option `epicollect5.min_speed` (bytes a second).",
  certificate = "The server's certificate could not be verified. Behind a proxy that inspects HTTPS, set the environment variable CURL_CA_BUNDLE to its certificate bundle.",
  redirects = "The server redirected more than 5 times; check the server address.",
  network = "Check your internet connection and proxy settings, then try again.",
  rate_limit_spent = "Try again later; a request now would be refused (HTTP 429)."
)

# --- errors from the server -------------------------------------------------

# What to do about the ec5 codes a read-only client meets (API-NOTES.md §10).
ec5_code_hints <- c(
  ec5_11 = "Check the project slug: it is the last part of the project's URL, in lower case.",
  ec5_15 = "Check the form name or ref; {.fn ec5_project} lists the forms.",
  ec5_99 = "Check the branch name or ref; {.fn ec5_project} lists the branches of each form.",
  ec5_252 = "The server is in maintenance mode. Try again later.",
  ec5_253 = "Check {.envvar EC5_CLIENT_ID} and {.envvar EC5_CLIENT_SECRET}: they come from the project's Apps page.",
  ec5_254 = "The server could not issue a token. Check the client id, then try again later.",
  ec5_255 = "The server's rate limit was reached. Wait a minute, or lower {.code options(epicollect5.rate_limits)}.",
  ec5_256 = "The project is private: create a client app on the project's Apps page and set {.envvar EC5_CLIENT_ID} and {.envvar EC5_CLIENT_SECRET} (see {.fn ec5_auth}).",
  ec5_257 = "These credentials belong to another project: each client app is bound to one project.",
  ec5_261 = "The token request was malformed; please report this as a bug in epicollect5.",
  ec5_322 = "Check {.arg map_index}; {.fn ec5_project} lists the mappings.",
  ec5_335 = "Use a smaller {.arg per_page} (the server allows at most 1000).",
  ec5_69 = "The file was never uploaded from the device.",
  ec5_79 = "Dates must be ISO 8601, e.g. {.val 2024-05-01T00:00:00}."
)

# The condition class for an HTTP status and ec5 code.
http_error_class <- function(status, code) {
  if (identical(code, "ec5_252")) {
    return("server")
  }
  if (code %in% c("ec5_253", "ec5_254", "ec5_256", "ec5_257", "ec5_261")) {
    return("auth")
  }
  if (status == 429L || identical(code, "ec5_255")) {
    return("rate_limited")
  }
  if (status == 404L || code %in% c("ec5_11", "ec5_15", "ec5_99", "ec5_322")) {
    return("not_found")
  }
  if (status >= 500L) {
    return("server")
  }
  "bad_request"
}

# Raises the classed error for a failed response. `errors` is the body's
# error items (list of code, title, source; response_errors()), or NULL
# when the body was not an ec5 error (an HTML page from a proxy, say).
# `retry_after` is the Retry-After header (seconds) of a 429, `html` says the
# body was an HTML page, `tries` how often the request was sent.
ec5_http_abort <- function(status, url, errors = NULL, what = "request",
                           retry_after = NULL, html = FALSE, tries = 1L,
                           call = rlang::caller_env()) {
  code <- if (length(errors$code)) errors$code[[1]] else ""
  title <- if (length(errors$title)) errors$title[[1]] else http_status_text(status)
  source <- if (length(errors$source)) errors$source[[1]] else ""
  hint <- unname(ec5_code_hints[code])
  if (is.na(hint) && status >= 500L) {
    hint <- "The server failed; this is usually temporary. Try again later."
  }
  url <- redact_url(url)
  ec5_abort(
    c(
      "The Epicollect5 server refused the {what}.",
      "x" = "HTTP {status}{if (nzchar(code)) paste0(', ', code)}: {title}",
      "i" = if (nzchar(source)) "Source: {.val {source}}.",
      "i" = "URL: {.url {url}}",
      "i" = if (html) "The server sent an HTML page, not the API's JSON: a proxy, a login portal or a maintenance page may be in the way.",
      "i" = if (tries > 1) "The request was sent {tries} times, with pauses between; every answer was a failure.",
      "i" = if (!is.null(retry_after)) "The server asks to wait {retry_after} second{?s} before the next request.",
      "i" = if (!is.na(hint)) hint
    ),
    class = http_error_class(status, code),
    status = status,
    code = code,
    title = title,
    source = source,
    url = url,
    tries = tries,
    call = call
  )
}

http_status_text <- function(status) {
  texts <- c(
    "400" = "Bad Request", "401" = "Unauthorized", "403" = "Forbidden",
    "404" = "Not Found", "422" = "Unprocessable Content",
    "429" = "Too Many Requests", "500" = "Internal Server Error",
    "502" = "Bad Gateway", "503" = "Service Unavailable",
    "504" = "Gateway Timeout"
  )
  text <- texts[as.character(status)]
  if (is.na(text)) "Unexpected status" else unname(text)
}

# Query parameters that may carry secrets are blanked before a URL is shown,
# by the C++ that blanks them in the messages of failed transfers.
redact_url <- function(url) {
  cpp_check(redact_url_cpp(as.character(url)))
}
