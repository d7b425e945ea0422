# The transport against local servers. Counts of requests received make
# retry storms and wasted requests fail the tests.

web <- local_http_app()

test_that("URLs are built without trailing slashes and with encoded values", {
  expect_identical(
    build_url("https://x.org/api/export/entries/p/", list(
      filter_from = "2024-05-01T00:00:00.000Z", title = "a b&c=d/é", per_page = 1000,
      headers = FALSE, skip = NULL
    )),
    "https://x.org/api/export/entries/p?filter_from=2024-05-01T00%3A00%3A00.000Z&title=a%20b%26c%3Dd%2F%C3%A9&per_page=1000&headers=false"
  )
  expect_identical(build_url("https://x.org/a?page=2", list(b = 1)), "https://x.org/a?page=2&b=1")
  expect_identical(build_url("https://x.org/a/", list()), "https://x.org/a")
  expect_identical(build_url("https://x.org/a", list(n = 123456789)), "https://x.org/a?n=123456789")
  expect_error(build_url("https://x.org", list(a = c(1, 2))), class = "ec5_error_argument")
  expect_error(build_url("https://x.org", list(a = NA)), class = "ec5_error_argument")
})

test_that("url_origin() keeps scheme, host and port", {
  expect_identical(url_origin("http://127.0.0.1:8080/api/x?y=1"), "http://127.0.0.1:8080")
  expect_identical(url_origin("https://five.epicollect.net"), "https://five.epicollect.net")
})

test_that("a GET sends the user agent, Accept, Accept-Encoding and no Expect", {
  local_fast_http()
  resp <- ec5_request(web$url("/echo/"), query = list(q = "a b"))
  expect_identical(resp$status, 200L)
  expect_identical(resp$tries, 1L)
  expect_identical(resp$waited, 0)
  echo <- resp_json(resp)
  expect_identical(toupper(echo$method), "GET")
  expect_identical(echo$path, "/echo")
  expect_identical(echo$query, "q=a%20b")
  expect_match(echo$user_agent, "^epicollect5/[0-9.]+ \\(R [0-9.]+; libcurl [0-9.]+\\)$")
  expect_identical(echo$accept, "application/json")
  expect_match(echo$accept_encoding, "deflate")
  expect_identical(echo$authorization, "")
  expect_identical(resp$headers[["content-type"]], "application/json")
  expect_true(all(names(resp$headers) == tolower(names(resp$headers))))
  expect_identical(resp$url, web$url("/echo?q=a%20b"))
})

test_that("the user agent can be overridden by an option", {
  local_fast_http(epicollect5.user_agent = "my-pipeline/1.0")
  expect_identical(resp_json(ec5_request(web$url("/echo")))$user_agent, "my-pipeline/1.0")
  withr::local_options(epicollect5.user_agent = "")
  expect_error(ec5_request(web$url("/echo")), class = "ec5_error_argument")
})

test_that("a POST sends its body and a token becomes a Bearer header", {
  local_fast_http()
  resp <- ec5_request(web$url("/echo"),
    method = "POST", headers = "Content-Type: application/json",
    body = charToRaw("{\"x\":1}"), token = "abc"
  )
  echo <- resp_json(resp)
  expect_identical(toupper(echo$method), "POST")
  expect_identical(echo$body, "{\"x\":1}")
  expect_identical(echo$content_type, "application/json")
  expect_identical(echo$authorization, "Bearer abc")
  expect_identical(echo$expect, "")
})

test_that("compressed bodies are decoded", {
  local_fast_http()
  resp <- ec5_request(web$url("/deflate"))
  expect_identical(rawToChar(resp$body), "{\"a\":1}")
})

test_that("HTTP errors are returned, not thrown, and not retried", {
  local_fast_http()
  app_reset(web)
  resp <- ec5_request(web$url("/status/404"), query = list(code = "ec5_11"))
  expect_identical(resp$status, 404L)
  expect_identical(resp$tries, 1L)
  expect_identical(app_hits(web, "/status/404"), 1L)
  expect_identical(ec5_response_check(resp_ok <- ec5_request(web$url("/echo"))), resp_ok)
})

