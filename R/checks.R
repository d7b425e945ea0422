# The argument checks of the exported functions, one set for the package.
# Each refuses a bad argument, before any request is sent or file written,
# with an `ec5_error_argument` that names the argument, says what it must be
# and shows what was supplied (supplied()); a required argument left out is
# named too, never left to base R's "argument is missing". Each returns the
# value, invisibly (check_choice() and check_time() return it normalised).
#
# `must` is a cli template written in this package (never user data): it
# may use the checker's own variables, such as `{min}`.

# What the caller supplied, as shown in an error: numbers and logicals as they
# are (`-1`, `TRUE`), text quoted, `NA` and `NULL` as such, a vector of more
# than one value with its type and length (at most five values, and at most
# 60 characters of each), any other object by its type.
supplied <- function(x) {
  if (is.null(x)) {
    return("NULL")
  }
  if (is.factor(x) || inherits(x, c("Date", "POSIXt"))) {
    x <- ifelse(is.na(x), NA_character_, format(x))
  }
  if (!is.atomic(x) || is.object(x) || length(x) == 0L) {
    return(cli::format_inline("{.obj_type_friendly {x}}"))
  }
  values <- utils::head(unname(x), 5)
  if (is.character(values)) {
    long <- !is.na(values) & nchar(values) > 60L
    values[long] <- paste0(substr(values[long], 1L, 57L), "\u2026")
  }
  shown <- cli::format_inline("{.val {values}}")
  if (length(x) == 1L) {
    return(shown)
  }
  more <- if (length(x) > 5L) ", \u2026" else ""
  paste0(cli::format_inline("{.obj_type_friendly {x}}"), " of length ", length(x), ": ", shown, more)
}

# Raises the error for argument `arg`: "`arg` must be <must>.", what was
# supplied (`shown`, a template that may use `{ec5_shown}`), then `bullets`.
# `must` and `bullets` are evaluated in the checker's environment.
abort_argument <- function(x, arg, must, bullets = NULL, shown = "You supplied {ec5_shown}.",
                           call, .envir = parent.frame()) {
  env <- new.env(parent = .envir)
  env$ec5_arg <- arg
  env$ec5_shown <- supplied(x)
  ec5_abort(
    c(paste0("{.arg {ec5_arg}} must be ", must, "."), "x" = shown, bullets),
    class = "argument", argument = arg, call = call, .envir = env
  )
}

# A required argument left out.
abort_missing <- function(arg, must, call, .envir = parent.frame()) {
  env <- new.env(parent = .envir)
  env$ec5_arg <- arg
  ec5_abort(
    c(paste0("{.arg {ec5_arg}} must be ", must, "."), "x" = "It is missing, and it has no default."),
    class = "argument", argument = arg, call = call, .envir = env
  )
}

check_string <- function(x, arg = rlang::caller_arg(x), allow_null = FALSE,
                         allow_empty = FALSE, must = "a single string",
                         call = rlang::caller_env()) {
  if (missing(x)) {
    abort_missing(arg, must, call = call)
  }
  ok <- (allow_null && is.null(x)) ||
    (rlang::is_string(x) && (allow_empty || nzchar(x)))
  if (!ok) {
    abort_argument(x, arg, must, call = call)
  }
  invisible(x)
}

# One form, or one branch question, by any of the names it goes by.
check_form <- function(x, arg = rlang::caller_arg(x), allow_null = TRUE, call = rlang::caller_env()) {
  must <- if (arg == "branch") {
    "one branch question: its question text, export name or ref"
  } else {
    "one form: its name, slug or ref"
  }
  if (allow_null) must <- paste0(must, ", or {.code NULL}")
  check_string(x, arg, allow_null = allow_null, must = must, call = call)
}

# One or more strings, none of them NA or empty.
check_strings <- function(x, arg = rlang::caller_arg(x), allow_null = FALSE,
                          must = "a character vector of names",
                          call = rlang::caller_env()) {
  if (missing(x)) {
    abort_missing(arg, must, call = call)
  }
  ok <- (allow_null && is.null(x)) ||
    (is.character(x) && length(x) > 0L && !anyNA(x) && all(nzchar(x)))
  if (!ok) {
    abort_argument(x, arg, must, call = call)
  }
  invisible(x)
}

