# Progress (R/progress.R): the mode, the cadence of log lines and the time
# left on an injected clock; then real runs: a script run by Rscript into a
# log file against the local server with rate-limit waits, and a knitted
# document.

# Progress in `mode` ("live", "log" or "silent"), on a clock the test moves.
local_progress <- function(mode = "log", .local_envir = parent.frame()) {
  withr::local_options(
    epicollect5.verbose = if (mode == "silent") FALSE,
    knitr.in.progress = NULL,
    cli.dynamic = mode == "live",
    cli.progress_show_after = 2,
    .local_envir = .local_envir
  )
  progress_state$now <- 0
  progress_state$waits <- NULL
  withr::defer(
    {
      progress_state$now <- NULL
      progress_state$waits <- NULL
      progress_state$tasks <- list()
    },
    envir = .local_envir
  )
  progress_state
}

# The messages of `expr`, one element per message.
progress_messages <- function(expr) {
  lines <- character()
  withCallingHandlers(expr, message = function(m) {
    lines <<- c(lines, sub("\n$", "", conditionMessage(m)))
    invokeRestart("muffleMessage")
  })
  lines
}

# A fetch of 14 pages, half a second each, with a `wait`-second pause
# before page 4 reported as C++ reports it (every 0.25 s, then 0).
simulated_fetch <- function(clock, wait = 61, pace = NULL) {
  task <- progress_start("p / Form", "page", pace = pace)
  report <- wait_reporter()
  for (page in 1:14) {
    if (page == 4) {
      for (left in seq(wait, 0.25, by = -0.25)) {
        report(left, "the server's rate limit for entries requests")
        clock$now <- clock$now + 0.25
      }
      report(0, "the server's rate limit for entries requests")
    }
    clock$now <- clock$now + 0.5
    progress_step(task, page, 14, detail = sprintf("%d of 140 entries", page * 10))
  }
  progress_end(task)
}

test_that("the mode follows the terminal, the verbose option and knitting", {
  withr::local_options(epicollect5.verbose = NULL, knitr.in.progress = NULL, cli.dynamic = TRUE)
  expect_identical(progress_mode(), "live")
  withr::local_options(cli.dynamic = FALSE)
  expect_identical(progress_mode(), "log")
  withr::local_options(knitr.in.progress = TRUE)
  expect_identical(progress_mode(), "silent")
  expect_null(wait_reporter())
  withr::local_options(knitr.in.progress = NULL, epicollect5.verbose = FALSE)
  expect_identical(progress_mode(), "silent")
  expect_null(wait_reporter())
})

test_that("a log gets a line a minute at most, however long the waits", {
  clock <- local_progress("log")
  lines <- progress_messages(simulated_fetch(clock, wait = 61))
  # 244 wait reports and 14 pages: the first line, one a minute later, the summary.
  expect_length(lines, 3)
  expect_snapshot(writeLines(lines))
  # A short fetch writes nothing at all.
  quick <- progress_messages({
    task <- progress_start("p / Form", "page")
    for (page in 1:3) progress_step(task, page, 3)
    progress_end(task)
  })
  expect_length(quick, 0)
})

test_that("a wait that makes a quiet task long is announced once, with its length", {
  clock <- local_progress("log")
  lines <- progress_messages({
    task <- progress_start("p / Form", "page")
    progress_step(task, 1, 2)
    report <- wait_reporter()
    for (left in c(120, 119.75, 119.5)) report(left, "the server's rate limit for entries requests")
    clock$now <- 120
    report(0, "the server's rate limit for entries requests")
    progress_step(task, 2, 2)
    progress_end(task)
  })
  expect_length(lines, 2)
  expect_match(lines[1], "p / Form: page 1 of 2; about 2m left, waiting 2m for the server's rate limit for entries requests")
  expect_match(lines[2], "^p / Form: 2 pages in 2m")
})