test_that("5xx answers are retried with back-off up to max_tries", {
  local_fast_http(epicollect5.max_tries = 3)
  app_reset(web)
  resp <- ec5_request(web$url("/flaky/2/a"))
  expect_identical(resp$status, 200L)
  expect_identical(resp$tries, 3L)
  expect_identical(app_hits(web, "/flaky/2/a"), 3L)
  resp <- ec5_request(web$url("/flaky/5/b"))
  expect_identical(resp$status, 503L)
  expect_identical(resp$tries, 3L)
  expect_identical(app_hits(web, "/flaky/5/b"), 3L)
})

# One 429 with Retry-After 1 s, then a 200: exactly two requests.
expect_429_waited_once <- function(path, pace = NULL) {
  app_reset(web)
  resp <- ec5_request(web$url(path), pace = pace)
  expect_identical(resp$status, 200L)
  expect_identical(resp$tries, 2L)
  expect_gte(resp$waited, 0.95)
  expect_identical(app_hits(web, path), 2L)
}

test_that("a 429 waits Retry-After, then retries once", {
  local_fast_http()
  expect_429_waited_once("/429/1/a")
})

test_that("a 429 with a Retry-After beyond the cap is returned at once", {
  local_fast_http(epicollect5.retry_after_cap = 5)
  app_reset(web)
  resp <- ec5_request(web$url("/429/3000/b"))
  expect_identical(resp$status, 429L)
  expect_identical(resp$tries, 1L)
  expect_identical(resp$waited, 0)
  expect_identical(app_hits(web, "/429/3000/b"), 1L)
  # No Retry-After: the fallback is 60 s, also beyond this cap.
  resp <- ec5_request(web$url("/429/none/c"))
  expect_identical(resp$status, 429L)
  expect_identical(app_hits(web, "/429/none/c"), 1L)
})

test_that("a 429 on a paced request blocks its bucket, so the retry waits there", {
  local_fast_http()
  cpp_check(limiter_reset_cpp())
  withr::defer(limiter_reset_cpp())
  expect_429_waited_once("/429/1/d", pace = list(slug = "d", class = "entries"))
})

test_that("a spent rate limit longer than the cap fails without a request", {
  local_fast_http(epicollect5.retry_after_cap = 5)
  cpp_check(limiter_reset_cpp())
  withr::defer(limiter_reset_cpp())
  app_reset(web)
  pace <- list(slug = NULL, class = "token")
  limiter <- ec5_limiter(url_origin(web$url("/")), NULL, "token")
  cpp_check(limiter_record_cpp(limiter, 0, 10, 3000))
  expect_error(
    ec5_request(web$url("/echo"), pace = pace),
    class = "ec5_error_rate_limited"
  )
  expect_identical(app_hits(web, "/echo"), 0L)
})

test_that("an infinite Retry-After blocks the bucket and is reported as such", {
  # The delay reached a double-to-long conversion (undefined behaviour).
  local_fast_http(epicollect5.retry_after_cap = 5)
  cpp_check(limiter_reset_cpp())
  withr::defer(limiter_reset_cpp())
  app_reset(web)
  pace <- list(slug = "inf", class = "entries")
  expect_identical(ec5_request(web$url("/429/1e400/f"), pace = pace)$status, 429L)
  err <- expect_error(ec5_request(web$url("/echo"), pace = pace), class = "ec5_error_rate_limited")
  expect_match(conditionMessage(err), "used up for inf more seconds")
  expect_identical(app_hits(web, "/echo"), 0L)
})

test_that("infinite timeouts and tries mean no limit", {
  # They reached double-to-long conversions (undefined behaviour) and libcurl
  # refused the result.
  withr::local_options(
    epicollect5.connect_timeout = Inf, epicollect5.timeout = Inf,
    epicollect5.total_timeout = Inf, epicollect5.max_tries = Inf, epicollect5.verbose = FALSE
  )
  expect_identical(ec5_request(web$url("/echo"))$status, 200L)
})

