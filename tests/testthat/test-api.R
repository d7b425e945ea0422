# Faults during entries fetches, re-authentication, private projects and bad
# input, against the local server with fault injection (R/api.R: every
# request goes through ec5_api_get(), JSON bodies through ec5_api_json()).

entries_path <- "/api/export/entries/"

test_that("transient faults are retried and the result is the fault-free one", {
  srv <- local_client_server()
  local_fast_retries()
  fetch <- function() ec5_entries("ec5-demo", per_page = 20, base_url = srv$url)
  mark <- log_marker(srv)
  clean <- without_fetch_time(fetch())
  expect_equal(nrow(clean), 60)
  requests <- entries_queries(mark())
  second <- second_request(requests)
  faults <- list(
    list(type = "error", status = 500),
    list(type = "error", status = 502),
    list(type = "error", status = 503),
    list(type = "drop"),
    list(type = "truncate"),
    list(type = "invalid_json"),
    list(type = "stall", delay = 3),
    list(type = "trickle", chunk = 1, delay = 1.5),
    list(type = "rate_limit", retry_after = 1)
  )
  for (fault in faults) {
    label <- paste(fault$type, fault$status %||% "")
    # The fault hits the second request once: nothing may be lost or duplicated.
    do.call(srv$faults, c(fault, list(path = entries_path, query = second, times = 1)))
    expect_identical(without_fetch_time(fetch()), clean, label = label)
    log <- mark()
    expect_equal(count_matching(log, entries_path, second), 2, label = label)
    expect_equal(unique(entries_queries(log)), requests, label = label)
    expect_equal(sum(nzchar(log$fault)), 1, label = label)
    expect_equal(count_matching(log, "/api/export/project/"), 0, label = label)
  }
})

test_that("transient faults of the definition request are retried too", {
  srv <- local_client_server()
  local_fast_retries()
  mark <- log_marker(srv)
  for (type in c("truncate", "invalid_json", "drop")) {
    epicollect5:::project_cache_clear()
    srv$faults(type = type, path = "^/api/export/project/", times = 1)
    p <- ec5_project("ec5-demo", base_url = srv$url)
    expect_s3_class(p, "ec5_project")
    expect_equal(count_matching(mark(), "/api/export/project/"), 2, label = type)
  }
})

test_that("persistent faults end in classed errors that name what happened", {
  srv <- local_client_server()
  local_fast_retries()
  fetch <- function() ec5_entries("ec5-demo", base_url = srv$url)
  fetch()
  mark <- log_marker(srv)
  cases <- list(
    list(fault = list(type = "error", status = 503), class = "ec5_error_server", requests = 3),
    list(fault = list(type = "error", status = 500), class = "ec5_error_server", requests = 3),
    list(fault = list(type = "drop"), class = "ec5_error_transport", requests = 3),
    list(fault = list(type = "stall", delay = 3), class = "ec5_error_timeout", requests = 3),
    list(fault = list(type = "trickle", chunk = 1, delay = 1.5), class = "ec5_error_timeout", requests = 3),
    list(fault = list(type = "truncate"), class = "ec5_error_parse", requests = 3),
    list(fault = list(type = "invalid_json"), class = "ec5_error_parse", requests = 3),
    # A Retry-After beyond epicollect5.retry_after_cap is not waited for.
    list(fault = list(type = "rate_limit", retry_after = 30), class = "ec5_error_rate_limited", requests = 1),
    list(fault = list(type = "maintenance"), class = "ec5_error_server", requests = 1),
    # An HTML page with status 200 (a login portal) is asked again once.
    list(fault = list(type = "error", status = 200), class = "ec5_error_parse", requests = 2)
  )
  errors <- list()
  for (case in cases) {
    label <- paste(case$fault$type, case$fault$status %||% "")
    do.call(srv$faults, c(case$fault, list(path = entries_path, times = 10)))
    errors[[label]] <- expect_error(fetch(), class = case$class, label = label)
    expect_equal(count_matching(mark(), entries_path), case$requests, label = label)
    srv$clear_faults()
    # The client remembers a Retry-After it did not wait for.
    epicollect5:::limiter_reset_cpp()
  }
  expect_snapshot(rlang::cnd_signal(errors[["error 503"]]), error = TRUE, transform = mask_run)
  expect_snapshot(rlang::cnd_signal(errors[["drop "]]), error = TRUE, transform = mask_run)
  expect_snapshot(rlang::cnd_signal(errors[["stall "]]), error = TRUE, transform = mask_run)
  expect_snapshot(rlang::cnd_signal(errors[["truncate "]]), error = TRUE, transform = mask_run)
  expect_snapshot(rlang::cnd_signal(errors[["rate_limit "]]), error = TRUE, transform = mask_run)
  expect_snapshot(rlang::cnd_signal(errors[["maintenance "]]), error = TRUE, transform = mask_run)
  expect_snapshot(rlang::cnd_signal(errors[["error 200"]]), error = TRUE, transform = mask_run)
})

