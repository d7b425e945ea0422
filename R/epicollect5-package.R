#' epicollect5: Client for the Epicollect5 Data Collection API
#'
#' Reads projects, entries, branch entries and media from
#' [Epicollect5](https://five.epicollect.net) into typed, labelled tibbles.
#' Start with [ec5_entries()] for one form, [ec5_project_data()] for a whole
#' project, or [ec5_demo()] to try the package offline.
#'
#' @section Options:
#' * `epicollect5.base_url`: the server (see [ec5_base_url()]).
#' * `epicollect5.verbose`: `FALSE` silences progress bars and messages.
#'   Progress is one live line in a terminal, at most a line a minute in a
#'   log (output that cannot redraw a line), and nothing while knitting.
#' * `epicollect5.col_names`: the default column names of every function
#'   that returns tables, `"export"` (the website's CSV names, the default)
#'   or `"clean"` (syntactic lower snake case; see the section Column names
#'   of [ec5_entries()]).
#' * `epicollect5.rate_limits`: a named list (`entries`, `project`, `media`),
#'   each `c(requests, seconds)`, overriding the published limits.
#' * `epicollect5.user_agent`: the User-Agent sent with every request.
#' * `epicollect5.timeout`, `epicollect5.min_speed`: a transfer that moves
#'   fewer than `min_speed` bytes a second (default 1024, 1 kB/s) for
#'   `timeout` seconds (default 60) is abandoned and tried again within
#'   `epicollect5.max_tries`. A slow field connection still moves several kB
#'   a second; a trickle below 1 kB/s for a minute would hold a fetch for
#'   hours.
#' * `epicollect5.max_tries`: requests one page, definition or file may cost
#'   in all, whatever goes wrong (network failures, HTTP 5xx and 429, a
#'   damaged answer, a revoked token, a page size the server refuses, an HTML
#'   page from a proxy) (default 4).
#' * `epicollect5.retry_after_cap`: the longest wait, in seconds, for a
#'   server that asks to wait before the next request; a longer one fails at
#'   once (default 180).
#'
#' @keywords internal
#' @useDynLib epicollect5, .registration = TRUE
#' @importFrom Rcpp sourceCpp
"_PACKAGE"

#' @importFrom rlang %||%
NULL