test_that("waits longer than a second are reported through on_wait", {
  seen <- list()
  on_wait <- function(seconds, reason) seen[[length(seen) + 1]] <<- list(seconds, reason)
  waited <- cpp_check(http_wait_cpp(2, "the server's rate limit (HTTP 429)", on_wait))
  expect_gte(waited, 2)
  seconds <- vapply(seen, `[[`, 0, 1)
  # Every 0.25 s at most: about 8 reports for 2 s, then a final 0.
  expect_gte(length(seconds), 5)
  expect_lte(length(seconds), 11)
  expect_identical(seconds[[length(seconds)]], 0)
  expect_true(all(diff(seconds) < 0))
  expect_match(seen[[1]][[2]], "429")
})

test_that("a connection refused is retried, then a transport error", {
  local_fast_http(epicollect5.max_tries = 2)
  closed <- "http://127.0.0.1:9/nothing-listens-here"
  err <- expect_error(ec5_request(closed), class = "ec5_error_transport")
  expect_match(conditionMessage(err), "after 2 tries")
  expect_match(conditionMessage(err), "127.0.0.1:9/nothing-listens-here", fixed = TRUE)
})

test_that("secrets in query strings are blanked in transport errors", {
  local_fast_http(epicollect5.max_tries = 1)
  err <- expect_error(
    ec5_request("http://127.0.0.1:9/x", query = list(client_secret = "hush", page = 2)),
    class = "ec5_error_transport"
  )
  expect_no_match(conditionMessage(err), "hush")
  expect_match(conditionMessage(err), "client_secret=<redacted>&page=2", fixed = TRUE)
})

test_that("a header holding a NUL byte is a transport error, not an R error", {
  # R strings cannot hold NUL; libcurl refuses such a reply before our code
  # would make the header one.
  local_fast_http()
  raw <- local_raw_server()
  expect_error(ec5_request(raw$url("/nul-header")), "Nul byte", class = "ec5_error_transport")
})

test_that("a body shorter than its Content-Length is retried as a transport error", {
  raw <- local_raw_server()
  local_fast_http(epicollect5.max_tries = 3)
  err <- expect_error(ec5_request(raw$url("/truncated")), class = "ec5_error_transport")
  expect_match(conditionMessage(err), "after 3 tries")
  expect_identical(raw$connections(), 3L)
  resp <- ec5_request(raw$url("/truncated-once"))
  expect_identical(resp$status, 200L)
  expect_identical(resp$tries, 2L)
  expect_identical(rawToChar(resp$body), "{\"a\":12}")
})

test_that("a stalled transfer is abandoned by the low-speed limit", {
  raw <- local_raw_server()
  local_fast_http(epicollect5.max_tries = 1, epicollect5.timeout = 1)
  start <- Sys.time()
  err <- expect_error(ec5_request(raw$url("/stall")), class = "ec5_error_timeout")
  expect_s3_class(err, "ec5_error_transport")
  expect_lt(as.numeric(Sys.time() - start, units = "secs"), 3.5)
  expect_match(conditionMessage(err), "epicollect5.timeout")
})

test_that("a trickling transfer is abandoned, tried again within the budget, then a transport error", {
  srv <- local_client_server()
  # Default min_speed (1 kB/s); one second below it is too long here.
  local_fast_retries()
  mark <- log_marker(srv)
  # 64 bytes a second: above a stall's 1 byte a second, far below 1 kB/s.
  srv$faults(type = "trickle", path = "^/api/export/entries", times = 1, chunk = 64, delay = 1)
  once <- ec5_entries("ec5-demo", form = "Student", base_url = srv$url)
  expect_gt(nrow(once), 0)
  expect_equal(count_matching(mark(), "/api/export/entries"), 2)
  srv$faults(type = "trickle", path = "^/api/export/entries", times = 100, chunk = 64, delay = 1)
  start <- Sys.time()
  err <- expect_error(ec5_entries("ec5-demo", form = "Student", base_url = srv$url),
                      class = "ec5_error_transport")
  expect_s3_class(err, "ec5_error_timeout")
  expect_lt(as.numeric(Sys.time() - start, units = "secs"), 15)
  expect_equal(count_matching(mark(), "/api/export/entries"), 3)
  expect_match(conditionMessage(err), "epicollect5.min_speed", fixed = TRUE)
})