test_that("waits outside a task get a line of their own, a minute apart", {
  clock <- local_progress("log")
  report <- wait_reporter()
  wait <- function(seconds) {
    for (left in seq(seconds, 0.25, by = -0.25)) {
      report(left, "the server's rate limit for project requests")
      clock$now <- clock$now + 0.25
    }
    report(0, "the server's rate limit for project requests")
  }
  lines <- progress_messages({
    wait(0.5)
    wait(61)
    wait(30)
    wait(20)
  })
  # Not the half-second wait; the 20-second one comes within the minute.
  expect_identical(lines, c(
    "Waiting 1m 1s for the server's rate limit for project requests",
    "Waiting 30s for the server's rate limit for project requests"
  ))
})

test_that("the time left counts the rate-limit waits ahead", {
  clock <- local_progress("log")
  cpp_check(limiter_reset_cpp())
  cpp_check(limiter_set_clock_cpp(1000))
  withr::defer({
    limiter_set_clock_cpp(NA_real_)
    limiter_reset_cpp()
  })
  pace <- list(base_url = "http://p.test", slug = "p", class = "entries")
  limiter <- ec5_limiter("http://p.test", "p", "entries")
  for (i in 1:5) cpp_check(limiter_record_cpp(limiter, NA_real_, NA_real_, NA_real_))
  task <- progress_start("p / Form", "page", pace = pace)
  clock$now <- 2.5
  progress_messages(progress_step(task, 5, 14))
  # Nine pages at 0.5 s, and two waits for a 60 s window (plus its margin):
  # the rest of this window, then one more; not 9 x 0.5 s.
  expect_equal(progress_eta(task), 9 * 0.5 + 61 + 61)
  expect_match(progress_text(task), "about 2m 7s left")
  # During the wait the estimate is the wait and what follows it.
  progress_wait(task, 61, "the server's rate limit for entries requests")
  expect_match(progress_text(task), "about 2m 7s left, waiting 1m 1s for the server's rate limit for entries requests")
  progress_messages(progress_end(task))
  # Without a bucket, the pace of the transfers alone.
  plain <- progress_start("p / Form", "page")
  clock$now <- 5
  progress_messages(progress_step(plain, 5, 14))
  expect_equal(progress_eta(plain), 9 * (2.5 / 5))
  progress_messages(progress_end(plain))
})

test_that("ending a task twice, or after an error, leaves no task behind", {
  clock <- local_progress("live")
  run <- function() {
    task <- progress_start("p / Form", "page")
    on.exit(progress_end(task))
    progress_step(task, 1, 5)
    stop("boom")
  }
  expect_error(run(), "boom")
  expect_length(progress_state$tasks, 0)
  task <- progress_start("p / Form", "page")
  progress_end(task)
  expect_silent(progress_end(task))
  expect_length(progress_state$tasks, 0)
})

test_that("durations are short and rounded up", {
  expect_identical(format_duration(c(41.2)), "42s")
  expect_identical(format_duration(127), "2m 7s")
  expect_identical(format_duration(600), "10m")
  expect_identical(format_duration(7200), "2h")
  expect_identical(format_duration(3900), "1h 5m")
  expect_identical(format_duration(Inf), "an unknown time")
})

# A script run as `Rscript job.R > job.log 2>&1` against the local server:
# an entries fetch that waits for the rate limit, then a media download
# paced by the public media limit. `terminal` makes cli take the output for
# a terminal that redraws lines (and redraw every 0.1 s, as it does in one).
run_logged_job <- function(srv, terminal = FALSE) {
  script <- withr::local_tempfile(fileext = ".R")
  log <- withr::local_tempfile(fileext = ".log")
  writeLines(c(
    if (terminal) "options(cli.dynamic = TRUE, cli.width = 250)",
    "library(epicollect5)",
    "options(epicollect5.rate_limits = list(entries = c(3, 4)))",
    sprintf("url <- '%s'", srv$url),
    "x <- ec5_entries('ec5-demo', per_page = 10, base_url = url)",
    "cat('rows', nrow(x), '\\n')",
    "students <- ec5_entries('ec5-demo', form = 'Student', max_entries = 20, base_url = url)",
    "m <- ec5_media_download(students, tempfile(), base_url = url)",
    "cat('files', nrow(m), '\\n')"
  ), script)
  status <- system(paste(
    if (terminal) "CLI_TICK_TIME=100",
    shQuote(file.path(R.home("bin"), "Rscript")), shQuote(script), ">", shQuote(log), "2>&1"
  ))
  # Lines end at "\n" only: a live line redraws itself after "\r".
  text <- readChar(log, file.size(log), useBytes = TRUE)
  expect_identical(status, 0L, label = text)
  strsplit(text, "\n", fixed = TRUE)[[1]]
}