test_that("a 429 whose Retry-After is within the cap is waited for, then retried", {
  srv <- local_client_server()
  local_fast_retries()
  ec5_entries("ec5-demo", base_url = srv$url)
  mark <- log_marker(srv)
  srv$faults(type = "rate_limit", retry_after = 1, path = entries_path, times = 10)
  start <- Sys.time()
  expect_error(ec5_entries("ec5-demo", base_url = srv$url), class = "ec5_error_rate_limited")
  # max_tries attempts, each after the second the server asked for.
  expect_equal(count_matching(mark(), entries_path), 3)
  expect_gte(as.numeric(difftime(Sys.time(), start, units = "secs")), 2)
})

test_that("a Retry-After beyond the cap fails at once, and the next call sends nothing", {
  srv <- local_client_server()
  local_fast_retries()
  withr::defer(epicollect5:::limiter_reset_cpp())
  ec5_entries("ec5-demo", base_url = srv$url)
  mark <- log_marker(srv)
  srv$faults(type = "rate_limit", retry_after = 30, path = entries_path, times = 1)
  err <- expect_error(ec5_entries("ec5-demo", base_url = srv$url), class = "ec5_error_rate_limited")
  expect_equal(err$status, 429L)
  expect_equal(count_matching(mark(), entries_path), 1)
  # The client keeps the server's word: no request until the 30 s are over.
  expect_snapshot(ec5_entries("ec5-demo", base_url = srv$url), error = TRUE,
                  transform = function(x) gsub("[0-9]+ more seconds", "<n> more seconds", x))
  expect_equal(count_matching(mark(), entries_path), 0)
})

test_that("maintenance mode is a server error that says to come back later", {
  srv <- local_client_server()
  local_fast_retries()
  ec5_entries("ec5-demo", base_url = srv$url)
  srv$maintenance(TRUE)
  err <- expect_error(ec5_entries("ec5-demo", base_url = srv$url), class = "ec5_error_server")
  expect_equal(err$code, "ec5_252")
  expect_equal(err$status, 404L)
  srv$maintenance(FALSE)
  expect_equal(nrow(ec5_entries("ec5-demo", base_url = srv$url)), 60)
})