test_that("the total timeout bounds a slow answer", {
  local_fast_http(epicollect5.max_tries = 1, epicollect5.total_timeout = 1)
  start <- Sys.time()
  expect_error(ec5_request(web$url("/slow/5")), class = "ec5_error_timeout")
  expect_lt(as.numeric(Sys.time() - start, units = "secs"), 3)
})

test_that("a body streams into dest", {
  local_fast_http()
  dest <- withr::local_tempfile()
  resp <- ec5_request(web$url("/bytes/100000"), dest = dest)
  expect_identical(resp$status, 200L)
  expect_null(resp$body)
  expect_identical(file.size(dest), 100000)
  expect_identical(readBin(dest, "raw", 5), as.raw(1:5))
})

test_that("an error body never lands in dest", {
  local_fast_http()
  dest <- withr::local_tempfile()
  resp <- ec5_request(web$url("/status/404"), query = list(code = "ec5_69"), dest = dest)
  expect_identical(resp$status, 404L)
  expect_false(file.exists(dest))
  expect_match(rawToChar(resp$body), "ec5_69")
})

test_that("a failed transfer removes the partial dest file", {
  raw <- local_raw_server()
  local_fast_http(epicollect5.max_tries = 2)
  dest <- withr::local_tempfile()
  expect_error(ec5_request(raw$url("/truncated"), dest = dest), class = "ec5_error_transport")
  expect_false(file.exists(dest))
})

test_that("an unwritable dest is an io error", {
  local_fast_http()
  dest <- file.path(withr::local_tempdir(), "no", "such", "dir", "f.bin")
  expect_error(ec5_request(web$url("/bytes/10"), dest = dest), class = "ec5_error_io")
})

test_that("an empty 2xx body still creates dest", {
  local_fast_http()
  dest <- withr::local_tempfile()
  resp <- ec5_request(web$url("/bytes/0"), dest = dest)
  expect_true(file.exists(dest))
  expect_identical(file.size(dest), 0)
})

test_that("redirects are followed, and Authorization never goes to another host", {
  local_fast_http()
  same <- resp_json(ec5_request(web$url("/redirect/same"), token = "tok-same"))
  expect_identical(same$path, "/echo")
  expect_identical(same$authorization, "Bearer tok-same")
  resp <- ec5_request(web$url("/redirect/cross"), token = "tok-cross")
  expect_match(resp$url, "^http://localhost:")
  cross <- resp_json(resp)
  expect_identical(cross$path, "/echo")
  expect_identical(cross$authorization, "")
})

test_that("endless redirects are a transport error", {
  local_fast_http()
  expect_error(ec5_request(web$url("/redirect/loop")), class = "ec5_error_transport")
})

test_that("a server redirecting a trailing slash is never asked with one", {
  local_fast_http()
  app_reset(web)
  ec5_request(web$url("/trailing/"))
  expect_identical(app_hits(web, "/trailing/"), 0L)
  expect_identical(app_hits(web, "/trailing"), 1L)
})

test_that("HTTPS certificates are checked", {
  local_fast_http(epicollect5.max_tries = 1)
  skip_if_not_installed("webfakes")
  cert <- system.file("cert/localhost/server.pem", package = "webfakes")
  https <- webfakes::local_app_process(
    http_test_app(),
    port = "0s",
    opts = webfakes::server_opts(remote = TRUE, ssl_certificate = cert, num_threads = 2)
  )
  expect_match(https$url("/echo"), "^https://")
  expect_error(ec5_request(https$url("/echo")), class = "ec5_error_transport")
  # With the self-signed certificate trusted, the same request works.
  withr::local_envvar(CURL_CA_BUNDLE = cert)
  expect_identical(ec5_request(https$url("/echo"))$status, 200L)
})

