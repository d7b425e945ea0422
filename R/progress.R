# Progress: the one owner of what a fetch or a download shows while it runs,
# where it shows it and how often. Fetches (R/entries.R, R/paging.R) and the
# media download (R/media.R) start a task and report its steps (pages,
# files); waits (pacing, back-off, Retry-After) are reported by C++ through
# wait_reporter() to the innermost running task, or as a task of their own
# when none runs (a definition request, a token).
#
# The mode is decided when a task starts:
#   live    a terminal that redraws a line (cli::is_dynamic_tty()): one cli
#           progress line per task (pages or files, entries, a bar, the time
#           left); waits are shown inside it, never on lines of their own.
#   log     output that cannot redraw (`Rscript job.R > job.log 2>&1`, a
#           scheduler, a console without cursor control): plain messages (class
#           `ec5_message_progress`), at most one per step and one per minute,
#           whichever is rarer. The first comes once the task has run for
#           `cli.progress_show_after` seconds (2) or starts a wait that
#           takes it past them; a task that wrote any ends with a summary.
#   silent  `options(epicollect5.verbose = FALSE)`, or a document being knitted.
#
# The time left counts the waits ahead: the steps left at the pace of the
# transfers so far, plus the pacing waits the rate-limit bucket will impose
# on them (pacing_wait_ahead(), R/pacing.R) or the wait in progress,
# whichever is longer.

progress_state <- new.env(parent = emptyenv())
progress_state$tasks <- list()

# Seconds between two lines of one task in a log.
progress_log_every <- 60

# Progress and messages are shown unless the user silenced them or a
# document is being knitted.
ec5_is_verbose <- function() {
  !identical(getOption("epicollect5.verbose"), FALSE) &&
    !isTRUE(getOption("knitr.in.progress"))
}

progress_mode <- function() {
  if (!ec5_is_verbose()) {
    return("silent")
  }
  if (cli::is_dynamic_tty()) "live" else "log"
}

# Seconds; tests set `progress_state$now` to move time themselves (as
# src/pacing.cpp lets them for the limiter).
progress_now <- function() {
  progress_state$now %||% as.numeric(Sys.time())
}

# A task: `label` names it ("ec5-demo / Student"), `unit` its steps
# ("page", "file"); `pace` is list(base_url, slug, class) of the rate-limit
# bucket its steps use, or NULL. It is the innermost task until
# progress_end().
progress_start <- function(label, unit, pace = NULL) {
  task <- progress_task(label, unit, pace)
  progress_state$tasks <- c(progress_state$tasks, list(task))
  task
}

progress_task <- function(label, unit, pace = NULL) {
  task <- new.env(parent = emptyenv())
  task$label <- label
  task$unit <- unit
  task$pace <- pace
  task$mode <- progress_mode()
  task$started <- progress_now()
  task$waited <- 0
  task$wait <- NULL
  task$done <- 0
  task$total <- NA_real_
  task$left <- NA_real_
  task$detail <- NULL
  # cli evaluates the bar's format in this environment.
  task$cli <- new.env(parent = baseenv())
  task$bar <- NULL
  task$lines <- 0L
  task$last_line <- NA_real_
  task$ended <- FALSE
  task
}

# Waits outside any task share one task without a label, so that a log
# gets at most a line a minute from them too; each wait is shown alone.
progress_waits <- function() {
  progress_state$waits <- progress_state$waits %||% progress_task(NULL, "wait")
  progress_state$waits
}

# `done` of `total` steps (NA: unknown), `left` requests still to send (the
# steps left, unless some need none), `detail` ("16 of 60 entries").
progress_step <- function(task, done, total, left = total - done, detail = NULL) {
  task$done <- done
  task$total <- total
  task$left <- left
  task$detail <- detail
  if (task$mode == "live") {
    progress_live(task)
  } else if (task$mode == "log" && isTRUE(done < total) && progress_log_due(task)) {
    progress_log_line(task)
  }
  invisible(task)
}

# A wait of the task: called as it starts and as it passes with the seconds
# remaining, and with 0 when it is over.
progress_wait <- function(task, seconds, reason) {
  alone <- is.null(task$label)
  if (seconds <= 0) {
    if (!is.null(task$wait)) {
      task$waited <- task$waited + progress_now() - task$wait$started
      task$wait <- NULL
      if (alone) progress_clear(task) else if (task$mode == "live") progress_live(task)
    }
    return(invisible(task))
  }
  starting <- is.null(task$wait)
  if (starting) {
    task$wait <- list(started = progress_now(), reason = reason)
    if (alone) {
      task$mode <- progress_mode()
      task$started <- task$wait$started
    }
  }
  task$wait$seconds <- seconds
  if (task$mode == "live") {
    progress_live(task)
  } else if (task$mode == "log" && starting && progress_log_due(task, upcoming = seconds)) {
    progress_log_line(task)
  }
  invisible(task)
}

# Ends the task (once; on.exit() of its caller, so an error ends it too):
# the live line is cleared, a log that showed the task gets its summary.
progress_end <- function(task) {
  if (task$ended) {
    return(invisible(task))
  }
  task$ended <- TRUE
  progress_state$tasks <- Filter(function(t) !identical(t, task), progress_state$tasks)
  progress_clear(task)
  if (task$mode == "log" && task$lines > 0L) {
    progress_message(progress_summary(task))
  }
  invisible(task)
}