test_that("a job's log gets a few lines, not one per wait report", {
  skip_on_cran()
  skip_on_os("windows")
  srv <- local_ec5_server(limits = component$srv_limits("code", entries = c(3, 4)))
  lines <- run_logged_job(srv)
  expect_true(any(startsWith(lines, "rows 60")))
  # Each task (two fetches and the download) writes a line once it has run
  # two seconds and a summary, for waits of seconds reported every 0.25 s.
  for (task in c("ec5-demo / University", "ec5-demo / Student", "ec5-demo media")) {
    mine <- lines[startsWith(lines, task)]
    expect_lte(length(mine), 2)
  }
  university <- lines[startsWith(lines, "ec5-demo / University")]
  expect_match(university[length(university)], "^ec5-demo / University: [0-9]+ pages in .*, 60 of 60 entries$")
  # Waits stay inside their task's lines; none has a line of its own.
  expect_false(any(grepl("^Waiting", lines)))
  expect_lte(length(lines), 2 + 3 * 2)
})

test_that("knitting shows no progress, even through rate-limit waits", {
  skip_on_cran()
  skip_if_not_installed("knitr")
  srv <- local_ec5_server(limits = component$srv_limits("code", entries = c(3, 4)))
  withr::local_options(
    epicollect5.verbose = NULL, cli.dynamic = FALSE, cli.progress_show_after = 0,
    epicollect5.rate_limits = list(entries = c(3, 4))
  )
  rmd <- withr::local_tempfile(fileext = ".Rmd")
  md <- withr::local_tempfile(fileext = ".md")
  writeLines(c(
    "```{r}",
    sprintf("x <- epicollect5::ec5_entries('ec5-demo', per_page = 10, base_url = '%s')", srv$url),
    sprintf("m <- epicollect5::ec5_media_download(epicollect5::ec5_entries('ec5-demo', form = 'Student', max_entries = 10, base_url = '%s'), tempfile(), base_url = '%s')", srv$url, srv$url),
    "nrow(x)",
    "```"
  ), rmd)
  out <- capture.output(knitr::knit(rmd, md, quiet = TRUE), type = "message")
  # The chunk's only output is its value: no progress, wait or summary.
  text <- readLines(md)
  expect_identical(text[startsWith(text, "## ")], "## [1] 60")
  expect_length(out, 0)
})

test_that("a terminal gets one live line per task, with the waits inside it", {
  skip_on_cran()
  skip_on_os("windows")
  srv <- local_ec5_server(limits = component$srv_limits("code", entries = c(3, 4)))
  lines <- run_logged_job(srv, terminal = TRUE)
  # Every redraw returns to the start of the line; the only new lines are
  # the script's own output.
  own <- sub("^.*\r", "", lines, useBytes = TRUE)
  own <- own[nzchar(own)]
  expect_length(own, 2)
  expect_match(own[1], "^rows 60")
  expect_match(own[2], "^files [0-9]+")
  frames <- trimws(unlist(strsplit(lines, "\r")))
  waits <- grep("waiting", frames, value = TRUE)
  expect_true(any(grepl("ec5-demo / University: page [0-9]+ of [0-9]+, [0-9]+ of 60 entries .*waiting [0-9]+s for the server's rate limit for entries requests", waits)))
  expect_true(any(grepl("ec5-demo media: file [0-9]+ of [0-9]+ .*waiting 1s for the server's rate limit for public_media requests", waits)))
  expect_false(any(grepl("Waiting", frames)))
})