test_that("verbose output shows headers with the Authorization blanked", {
  tmp <- withr::local_tempfile()
  callr::r(function(url) {
    options(epicollect5.http_verbose = TRUE)
    epicollect5:::ec5_request(url, token = "very-secret-token")
    invisible()
  }, args = list(url = web$url("/echo")), stderr = tmp)
  text <- paste(readLines(tmp), collapse = "\n")
  expect_match(text, "> GET /echo", fixed = TRUE)
  expect_match(text, "Authorization: <redacted>", fixed = TRUE)
  expect_match(text, "< HTTP/1.1 200", fixed = TRUE)
  expect_no_match(text, "very-secret-token")
})

# Runs a request for `path` in another R process, interrupts it (SIGINT, as
# Esc or Ctrl-C would) 0.5 s after the server has seen it, and returns what
# happened there. Waiting for the server, not for a fixed time, keeps the
# interrupt from arriving before the request when R starts slowly (as under
# tools/sanitize.sh and tools/valgrind.sh).
interrupt_request <- function(path, dest = NULL, options = list()) {
  app_reset(web)
  proc <- callr::r_bg(function(url, dest, options) {
    options(c(list(epicollect5.verbose = FALSE), options))
    loadNamespace("epicollect5")
    start <- Sys.time()
    outcome <- tryCatch(
      {
        epicollect5:::ec5_request(url, dest = dest)
        "finished"
      },
      interrupt = function(e) "interrupted"
    )
    list(outcome = outcome, elapsed = as.numeric(Sys.time() - start, units = "secs"))
  }, args = list(url = web$url(path), dest = dest, options = options))
  deadline <- Sys.time() + 60
  while (app_hits(web, path) < 1L && proc$is_alive() && Sys.time() < deadline) Sys.sleep(0.1)
  Sys.sleep(0.5)
  proc$interrupt()
  proc$wait(20000)
  proc$get_result()
}

test_that("an interrupt stops a transfer at once and removes the partial file", {
  skip_on_os("windows")
  dest <- file.path(withr::local_tempdir(), "partial.bin")
  result <- interrupt_request("/slow/10", dest = dest)
  expect_identical(result$outcome, "interrupted")
  expect_lt(result$elapsed, 4)
  expect_false(file.exists(dest))
})

test_that("an interrupt during a Retry-After wait is seen within a slice", {
  skip_on_os("windows")
  result <- interrupt_request("/429/30/interrupt")
  expect_identical(result$outcome, "interrupted")
  expect_lt(result$elapsed, 4)
  expect_identical(app_hits(web, "/429/30/interrupt"), 1L)
})

test_that("ec5 error bodies become classed errors", {
  local_fast_http()
  check <- function(path, code = NULL, what = "request") {
    resp <- ec5_request(web$url(path), query = list(code = code))
    ec5_response_check(resp, what = what)
  }
  expect_error(check("/status/404", "ec5_11"), class = "ec5_error_not_found")
  expect_error(check("/status/404", "ec5_256"), class = "ec5_error_auth")
  expect_error(check("/status/404", "ec5_252"), class = "ec5_error_server")
  expect_error(check("/status/400", "ec5_335"), class = "ec5_error_bad_request")
  expect_error(check("/status/422", "ec5_219"), class = "ec5_error_bad_request")
  err <- expect_error(check("/status/404", "ec5_11", "entries request"), class = "ec5_error")
  expect_identical(err$status, 404L)
  expect_identical(err$code, "ec5_11")
  expect_snapshot(check("/status/404", "ec5_11", "entries request"),
    error = TRUE,
    transform = function(x) gsub("127\\.0\\.0\\.1:[0-9]+", "127.0.0.1:<port>", x)
  )
})