progress_clear <- function(task) {
  if (!is.null(task$bar)) {
    cli::cli_progress_done(id = task$bar, .envir = task$cli)
    task$bar <- NULL
  }
}

# The reporter C++ calls during a wait (src/http_wait.cpp: at most every
# 0.25 s, and once with 0 when it is over), or NULL when nothing is shown.
wait_reporter <- function() {
  if (!ec5_is_verbose()) {
    return(NULL)
  }
  function(seconds, reason) {
    tasks <- progress_state$tasks
    task <- if (length(tasks)) tasks[[length(tasks)]] else progress_waits()
    progress_wait(task, seconds, reason)
    invisible()
  }
}

# Whether a log line may be written now: once the task has run long enough
# to be worth one (or is about to, by a wait of `upcoming` seconds), and a
# minute after the previous line.
progress_log_due <- function(task, upcoming = 0) {
  now <- progress_now()
  long <- now - task$started + upcoming >= getOption("cli.progress_show_after", 2)
  long && (task$lines == 0L || now - task$last_line >= progress_log_every)
}

progress_log_line <- function(task) {
  task$lines <- task$lines + 1L
  task$last_line <- progress_now()
  progress_message(progress_text(task))
}

progress_message <- function(text) {
  rlang::inform(text, class = "ec5_message_progress")
}

# The one live line, drawn by cli (which also decides how often to redraw):
# created once the task has more than one step or waits more than a second.
# What a narrow console cuts is the end: the wait's reason.
progress_live <- function(task) {
  if (is.null(task$bar) && !isTRUE(task$total > 1) && !isTRUE(task$wait$seconds > 1)) {
    return(invisible())
  }
  extra <- progress_parts(task)
  extra$text <- progress_text(task, extra)
  if (is.null(task$bar)) {
    task$bar <- cli::cli_progress_bar(
      format = if (is.na(task$total)) {
        "{cli::pb_spin} {cli::pb_extra$text}"
      } else {
        "{cli::pb_spin} {cli::pb_extra$head} {cli::pb_bar} {cli::pb_extra$status}"
      },
      total = task$total, extra = extra, clear = TRUE,
      auto_terminate = FALSE, .auto_close = FALSE, .envir = task$cli
    )
  }
  cli::cli_progress_update(
    set = task$done, total = task$total, extra = extra, id = task$bar, .envir = task$cli
  )
  invisible()
}

# "ec5-demo / Student: page 5 of 14, 16 of 60 entries; about 2m left,
# waiting 58s for the server's rate limit for entries requests"; a wait
# outside any task: "Waiting 58s for the server's rate limit ...".
progress_text <- function(task, parts = progress_parts(task)) {
  if (nzchar(parts$status)) paste0(parts$head, "; ", parts$status) else parts$head
}

# The text in two parts: what is done (`head`) and the `status` (time
# left, the wait in progress), between which a live line puts its bar.
progress_parts <- function(task) {
  wait <- task$wait
  if (is.null(task$label)) {
    return(list(head = paste("Waiting", format_duration(wait$seconds), "for", wait$reason), status = ""))
  }
  waiting <- if (!is.null(wait)) {
    paste("waiting", format_duration(wait$seconds), "for", wait$reason)
  }
  steps <- if (task$done > 0 || !is.na(task$total)) {
    paste0(task$unit, " ", task$done, if (!is.na(task$total)) paste(" of", task$total))
  }
  done <- c(steps, task$detail)
  eta <- progress_eta(task)
  list(
    head = paste(c(task$label, paste(done, collapse = ", ")[length(done) > 0]), collapse = ": "),
    status = paste(c(if (!is.na(eta)) paste("about", format_duration(eta), "left"), waiting), collapse = ", ")
  )
}

# "ec5-demo / Student: 14 pages in 2m 7s, 60 of 60 entries".
progress_summary <- function(task) {
  took <- format_duration(progress_now() - task$started)
  steps <- paste0(task$done, " ", task$unit, if (task$done != 1) "s")
  paste0(task$label, ": ", steps, " in ", took, if (!is.null(task$detail)) paste0(", ", task$detail))
}

# Seconds left, NA when unknown: the requests left at the pace of the
# transfers so far (waits excluded), plus the pacing waits ahead of them or
# the wait in progress, whichever is longer.
progress_eta <- function(task) {
  left <- task$left
  if (is.na(left) || left <= 0) {
    return(NA_real_)
  }
  now <- progress_now()
  wait <- task$wait
  waiting <- if (is.null(wait)) 0 else wait$seconds
  busy <- now - task$started - task$waited - if (is.null(wait)) 0 else now - wait$started
  ahead <- max(waiting, pacing_wait_ahead(task$pace, left))
  if (task$done == 0 && ahead == 0) {
    return(NA_real_)
  }
  per_step <- if (task$done > 0) max(0, busy) / task$done else 0
  left * per_step + ahead
}

# "45s", "2m 7s", "1h 5m"; whole seconds, rounded up.
format_duration <- function(seconds) {
  s <- ceiling(seconds)
  if (!is.finite(s)) {
    return("an unknown time")
  }
  if (s < 60) {
    return(paste0(s, "s"))
  }
  if (s < 3600) {
    return(paste0(s %/% 60, "m", if (s %% 60 > 0) paste0(" ", s %% 60, "s")))
  }
  minutes <- (s %% 3600) %/% 60
  paste0(s %/% 3600, "h", if (minutes > 0) paste0(" ", minutes, "m"))
}