test_that("a token revoked mid-download costs one token request and one retry", {
  srv <- local_client_server()
  local_fast_retries()
  slug <- "proyecto-api-python"
  auth <- server_auth(srv, slug)
  fetch <- function() ec5_entries(slug, per_page = 20, auth = auth, base_url = srv$url)
  mark <- log_marker(srv)
  clean <- without_fetch_time(fetch())
  requests <- entries_queries(mark())
  srv$faults(type = "revoke_token", path = entries_path, query = second_request(requests), times = 1)
  expect_identical(without_fetch_time(fetch()), clean)
  log <- mark()
  expect_equal(count_matching(log, "/api/oauth/token"), 1)
  expect_equal(count_matching(log, entries_path, second_request(requests)), 2)
  expect_equal(unique(entries_queries(log)), requests)
  expect_equal(log$status[startsWith(log$path, entries_path)], c(200L, 404L, rep(200L, length(requests) - 1)))

  # Tokens that expired on the server before the client expected it.
  srv$expire_tokens()
  expect_identical(without_fetch_time(fetch()), clean)
  expect_equal(count_matching(mark(), "/api/oauth/token"), 1)

  # A server that refuses every token: one re-authentication, then an error.
  srv$faults(type = "revoke_token", path = entries_path, times = 10)
  err <- expect_error(fetch(), class = "ec5_error_auth")
  expect_equal(err$code, "ec5_256")
  expect_snapshot(fetch(), error = TRUE, transform = mask_run)
  log <- mark()
  expect_equal(count_matching(log, "/api/oauth/token"), 2)
  expect_equal(count_matching(log, entries_path), 4)
  srv$clear_faults()
})

test_that("private projects explain what credentials are missing or wrong", {
  srv <- local_client_server()
  local_fast_retries()
  withr::local_envvar(EC5_CLIENT_ID = "", EC5_CLIENT_SECRET = "")
  slug <- "proyecto-api-python"
  mark <- log_marker(srv)

  err <- expect_error(ec5_entries(slug, base_url = srv$url), class = "ec5_error_auth")
  expect_equal(err$code, "ec5_256")
  expect_snapshot(ec5_entries(slug, base_url = srv$url), error = TRUE, transform = mask_run)
  expect_equal(count_matching(mark(), "/api/export/entries/"), 0)

  expect_error(ec5_auth("", "secret", base_url = srv$url), class = "ec5_error_auth")
  expect_error(ec5_auth("1001", "", base_url = srv$url), class = "ec5_error_auth")
  expect_snapshot(ec5_auth("", "secret", base_url = srv$url), error = TRUE)
  expect_equal(nrow(mark()), 0)

  wrong <- ec5_auth("1001", "not-the-secret", base_url = srv$url)
  err <- expect_error(ec5_entries(slug, auth = wrong, base_url = srv$url), class = "ec5_error_auth")
  expect_equal(err$code, "ec5_253")
  expect_snapshot(ec5_entries(slug, auth = wrong, base_url = srv$url), error = TRUE, transform = mask_run)
  log <- mark()
  expect_equal(count_matching(log, "/api/export/"), 0)

  other <- server_auth(srv, "cronus-sept17")
  err <- expect_error(ec5_entries(slug, auth = other, base_url = srv$url), class = "ec5_error_auth")
  expect_equal(err$code, "ec5_257")
  expect_snapshot(ec5_entries(slug, auth = other, base_url = srv$url), error = TRUE, transform = mask_run)
  # ec5_257 is not a revoked token: no re-authentication, no retry.
  log <- mark()
  expect_lte(count_matching(log, "/api/oauth/token"), 1)
  expect_equal(count_matching(log, "/api/export/project/"), 2)
})

test_that("a public project given credentials just works", {
  srv <- local_client_server()
  local_fast_retries()
  plain <- without_fetch_time(ec5_entries("ec5-demo", base_url = srv$url))
  auth <- server_auth(srv, "cronus-sept17")
  expect_identical(without_fetch_time(ec5_entries("ec5-demo", auth = auth, base_url = srv$url)), plain)
  withr::local_envvar(EC5_CLIENT_ID = srv$clients$client_id[1], EC5_CLIENT_SECRET = srv$clients$client_secret[1])
  expect_identical(without_fetch_time(ec5_entries("ec5-demo", base_url = srv$url)), plain)
})

