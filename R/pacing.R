# Client-side pacing (src/pacing.cpp keeps the state for the whole R session).
#
# Requests fall into buckets like the server's (API-NOTES.md §11): entries,
# project and media requests per project, token requests and everything else
# per client. The limits start from the published ones, can be lowered (or
# raised, for a self-hosted server) with `options(epicollect5.rate_limits =
# list(entries = c(requests, seconds), ...))`, and then follow the server's
# X-RateLimit-Limit / X-RateLimit-Remaining headers.

# Published limits: requests per window of seconds.
ec5_published_limits <- list(
  entries = c(5, 60),
  project = c(5, 60),
  media = c(10, 60),
  public_media = c(5, 1),
  token = c(10, 3600),
  global = c(600, 60)
)

# The limits in force: the published ones with the user's option on top.
# `user` flags the classes the user set (the server may lower those, not
# raise them).
ec5_rate_limits <- function(call = rlang::caller_env()) {
  limits <- ec5_published_limits
  user <- getOption("epicollect5.rate_limits")
  if (is.null(user)) {
    return(lapply(limits, function(x) list(requests = x[[1]], seconds = x[[2]], user = FALSE)))
  }
  ok_names <- is.list(user) && !is.null(names(user)) && all(names(user) %in% names(limits))
  ok_values <- ok_names && all(vapply(user, function(x) {
    is.numeric(x) && length(x) == 2 && !anyNA(x) && x[[1]] >= 1 && x[[2]] > 0
  }, logical(1)))
  if (!ok_values) {
    ec5_abort(
      c(
        "Option {.code epicollect5.rate_limits} is malformed.",
        "i" = "Use a named list with elements among {.val {names(limits)}}, each {.code c(requests, seconds)}, e.g. {.code list(entries = c(3, 60))}."
      ),
      class = "argument",
      call = call
    )
  }
  out <- lapply(limits, function(x) list(requests = x[[1]], seconds = x[[2]], user = FALSE))
  for (cls in names(user)) {
    out[[cls]] <- list(requests = user[[cls]][[1]], seconds = user[[cls]][[2]], user = TRUE)
  }
  out
}

# The limiter list that http_perform_cpp() and the limiter_*_cpp() functions
# take: one bucket per server, project (if any) and class.
ec5_limiter <- function(server, slug = NULL, class, call = rlang::caller_env()) {
  limit <- ec5_rate_limits(call = call)[[class]]
  list(
    key = paste(server, if (is.null(slug)) "" else slug, class, sep = "|"),
    class = class,
    requests = limit$requests,
    seconds = limit$seconds,
    user = limit$user,
    # Public media have a per-second burst bucket inside a per-minute one;
    # the server's X-RateLimit headers may describe the per-minute bucket,
    # which would lift our per-second pacing into a storm of 429s.
    follow_server = !identical(class, "public_media")
  )
}

# What the limiter knows now, for ec5_sitrep(): one row per bucket in use.
ec5_pacing_state <- function() {
  state <- cpp_check(limiter_state_cpp())
  parts <- strsplit(state$key, "|", fixed = TRUE)
  tibble::tibble(
    server = vapply(parts, `[`, "", 1),
    project = vapply(parts, function(p) if (nzchar(p[[2]])) p[[2]] else NA_character_, ""),
    class = state$class,
    used = state$used,
    server_limit = state$server_limit,
    resets_in = state$resets_in,
    exhausted = state$exhausted
  )
}

# Seconds of pacing ahead of `hits` more requests of the bucket `pace`
# (list(base_url, slug, class), or NULL for none): what a time-left estimate
# must add to the transfers (R/progress.R).
pacing_wait_ahead <- function(pace, hits) {
  if (is.null(pace) || !(hits > 0)) {
    return(0)
  }
  limiter <- ec5_limiter(url_origin(pace$base_url), pace$slug, pace$class)
  cpp_check(limiter_wait_ahead_cpp(limiter, hits))
}
