# The time zone the date-times of a table are shown in (the `tz` argument of
# the table functions): only the `tzone` attribute changes, the instants stay.

check_tz <- function(tz, call = rlang::caller_env()) {
  if (!rlang::is_string(tz) || !tz %in% c("UTC", OlsonNames())) {
    ec5_abort(
      c("{.arg tz} must be a time zone name such as {.val UTC} or {.val Europe/London}.",
        "x" = "You supplied {.val {format(tz)}}.",
        "i" = "{.fn OlsonNames} lists the names this system knows."),
      class = "argument", call = call
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