test_that("unknown slugs, forms, branches and mappings list what exists", {
  srv <- local_client_server()
  mark <- log_marker(srv)
  expect_error(ec5_entries("no-such-project", base_url = srv$url), class = "ec5_error_not_found")
  expect_snapshot(ec5_entries("no-such-project", base_url = srv$url), error = TRUE, transform = mask_run)
  # Only the free version request was spent.
  log <- mark()
  expect_equal(unique(log$path), "/api/project-version/no-such-project")

  ec5_project("ec5-demo", base_url = srv$url)
  mark()
  expect_error(ec5_entries("ec5-demo", form = "nope", base_url = srv$url), class = "ec5_error_not_found")
  expect_error(ec5_branch_entries("ec5-demo", branch = "nope", base_url = srv$url), class = "ec5_error_not_found")
  expect_error(ec5_entries("ec5-demo", map_index = 7, base_url = srv$url), class = "ec5_error_not_found")
  expect_snapshot(error = TRUE, ec5_entries("ec5-demo", form = "nope", base_url = srv$url))
  expect_snapshot(error = TRUE, ec5_branch_entries("ec5-demo", branch = "nope", base_url = srv$url))
  expect_snapshot(error = TRUE, ec5_branch_entries("ec5-demo", branch = "nope", form = "Student", base_url = srv$url))
  expect_snapshot(error = TRUE, ec5_entries("ec5-demo", map_index = 7, base_url = srv$url))
  # The definition was at hand: no entries or definition request was sent.
  expect_equal(count_matching(mark(), "/api/export/"), 0)
})

test_that("bad arguments are refused before any request", {
  srv <- local_client_server()
  mark <- log_marker(srv)
  url <- srv$url
  calls <- list(
    quote(ec5_entries("EC5 Demo", base_url = url)),
    quote(ec5_entries("Ec5-demo", base_url = url)),
    quote(ec5_entries("ec5 demo", base_url = url)),
    quote(ec5_entries("", base_url = url)),
    quote(ec5_entries(c("a", "b"), base_url = url)),
    quote(ec5_entries("ec5-demo", since = "yesterday", base_url = url)),
    quote(ec5_entries("ec5-demo", since = "2024-13-45", base_url = url)),
    quote(ec5_entries("ec5-demo", until = 5, base_url = url)),
    quote(ec5_entries("ec5-demo", since = "2024-05-02", until = "2024-05-01", base_url = url)),
    quote(ec5_entries("ec5-demo", per_page = 0, base_url = url)),
    quote(ec5_entries("ec5-demo", per_page = 1001, base_url = url)),
    quote(ec5_entries("ec5-demo", per_page = 2.5, base_url = url)),
    quote(ec5_entries("ec5-demo", max_entries = 0, base_url = url)),
    quote(ec5_entries("ec5-demo", max_entries = NA, base_url = url)),
    quote(ec5_entries("ec5-demo", map_index = -1, base_url = url)),
    quote(ec5_entries("ec5-demo", uuid = "short", base_url = url)),
    quote(ec5_entries("ec5-demo", auth = "token", base_url = url)),
    quote(ec5_branch_entries("ec5-demo", base_url = url)),
    quote(ec5_project("ec5_demo", base_url = url)),
    quote(ec5_project_data("Ec5 Demo", base_url = url)),
    quote(ec5_sync("ec5 demo", path = tempfile(), base_url = url)),
    quote(ec5_media("EC5-DEMO", "x_1.jpg", base_url = url))
  )
  for (call in calls) {
    expect_error(eval(call), class = "ec5_error_argument", label = deparse(call))
  }
  expect_equal(nrow(mark()), 0)
  expect_snapshot(error = TRUE, ec5_entries("EC5 Demo", base_url = url))
  expect_snapshot(error = TRUE, ec5_entries("ec5-demo", since = "yesterday", base_url = url))
  expect_snapshot(error = TRUE, ec5_entries("ec5-demo", per_page = 1001, base_url = url))
  expect_snapshot(error = TRUE, ec5_entries("ec5-demo", max_entries = 0, base_url = url))
  expect_snapshot(error = TRUE, ec5_entries("ec5-demo", since = "2024-05-02", until = "2024-05-01", base_url = url))
})