test_that("an error body field R cannot hold reads as empty, the others as sent", {
  # Found by tools/fuzz/run.sh: a `\u0000` in a title was an internal error.
  errors <- function(json) response_errors(list(body = charToRaw(json)))
  nul <- '{"errors":[{"code":"ec5_27","title":"Number form\\u0000at.","source":"pue"}]}'
  expect_identical(errors(nul), list(code = "ec5_27", title = "", source = "pue"))
  latin1 <- c(charToRaw('{"errors":[{"code":"ec5_11","title":"'), as.raw(0xe9), charToRaw('"}]}'))
  expect_identical(response_errors(list(body = latin1)), list(code = "ec5_11", title = "", source = ""))
  expect_identical(errors('{"errors":[{"title":"caf\\u00e9"}]}')$title, "caf\u00e9")
  expect_null(errors('{"errors":[]}'))
  expect_null(errors("<html></html>"))
})

test_that("a 429 after the retries says when to come back", {
  local_fast_http(epicollect5.retry_after_cap = 5)
  app_reset(web)
  resp <- ec5_request(web$url("/429/30/f"))
  err <- expect_error(ec5_response_check(resp, "entries request"), class = "ec5_error_rate_limited")
  expect_match(conditionMessage(err), "wait 30 seconds")
})

test_that("an HTML error page is recognised", {
  local_fast_http(epicollect5.max_tries = 1)
  resp <- ec5_request(web$url("/html/502"))
  expect_snapshot(ec5_response_check(resp, "entries request"),
    error = TRUE,
    transform = function(x) gsub("127\\.0\\.0\\.1:[0-9]+", "127.0.0.1:<port>", x)
  )
})

test_that("malformed requests are refused before any transfer", {
  expect_error(cpp_check(http_perform_cpp(list(url = "http://x", method = "PUT"))),
    class = "ec5_error_argument"
  )
  expect_error(cpp_check(http_perform_cpp(list(method = "GET"))), class = "ec5_error_argument")
  expect_error(cpp_check(http_perform_cpp(list(url = "http://x", body = "text"))),
    class = "ec5_error_argument"
  )
  expect_error(cpp_check(http_perform_cpp(list(url = "http://x", options = list(on_wait = 1)))),
    class = "ec5_error_argument"
  )
  expect_error(cpp_check(http_perform_cpp("http://x")), class = "ec5_error_argument")
})

test_that("only http and https are spoken", {
  local_fast_http(epicollect5.max_tries = 1)
  expect_error(ec5_request("file:///etc/passwd"), class = "ec5_error_transport")
})

test_that("transport settings come from checked options", {
  withr::local_options(epicollect5.timeout = -1)
  expect_error(http_options(), class = "ec5_error_argument")
  withr::local_options(epicollect5.timeout = NULL, epicollect5.backoff = 1)
  expect_error(http_options(), class = "ec5_error_argument")
  withr::local_options(epicollect5.backoff = NULL)
  opts <- http_options()
  expect_identical(opts$connect_timeout, 30)
  expect_identical(opts$low_speed_time, 60)
  expect_identical(opts$low_speed_limit, 1024)
  withr::local_options(epicollect5.min_speed = 0)
  expect_error(http_options(), class = "ec5_error_argument")
  withr::local_options(epicollect5.min_speed = 10)
  expect_identical(http_options()$low_speed_limit, 10)
  expect_identical(opts$retry_after_cap, 180)
})

test_that("the Date header is read as the server's clock, NA when it cannot be", {
  date <- function(value) epicollect5:::response_date(list(headers = c(date = value)))
  expect_identical(date("Sun, 06 Nov 1994 08:49:37 GMT"), as.numeric(as.POSIXct("1994-11-06 08:49:37", tz = "UTC")))
  expect_identical(date("Sunday, 06-Nov-94 08:49:37 GMT"), NA_real_)
  expect_identical(date("Sun, 06 Foo 1994 08:49:37 GMT"), NA_real_)
  expect_identical(epicollect5:::response_date(list(headers = c(server = "x"))), NA_real_)
})
