# The time zone the date-times of a table are shown in (the `tz` argument of
# the table functions): only the `tzone` attribute changes, the instants stay.

check_tz <- function(tz, call = rlang::caller_env()) {
  must <- "a time zone name such as {.val UTC} or {.val Europe/London}"
  check_string(tz, "tz", must = must, call = call)
  if (!tz %in% c("UTC", OlsonNames())) {
    abort_argument(
      tz, "tz", must,
      bullets = c("i" = "{.fn OlsonNames} lists the names this system knows."), call = call
    )
  }
  tz
}

# Every date-time column of a table, or of each table of project data, shown
# in `tz`. Loops over columns and tables, never rows.
in_tz <- function(x, tz) {
  if (inherits(x, "ec5_project_data")) {
    x[] <- lapply(x, in_tz, tz = tz)
    return(x)
  }
  for (j in which(vapply(x, inherits, logical(1), "POSIXct"))) {
    attr(x[[j]], "tzone") <- tz
  }
  x
}