check_bool <- function(x, arg = rlang::caller_arg(x), call = rlang::caller_env()) {
  must <- "{.code TRUE} or {.code FALSE}"
  if (missing(x)) {
    abort_missing(arg, must, call = call)
  }
  if (!rlang::is_bool(x)) {
    abort_argument(x, arg, must, call = call)
  }
  invisible(x)
}

# A whole number in [min, max]; Inf too when `allow_inf`.
check_count <- function(x, arg = rlang::caller_arg(x), min = 0, max = Inf,
                        allow_inf = FALSE, allow_null = FALSE,
                        call = rlang::caller_env()) {
  range <- if (is.finite(max)) "between {min} and {max}" else "of at least {min}"
  must <- paste0("a whole number ", range, if (allow_inf) " (or {.code Inf})", if (allow_null) ", or {.code NULL}")
  if (missing(x)) {
    abort_missing(arg, must, call = call)
  }
  if (allow_null && is.null(x)) {
    return(invisible(x))
  }
  ok <- is.numeric(x) && !is.object(x) && length(x) == 1L && !is.na(x) &&
    ((is.finite(x) && x == trunc(x)) || (allow_inf && x == Inf)) && x >= min && x <= max
  if (!ok) {
    abort_argument(x, arg, must, call = call)
  }
  invisible(x)
}

# One of `values`: by default the choices in the caller's formals, as
# rlang::arg_match() reads them; the first when the argument was left at its
# default. Returns the choice.
check_choice <- function(x, arg = rlang::caller_arg(x), values = NULL, allow_null = FALSE,
                         call = rlang::caller_env()) {
  if (is.null(values)) {
    values <- eval(formals(sys.function(sys.parent()))[[arg]], call)
  }
  if (identical(x, values)) {
    return(values[[1]])
  }
  if (allow_null && is.null(x)) {
    return(NULL)
  }
  if (!rlang::is_string(x) || !x %in% values) {
    close <- if (rlang::is_string(x)) values[utils::adist(x, values, ignore.case = TRUE) <= 2]
    abort_argument(
      x, arg, paste0(if (allow_null) "{.code NULL} or ", "one of {.or {.val {values}}}"),
      bullets = c("i" = if (length(close)) "Did you mean {.val {close[1]}}?"),
      call = call
    )
  }
  x
}

check_uuid <- function(x, arg = rlang::caller_arg(x), call = rlang::caller_env()) {
  if (!is.null(x) && (!rlang::is_string(x) || nchar(x) < 36L)) {
    abort_argument(x, arg, "an entry UUID (36 characters), or {.code NULL}", call = call)
  }
  invisible(x)
}

# An object of `class`; `must` says what it is and where it comes from.
check_class <- function(x, class, must, arg = rlang::caller_arg(x), allow_null = FALSE,
                        call = rlang::caller_env()) {
  if (missing(x)) {
    abort_missing(arg, must, call = call)
  }
  if (!(allow_null && is.null(x)) && !inherits(x, class)) {
    abort_argument(x, arg, must, call = call)
  }
  invisible(x)
}

check_data_frame <- function(x, arg = rlang::caller_arg(x), must = "a table of entries (a data frame)",
                             call = rlang::caller_env()) {
  check_class(x, "data.frame", must, arg = arg, call = call)
}

check_project_data <- function(x, arg = rlang::caller_arg(x), call = rlang::caller_env()) {
  check_class(
    x, "ec5_project_data", "an {.cls ec5_project_data} object from {.fn ec5_project_data}",
    arg = arg, call = call
  )
}

check_project <- function(project, arg = rlang::caller_arg(project), allow_null = FALSE,
                          call = rlang::caller_env()) {
  check_class(
    project, "ec5_project",
    paste0("an {.cls ec5_project} from {.fn ec5_project} or {.fn ec5_project_from_json}", if (allow_null) ", or {.code NULL}"),
    arg = arg, allow_null = allow_null, call = call
  )
}

check_json_text <- function(json, arg = rlang::caller_arg(json), call = rlang::caller_env()) {
  must <- "JSON text: a single string or a raw vector"
  if (missing(json)) {
    abort_missing(arg, must, call = call)
  }
  if (!is.raw(json) && !(rlang::is_string(json))) {
    abort_argument(json, arg, must, call = call)
  }
}

