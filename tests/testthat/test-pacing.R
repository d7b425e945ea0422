# The limiter's decisions, on an injected clock (no sleeping), then one short
# end-to-end run against a server that enforces a limit.

local_fake_clock <- function(start = 1000, .local_envir = parent.frame()) {
  cpp_check(limiter_reset_cpp())
  cpp_check(limiter_set_clock_cpp(start))
  withr::defer(
    {
      limiter_set_clock_cpp(NA_real_)
      limiter_reset_cpp()
    },
    envir = .local_envir
  )
  clock <- new.env()
  clock$now <- start
  clock$advance <- function(seconds) {
    clock$now <- clock$now + seconds
    cpp_check(limiter_set_clock_cpp(clock$now))
  }
  clock
}

spec <- function(requests = 5, seconds = 60, user = FALSE, class = "entries", key = "s|p|entries") {
  list(key = key, class = class, requests = requests, seconds = seconds, user = user)
}

delay <- function(s) cpp_check(limiter_delay_cpp(s))
hit <- function(s, remaining = NA_real_, limit = NA_real_, retry_after = NA_real_) {
  cpp_check(limiter_record_cpp(s, remaining, limit, retry_after))
}

# Sends `n` requests as fast as the limiter allows, each taking `latency`
# seconds; returns the send times.
burst <- function(clock, s, n, latency = 0.2) {
  sent <- numeric(n)
  for (i in seq_len(n)) {
    clock$advance(delay(s))
    sent[[i]] <- clock$now
    clock$advance(latency)
    hit(s)
  }
  sent
}

test_that("a new bucket sends at once", {
  local_fake_clock()
  expect_identical(delay(spec()), 0)
})

test_that("a burst uses the whole window, then waits for the next one", {
  clock <- local_fake_clock(start = 0)
  s <- spec(requests = 5, seconds = 60)
  sent <- burst(clock, s, 11, latency = 0.2)
  # Five back to back, not spaced evenly.
  expect_equal(diff(sent[1:5]), rep(0.2, 4))
  # The sixth waits for the window (opened when the first answer came back,
  # at 0.2) plus the one-second margin.
  expect_equal(sent[[6]], 0.2 + 60 + 1)
  expect_equal(diff(sent[6:10]), rep(0.2, 4))
  expect_equal(sent[[11]], sent[[6]] + 0.2 + 61)
})

test_that("the minimum wall time for N requests is what the windows allow", {
  clock <- local_fake_clock(start = 0)
  sent <- burst(clock, spec(requests = 5, seconds = 60), 20, latency = 0.1)
  # 20 requests at 5 per window: four windows, three waits of about 61 s.
  expect_lt(max(sent), 3 * 61.5)
  expect_gt(max(sent), 3 * 60)
})

test_that("the waits ahead of N requests are the waits a burst of them meets", {
  ahead <- function(s, n) cpp_check(limiter_wait_ahead_cpp(s, n))
  # Sends `n` requests without transfer time; the seconds spent waiting.
  waits <- function(clock, s, n) {
    total <- 0
    for (i in seq_len(n)) {
      d <- delay(s)
      total <- total + d
      clock$advance(d)
      hit(s)
    }
    total
  }
  clock <- local_fake_clock(start = 0)
  s <- spec(requests = 5, seconds = 60)
  expect_identical(ahead(s, 0), 0)
  expect_identical(ahead(s, 5), 0)
  expect_equal(ahead(s, 12), 2 * 61)
  for (n in c(1, 4, 5, 6, 9, 14)) {
    waits(clock, s, 3)
    clock$advance(7)
    predicted <- ahead(s, n)
    expect_equal(waits(clock, s, n), predicted, label = paste(n, "requests"))
    clock$advance(200)
  }
  # A 429 empties the bucket until its window ends.
  hit(s, retry_after = 30)
  expect_equal(ahead(s, 1), 31)
  expect_equal(ahead(s, 6), 31 + 61)
  # The server's lower limit counts too.
  low <- spec(requests = 5, seconds = 60, key = "s|low|entries")
  hit(low, remaining = 1, limit = 2)
  expect_equal(ahead(low, 2), 61)
  expect_equal(ahead(low, 4), 61 + 61)
})

test_that("a Remaining lower than our own count makes us wait earlier", {
  clock <- local_fake_clock()
  s <- spec(requests = 5, seconds = 60)
  hit(s, remaining = 1, limit = 5) # someone else used three already
  expect_identical(delay(s), 0)
  clock$advance(1)
  hit(s, remaining = 0, limit = 5)
  expect_equal(delay(s), 60)
})

test_that("the server's X-RateLimit-Limit replaces the published one", {
  clock <- local_fake_clock()
  s <- spec(requests = 5, seconds = 60)
  for (i in 1:5) hit(s, remaining = 60 - i, limit = 60)
  expect_identical(delay(s), 0)
  s_low <- spec(requests = 5, seconds = 60, key = "s|q|entries")
  hit(s_low, remaining = 1, limit = 2)
  hit(s_low, remaining = 0, limit = 2)
  expect_gt(delay(s_low), 59)
})

