# The retry policy (R/retry.R): one budget of epicollect5.max_tries transfers
# per logical request, whatever mix of causes, counted in the local server's
# log; the HTML retry; the error body read once per answer.

entries_path <- "/api/export/entries/"

# The second request of a fault-free `fetch()`: the page the faults target.
second_page <- function(srv, fetch) {
  mark <- log_marker(srv)
  fetch()
  second_request(entries_queries(mark()))
}

# Adds the faults of `faults` in order, each on the request `page` only.
add_page_faults <- function(srv, faults, page) {
  for (fault in faults) {
    do.call(srv$faults, c(fault, list(path = entries_path, query = page)))
  }
}

test_that("a page never costs more than max_tries transfers, whatever the mix of faults", {
  srv <- local_client_server()
  local_fast_retries()
  fetch <- function() ec5_entries("ec5-demo", per_page = 20, base_url = srv$url)
  clean <- without_fetch_time(fetch())
  page <- second_page(srv, fetch)
  mark <- log_marker(srv)
  persistent <- list(
    server = list(type = "error", status = 502, times = 10),
    parse = list(type = "invalid_json", times = 10),
    transport = list(type = "drop", times = 10),
    rate_limited = list(type = "rate_limit", retry_after = 1, times = 10)
  )
  transient <- list(
    list(type = "error", status = 503),
    list(type = "truncate"),
    list(type = "drop"),
    list(type = "error", status = 200),
    list(type = "rate_limit", retry_after = 1)
  )
  for (i in seq_along(transient)) {
    for (class in names(persistent)) {
      label <- paste(transient[[i]]$type, transient[[i]]$status %||% "", "then", class)
      # Two transient causes, then one that persists: the budget of 3 ends it.
      add_page_faults(srv, c(transient[i], transient[-i][1], list(persistent[[class]])), page)
      expect_error(fetch(), class = paste0("ec5_error_", class), label = label)
      expect_equal(count_matching(mark(), entries_path, page), 3, label = label)
      srv$clear_faults()
      epicollect5:::limiter_reset_cpp()
    }
    # Two transient causes alone cost two of the three tries: the page arrives.
    add_page_faults(srv, c(transient[i], transient[-i][1]), page)
    expect_identical(without_fetch_time(fetch()), clean, label = transient[[i]]$type)
    expect_equal(count_matching(mark(), entries_path, page), 3, label = transient[[i]]$type)
  }
})

test_that("re-authentication takes one try of the page's budget", {
  srv <- local_client_server()
  local_fast_retries()
  slug <- "proyecto-api-python"
  auth <- server_auth(srv, slug)
  fetch <- function() ec5_entries(slug, per_page = 20, auth = auth, base_url = srv$url)
  page <- second_page(srv, fetch)
  mark <- log_marker(srv)
  add_page_faults(srv, list(
    list(type = "revoke_token"),
    list(type = "error", status = 503, times = 10)
  ), page)
  expect_error(fetch(), class = "ec5_error_server")
  log <- mark()
  expect_equal(count_matching(log, entries_path, page), 3)
  expect_equal(count_matching(log, "/api/oauth/token"), 1)
  srv$clear_faults()
})

test_that("the page-size fallback takes tries of the page's budget", {
  srv <- local_client_server(max_per_page = 100)
  local_fast_retries()
  mark <- log_marker(srv)
  # 1000, 500 and 250 are refused with ec5_335: the budget of 3 is spent.
  err <- expect_error(ec5_entries("ec5-demo", base_url = srv$url), class = "ec5_error_bad_request")
  expect_equal(err$code, "ec5_335")
  expect_equal(count_matching(mark(), entries_path), 3)
  # With 5 tries the fourth size, 100, is accepted and remembered.
  withr::local_options(epicollect5.max_tries = 5)
  expect_equal(nrow(ec5_entries("ec5-demo", base_url = srv$url)), 60)
  log <- mark()
  query <- log$query[startsWith(log$path, entries_path)]
  expect_equal(length(query), 2)
  expect_match(query[1], "per_page=250(&|$)")
  expect_match(query[2], "per_page=100(&|$)")
})

test_that("a 200 HTML page is asked for once more, then the classed error stands", {
  srv <- local_client_server()
  local_fast_retries()
  fetch <- function() ec5_entries("ec5-demo", per_page = 20, base_url = srv$url)
  clean <- without_fetch_time(fetch())
  page <- second_page(srv, fetch)
  mark <- log_marker(srv)
  add_page_faults(srv, list(list(type = "error", status = 200)), page)
  expect_identical(without_fetch_time(fetch()), clean)
  expect_equal(count_matching(mark(), entries_path, page), 2)
  # Once only: a second HTML page ends it, though a try is left.
  add_page_faults(srv, list(list(type = "error", status = 200, times = 10)), page)
  err <- expect_error(fetch(), class = "ec5_error_parse")
  expect_equal(err$status, 200L)
  expect_match(conditionMessage(err), "It is an HTML page")
  expect_equal(count_matching(mark(), entries_path, page), 2)
  srv$clear_faults()
})

test_that("the error body of an answer is read once", {
  web <- local_http_app()
  local_fast_http()
  # Calls of the error-body reader and of the generic JSON parser.
  calls <- new.env()
  calls$response_errors <- 0L
  calls$json_parse <- 0L
  ns <- asNamespace("epicollect5")
  for (f in names(calls)) {
    count <- bquote(assign(.(f), get(.(f), envir = .(calls)) + 1L, envir = .(calls)))
    trace(f, tracer = count, where = ns, print = FALSE)
  }
  withr::defer(for (f in names(calls)) untrace(f, where = ns))
  err <- expect_error(
    ec5_api_json(sub("/$", "", web$url("/")), "/status/404", query = list(code = "ec5_256"), what = "entries request"),
    class = "ec5_error_auth"
  )
  expect_identical(err$code, "ec5_256")
  expect_identical(calls$response_errors, 1L)
  expect_identical(calls$json_parse, 0L)
})

test_that("retry options are checked and have one set of defaults", {
  withr::local_options(epicollect5.max_tries = NULL, epicollect5.backoff = NULL,
                       epicollect5.retry_after_cap = NULL)
  expect_identical(retry_options(), list(max_tries = 4, backoff_base = 1, backoff_cap = 60,
                                         retry_after_cap = 180))
  withr::local_options(epicollect5.max_tries = 0)
  expect_error(retry_options(), class = "ec5_error_argument")
  withr::local_options(epicollect5.max_tries = 2, epicollect5.backoff = c(1, NA))
  expect_error(retry_options(), class = "ec5_error_argument")
})

test_that("back-off waits stay within their bounds and are interruptible C++ waits", {
  opts <- list(backoff_base = 0.5, backoff_cap = 1.5)
  waits <- vapply(1:20, function(i) cpp_check(http_backoff_cpp(3, opts)), 0)
  expect_true(all(waits >= 0 & waits <= 1.5))
  expect_gt(length(unique(waits)), 1)
  expect_error(cpp_check(http_backoff_cpp(0, opts)), class = "ec5_error_argument")
  expect_identical(cpp_check(http_wait_cpp(0, "nothing", NULL)), 0)
  expect_error(cpp_check(http_wait_cpp(1, "x", "not a function")), class = "ec5_error_argument")
})
