# The retry policy: the one place that decides whether a logical request (one
# entries page, one definition, one media file, one token) is sent again.
# Each transfer is one call to C++ (src/http_transfer.cpp); this loop shares
# one budget of `epicollect5.max_tries` transfers among every cause, so that a
# page never costs more than that against the server's rate limit:
#
#   no answer that libcurl deems transient  back-off, then again
#   HTTP 500, 502, 503, 504                  Retry-After within the cap, else back-off
#   HTTP 429                                 Retry-After (60 s when absent: API-NOTES.md
#                                            section 11) within the cap; a paced
#                                            request waits in its bucket
#   404 ec5_256 with credentials             one re-authentication (`reauth`)
#   400 ec5_335 (API-NOTES.md section 10)    a smaller page size (`shrink`)
#   a 2xx body damaged on the way            at once (JSON that does not parse; a
#                                            media file that fails its check,
#                                            R/media-check.R)
#   a 2xx HTML page                          once (proxies show one for a moment)
#
# When the budget is spent or no cause applies, the last answer stands:
# `finish(resp)` turns it into the value or the classed error.

# The policy's options and their defaults, written nowhere else:
#   epicollect5.max_tries        transfers per logical request, all causes (4)
#   epicollect5.backoff          c(base, cap) seconds; the wait after try i is
#                                uniform in [0, min(cap, base * 2^(i - 1))]
#   epicollect5.retry_after_cap  longest wait for a Retry-After or a spent
#                                rate limit; longer ones fail at once (180)
retry_options <- function() {
  backoff <- getOption("epicollect5.backoff", c(1, 60))
  if (!is.numeric(backoff) || length(backoff) != 2 || anyNA(backoff) || any(backoff < 0)) {
    ec5_abort("Option {.code epicollect5.backoff} must be {.code c(base, cap)} in seconds.",
      class = "argument", call = NULL
    )
  }
  list(
    max_tries = option_number("epicollect5.max_tries", 4, min = 1),
    backoff_base = backoff[[1]],
    backoff_cap = backoff[[2]],
    retry_after_cap = option_number("epicollect5.retry_after_cap", 180)
  )
}

#' Sends one logical request under the retry policy
#'
#' @param send `function()` performing one transfer: http_transfer().
#' @param finish `function(resp)` returning the value of the answer that
#'   stands, or raising its classed error; an `ec5_error_parse` for a 2xx
#'   body is the cue for the damaged-body and HTML retries (one with
#'   `damaged = TRUE` says the body was damaged when the policy cannot see
#'   it: a body written to a file). `resp` gains `tries`, `waited` and
#'   `reauthed`.
#' @param reauth `function()` replacing the access token, or NULL.
#' @param shrink `function()` lowering the page size of what `send()` asks
#'   for, TRUE when it could, or NULL.
#' @noRd
ec5_retrying <- function(send, finish = identity, reauth = NULL, shrink = NULL,
                         what = "request", call = rlang::caller_env()) {
  opts <- retry_options()
  once <- c(reauth = FALSE, html = FALSE)
  waited <- 0
  attempt <- 0L
  repeat {
    attempt <- attempt + 1L
    resp <- send()
    waited <- waited + resp$waited
    spare <- attempt < opts$max_tries
    pause <- if (spare) retry_pause(resp, opts)
    if (!is.null(pause)) {
      waited <- waited + retry_wait(pause, attempt, opts, call)
      next
    }
    if (!is.null(resp$failure)) {
      abort_transport(resp, attempt, call)
    }
    if (spare && !is.null(reauth) && !once[["reauth"]] && is_access_denied(resp)) {
      reauth()
      once[["reauth"]] <- TRUE
      next
    }
    if (spare && !is.null(shrink) && identical(error_code(resp), "ec5_335") && shrink()) {
      next
    }
    resp$tries <- attempt
    resp$waited <- waited
    resp$reauthed <- once[["reauth"]]
    value <- tryCatch(finish(resp), ec5_error_parse = function(e) e)
    if (!inherits(value, "ec5_error_parse")) {
      return(value)
    }
    html <- response_is_html(resp)
    if (spare && (if (html) !once[["html"]] else isTRUE(value$damaged) || body_damaged(resp))) {
      once[["html"]] <- once[["html"]] || html
      next
    }
    abort_unreadable(resp, value, what, attempt, call)
  }
}

# The wait before the next try, as list(seconds, reason) (seconds NA: a
# back-off), or NULL when the answer is not one to try again.
retry_pause <- function(resp, opts) {
  if (!is.null(resp$failure)) {
    if (!isTRUE(resp$failure$transient)) {
      return(NULL)
    }
    return(list(seconds = NA_real_, reason = paste("a retry after:", resp$failure$detail)))
  }
  after <- resp$retry_after
  told <- !is.na(after) && after <= opts$retry_after_cap
  if (resp$status == 429L) {
    if (!told) {
      return(NULL)
    }
    # The 429 blocked the request's bucket (src/pacing.cpp) for as long.
    return(list(seconds = if (resp$paced) 0 else after, reason = "the server's rate limit (HTTP 429)"))
  }
  if (resp$status %in% c(500L, 502L, 503L, 504L)) {
    return(list(seconds = if (told) after else NA_real_, reason = paste("a retry after HTTP", resp$status)))
  }
  NULL
}

# Waits interruptibly, reported as the pacing is; returns the seconds waited.
retry_wait <- function(pause, attempt, opts, call) {
  seconds <- pause$seconds
  if (is.na(seconds)) {
    seconds <- cpp_check(http_backoff_cpp(attempt, opts), call = call)
  }
  cpp_check(http_wait_cpp(seconds, pause$reason, wait_reporter()), call = call)
}

# The server only sends well-formed JSON, so a 2xx body that is not (cut
# short, garbled) was damaged on the way. JSON of the wrong shape would come
# back the same.
body_damaged <- function(resp) {
  !is.null(resp$body) && is.null(tryCatch(json_parse(resp$body), ec5_error_parse = function(e) NULL))
}

abort_transport <- function(resp, tries, call) {
  failure <- resp$failure
  url <- redact_url(resp$url)
  after <- if (tries > 1) paste(" after", tries, "tries") else ""
  ec5_abort_failure(
    failure$kind,
    paste0("Request to ", url, " failed", after, ": ", failure$detail),
    list(hint = failure$hint, url = url),
    call = call
  )
}

abort_unreadable <- function(resp, error, what, tries, call) {
  html <- response_is_html(resp)
  url <- redact_url(resp$url)
  problem <- if (html) "It is an HTML page, not the API's JSON." else rlang::cnd_header(error)
  ec5_abort(
    c(
      "The server's answer to the {what} could not be read.",
      "x" = "{problem}",
      "i" = "URL: {.url {url}}",
      "i" = if (html) "A proxy, a login portal or a maintenance page may be in the way; open the URL in a browser to see it.",
      "i" = if (!html && tries > 1) "It was requested {tries} times; every answer was damaged or cut short on the way.",
      "i" = if (!html) "Try again later. If this persists, please report it."
    ),
    class = "parse",
    status = resp$status,
    url = url,
    tries = tries,
    call = call
  )
}