# Where a local copy is kept: a DBI connection, or NULL for an SQLite file
# under the folder `path`.
check_store_args <- function(con, path, call = rlang::caller_env()) {
  check_class(
    con, "DBIConnection", "a DBI connection, or {.code NULL} for the local SQLite copy",
    allow_null = TRUE, call = call
  )
  check_path(path, must = "a folder path", call = call)
}

# Only a table with an entry key can be an export: written, it would read
# back (csv_key_column()); any other table would make a file that is no
# Epicollect5 export.
check_entries_table <- function(x, call = rlang::caller_env()) {
  must <- "a table of Epicollect5 entries"
  check_data_frame(x, must = must, call = call)
  if (is.na(entry_key(names(x)))) {
    keys <- table_layout()$keys
    first <- utils::head(names(x), 8)
    abort_argument(
      x, "x", must,
      shown = "It has no {.field {keys[['form']]}} or {.field {keys[['branch']]}} column: its {length(names(x))} column{?s} begin{?s/} {.field {first}}.",
      bullets = c("i" = "Write other tables with {.fn utils::write.csv}; {.fn ec5_write_csv} writes only tables from {.fn ec5_entries}, {.fn ec5_read_csv} and the other functions of epicollect5."),
      call = call
    )
  }
  invisible(x)
}

# What ec5_media_download() takes media names from.
check_media_source <- function(x, call = rlang::caller_env()) {
  check_class(
    x, c("data.frame", "ec5_project_data", "character"),
    "a table of entries, project data or a character vector of file names",
    call = call
  )
}

# A file or folder path: one non-empty string.
check_path <- function(x, arg = rlang::caller_arg(x), must = "a file path", allow_null = FALSE,
                       call = rlang::caller_env()) {
  check_string(x, arg, allow_null = allow_null, must = must, call = call)
}

# The name of one of `tables` (of project data, say).
check_table_name <- function(x, tables, arg = rlang::caller_arg(x), what = "a table of {.arg x}",
                             call = rlang::caller_env()) {
  must <- paste("the name of", what)
  check_string(x, arg, must = must, call = call)
  if (!x %in% tables) {
    abort_argument(x, arg, must, bullets = c("i" = "The tables are {.val {tables}}."), call = call)
  }
  invisible(x)
}

# A point in time from a Date, a POSIXct or an ISO 8601 string, as a POSIXct
# in UTC; NULL stays NULL. A date without a time means the whole day,
# whichever way it is written: its end when `end_of_day`.
check_time <- function(x, arg = rlang::caller_arg(x), end_of_day = FALSE,
                       call = rlang::caller_env()) {
  if (is.null(x)) {
    return(NULL)
  }
  day <- rlang::is_string(x) && grepl("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", x)
  value <- if (day) as.Date(x, optional = TRUE) else x
  time <- if (length(value) != 1L) {
    NULL
  } else if (inherits(value, "Date")) {
    as.POSIXct(format(value), tz = "UTC")
  } else if (inherits(value, "POSIXt")) {
    as.POSIXct(value, tz = "UTC")
  } else if (rlang::is_string(value)) {
    parse_iso_time(value)
  }
  if (length(time) != 1L || is.na(time)) {
    abort_argument(
      x, arg, "a date or time",
      shown = if (rlang::is_string(x)) {
        "You supplied {ec5_shown}, which is not a valid date{if (day) '' else ' or time'}."
      } else {
        "You supplied {ec5_shown}."
      },
      bullets = c("i" = "Use a {.cls Date}, a {.cls POSIXct} or an ISO 8601 string such as {.val 2024-05-01} or {.val 2024-05-01T12:00:00Z}."),
      call = call
    )
  }
  if (inherits(value, "Date") && end_of_day) time + 86399 else time
}

parse_iso_time <- function(x) {
  x <- sub("Z$", "", x)
  formats <- c("%Y-%m-%dT%H:%M:%OS", "%Y-%m-%d %H:%M:%OS", "%Y-%m-%d")
  for (f in formats) {
    time <- as.POSIXct(strptime(x, f, tz = "UTC"))
    if (!is.na(time)) return(time)
  }
  as.POSIXct(NA)
}