test_that("a limit the user set is a ceiling the server cannot raise", {
  local_fake_clock()
  s <- spec(requests = 2, seconds = 60, user = TRUE)
  hit(s, remaining = 59, limit = 60)
  expect_identical(delay(s), 0)
  hit(s, remaining = 58, limit = 60)
  expect_gt(delay(s), 59)
})

test_that("a 429 blocks the bucket for Retry-After plus the margin", {
  clock <- local_fake_clock()
  s <- spec(requests = 5, seconds = 60)
  hit(s, remaining = 0, limit = 5, retry_after = 17)
  expect_equal(delay(s), 18)
  clock$advance(10)
  expect_equal(delay(s), 8)
  clock$advance(8)
  expect_identical(delay(s), 0)
  # After the block a fresh window opens.
  hit(s, remaining = 4, limit = 5)
  expect_identical(delay(s), 0)
})

test_that("a server window that restarted before ours is followed", {
  clock <- local_fake_clock()
  s <- spec(requests = 5, seconds = 60)
  for (i in 1:4) hit(s, remaining = 5 - i, limit = 5)
  clock$advance(30)
  # The server says only one hit is counted: its window restarted just now,
  # so ours must restart too rather than reopen in 30 s.
  hit(s, remaining = 4, limit = 5)
  for (i in 1:4) hit(s, remaining = 4 - i, limit = 5)
  expect_equal(delay(s), 61)
})

test_that("buckets are separate per key", {
  local_fake_clock()
  a <- spec(requests = 1, key = "s|a|entries")
  b <- spec(requests = 1, key = "s|b|entries")
  hit(a)
  expect_gt(delay(a), 0)
  expect_identical(delay(b), 0)
})

test_that("the state lists buckets and resets", {
  local_fake_clock()
  hit(spec(requests = 5))
  hit(spec(requests = 5), remaining = 2, limit = 5)
  state <- ec5_pacing_state()
  expect_identical(state$server, "s")
  expect_identical(state$project, "p")
  expect_identical(state$class, "entries")
  expect_equal(state$used, 3)
  expect_equal(state$server_limit, 5)
  expect_equal(state$resets_in, 61)
  cpp_check(limiter_reset_cpp())
  expect_identical(nrow(ec5_pacing_state()), 0L)
})

test_that("limits come from the published table and the option", {
  withr::local_options(epicollect5.rate_limits = NULL)
  limiter <- ec5_limiter("https://five.epicollect.net", "my-project", "entries")
  expect_identical(limiter$key, "https://five.epicollect.net|my-project|entries")
  expect_identical(c(limiter$requests, limiter$seconds), c(5, 60))
  expect_false(limiter$user)
  expect_identical(ec5_limiter("https://x", NULL, "token")$key, "https://x||token")
  expect_identical(ec5_limiter("https://x", NULL, "token")$seconds, 3600)
  withr::local_options(epicollect5.rate_limits = list(entries = c(3, 60)))
  limiter <- ec5_limiter("https://x", "p", "entries")
  expect_identical(c(limiter$requests, limiter$seconds), c(3, 60))
  expect_true(limiter$user)
  expect_false(ec5_limiter("https://x", "p", "media")$user)
})

test_that("a malformed rate-limit option is an argument error", {
  withr::local_options(epicollect5.rate_limits = list(entries = 3))
  expect_error(ec5_rate_limits(), class = "ec5_error_argument")
  withr::local_options(epicollect5.rate_limits = list(entrys = c(3, 60)))
  expect_snapshot(ec5_rate_limits(), error = TRUE)
  withr::local_options(epicollect5.rate_limits = list(entries = c(0, 60)))
  expect_error(ec5_rate_limits(), class = "ec5_error_argument")
})

test_that("a malformed limiter is refused by C++", {
  expect_error(cpp_check(limiter_delay_cpp(list(key = "k"))), class = "ec5_error_argument")
})

test_that("a burst against a server enforcing a short window gets no 429", {
  web <- local_http_app()
  local_fast_http(epicollect5.rate_limits = list(entries = c(3, 2)))
  cpp_check(limiter_reset_cpp())
  withr::defer(limiter_reset_cpp())
  start <- Sys.time()
  statuses <- vapply(1:7, function(i) {
    ec5_request(web$url("/limited/3/2"), pace = list(slug = "burst", class = "entries"))$status
  }, integer(1))
  elapsed <- as.numeric(Sys.time() - start, units = "secs")
  expect_identical(statuses, rep(200L, 7))
  expect_identical(app_hits(web, "429"), 0L)
  expect_identical(app_hits(web, "/limited/3/2"), 7L)
  # Three windows of 2 s (+0.2 s margin each): at least 4 s, not whole extra windows.
  expect_gt(elapsed, 4)
  expect_lt(elapsed, 8)
})
