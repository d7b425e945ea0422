#' Flatten entries JSON into a table
#'
#' Turns pages of the entries export (`/api/export/entries/{slug}`) that you
#' already have as text into the same typed, labelled tibble that
#' [ec5_entries()] returns, without any request. Pages of the current format,
#' the older 2017 and 2019 formats, a JSON archive download
#' (`{"data": [...]}`), a bare array of entries and a single entry object
#' are all accepted. Entries that appear twice (on two pages) are kept once,
#' as their last copy.
#'
#' @section Conversions:
#' Columns are typed from the project definition, never guessed from the
#' values. `""`, `null` and a missing key are `NA`. Besides the plain cases,
#' these conversions are made on purpose:
#' * integer and decimal questions accept numbers sent as text (`"17"`);
#'   an integer column is an R integer when the question's `min` and `max`
#'   bound it within 32 bits, else a double (exact up to 2^53), whatever the
#'   values (see Column types in [ec5_entries()]);
#' * choice answers are decoded from the HTML entities the server sends them
#'   with (`R&amp;D` is `R&D`, a level of the factor); free text is kept as
#'   sent;
#' * the uploader placeholder `"n/a"` in `created_by` is `NA`;
#' * a phone number (or any text question) sent as a JSON number becomes its
#'   text;
#' * a checkbox or search answer sent as a single string is read as one
#'   answer; no answer (`[]`, `""`) is `character(0)`;
#' * a date whose format has day, month and year becomes a `Date`; other
#'   date formats and times stay text as sent;
#' * a location becomes six columns; members it lacks (exports from 2019
#'   have no UTM keys) are `NA`;
#' * when a key appears twice in one entry, the last value counts.
#'
#' These become `NA` and a row of [ec5_problems()]: a non-integral or
#' out-of-range (beyond 64 bits, or beyond 32 bits for a question bounded
#' within them) integer, text that is not a number, a date
#' or time that does not match its question's format exactly (`11/9/21` for
#' `dd/MM/YYYY`; `31/02/2024`), a choice label that is not one of the
#' question's answers, an object or `true` where text is expected, and text
#' that is not valid UTF-8 or holds a NUL byte. Elements of `entries` that
#' are not objects are problems without a row; `null` elements are skipped.
#'
#' @param json The pages: a character vector with one page per element, a
#'   raw vector holding one page, or a list of strings and raw vectors. File
#'   paths are not read; use `readLines()` or `readBin()` first.
#' @param project The project: an `ec5_project` from [ec5_project()] or
#'   [ec5_project_from_json()], or the JSON text of its definition.
#' @param form The form: its name, slug or ref. The default is the top form,
#'   or the form holding `branch`.
#' @param branch For branch entries, the branch question: its question text,
#'   export name or ref.
#' @param map_index The mapping the pages were exported with. The default is
#'   the project's default mapping.
#' @inheritParams ec5_entries
#' @return A tibble with the columns described in [ec5_entries()], and
#'   attributes `problems` (see [ec5_problems()]) and `provenance` (slug,
#'   form, branch, map_index, `source = "json"`, time of parsing, the
#'   server's total and the package version). Values that cannot be
#'   converted become `NA` with a warning of class `ec5_warning_problems`.
#' @seealso [ec5_entries()] to fetch entries, [ec5_problems()] for the values
#'   that could not be converted.
#' @export
#' @examples
#' project <- ec5_project_from_json('{"data": {"project": {"ref": "p1",
#'   "name": "Birds", "slug": "birds", "access": "public", "forms": [{
#'   "ref": "p1_f1", "name": "Sighting", "slug": "sighting", "inputs": [
#'   {"ref": "p1_f1_q1", "type": "integer", "question": "How many?"},
#'   {"ref": "p1_f1_q2", "type": "date", "question": "When?",
#'    "datetime_format": "dd/MM/YYYY"}]}]}}}')
#' page <- '{"data": {"entries": [
#'   {"ec5_uuid": "4d0e4d9c-0d6a-4f4c-9d55-1f3c3b0b5b51",
#'    "created_at": "2024-05-01T10:00:00.000Z",
#'    "uploaded_at": "2024-05-01T10:05:00.000Z", "title": "3",
#'    "1_How_many": 3, "2_When": "01/05/2024"}]}}'
#' ec5_parse_entries(page, project)
ec5_parse_entries <- function(json, project, form = NULL, branch = NULL, map_index = NULL,
                              col_names = getOption("epicollect5.col_names", "export")) {
  col_names <- check_col_names(col_names)
  pages <- check_pages(json)
  must <- "an {.cls ec5_project} or the JSON of a project definition"
  if (missing(project)) {
    abort_missing("project", must, call = rlang::current_env())
  }
  if (!inherits(project, "ec5_project") && !(is.raw(project) || rlang::is_string(project))) {
    abort_argument(project, "project", must, call = rlang::current_env())
  }
  check_form(form)
  check_form(branch)
  check_count(map_index, min = 0, allow_null = TRUE)
  if (!inherits(project, "ec5_project")) {
    project <- ec5_project_from_json(project)
  }
  cs <- ec5_column_spec(project, form = form, branch = branch, map_index = map_index)
  parser <- entries_parser(cs)
  call <- rlang::current_env()
  meta <- lapply(pages, function(page) parser_feed(parser, page, call = call))
  totals <- vapply(meta, function(m) m$total, integer(1))
  provenance <- provenance(
    project$project$slug, cs, "json",
    fetched_at = Sys.time(),
    total = if (any(!is.na(totals))) max(totals, na.rm = TRUE) else NA_integer_
  )
  name_columns(entries_table(parser_finish(parser), cs, provenance), col_names)
}

# Where a table came from: the project, form, branch and mapping of its
# column spec, the source ("api", "json", "csv"), and what `...` adds.
provenance <- function(slug, cs, source, ...) {
  c(
    list(
      slug = slug,
      form = cs$form_name,
      form_ref = cs$form_ref,
      branch = cs$branch_name,
      branch_ref = cs$branch_ref,
      map_index = cs$map_index,
      source = source
    ),
    list(...),
    # The loaded namespace knows its version; packageVersion() reads the
    # installed DESCRIPTION again (half a millisecond a table).
    list(package_version = unname(getNamespaceVersion("epicollect5")))
  )
}

# The pages as a list of strings and raw vectors.
check_pages <- function(json, call = rlang::caller_env()) {
  must <- "entries pages as text: a character vector, a raw vector, or a list of those"
  if (missing(json)) {
    abort_missing("json", must, call = call)
  }
  pages <- if (is.raw(json)) list(json) else as.list(json)
  ok <- (is.character(json) || is.raw(json) || is.list(json)) &&
    all(vapply(pages, function(p) {
      is.raw(p) || (is.character(p) && length(p) == 1L && !is.na(p))
    }, logical(1)))
  if (!ok) {
    abort_argument(
      json, "json", must,
      bullets = c("i" = "To read a file, use {.code readBin(path, \"raw\", file.size(path))} first."),
      call = call
    )
  }
  pages
}

#' A new incremental entries parser for a column spec
#'
#' @param cs A column spec from `ec5_column_spec()`.
#' @return An external pointer (class `ec5_entries_parser`) to the C++
#'   parser; its memory is freed when it is garbage collected.
#' @noRd
entries_parser <- function(cs) {
  cpp_check(entries_parser_new_cpp(cs$spec, cs$options))
}

#' Flatten one page into a parser
#'
#' @param parser From `entries_parser()`.
#' @param json One page: a string or a raw vector.
#' @return The page's meta: a list of `total`, `per_page`, `current_page`,
#'   `last_page`, `map_index` (integers), `newest`, `oldest`, `map_name`,
#'   `next` (strings), NA when the page lacked them, and `n`, the entries of
#'   this page that became rows.
#' @noRd
parser_feed <- function(parser, json, call = rlang::caller_env()) {
  cpp_check(entries_parser_feed_cpp(parser, json), call = call)
}

#' Columns of the rows the last page added
#'
#' @param parser From `entries_parser()`, fed at least once.
#' @param names Column names, e.g. `c("ec5_uuid", "uploaded_at")`.
#' @return A named list of those columns (R vectors) for the rows of the last
#'   page `parser_feed()` flattened.
#' @noRd
parser_last_rows <- function(parser, names) {
  cpp_check(entries_parser_last_rows_cpp(parser, as.character(names)))
}

#' Finish a parser
#'
#' @param parser From `entries_parser()`; it cannot be fed afterwards.
#' @return A list: `columns` (named list of the final columns, de-duplicated),
#'   `problems` (data.frame row, column, expected, actual) and
#'   `unknown_keys` (entry keys that matched no column).
#' @noRd
parser_finish <- function(parser) {
  cpp_check(entries_parser_finish_cpp(parser))
}

#' The entries tibble from a finished parser
#'
#' Adds the question labels, the `problems` and `provenance` attributes, and
#' warns once when values could not be converted or entry keys matched no
#' column (a sign of the wrong form, branch or mapping).
#'
#' @param out From `parser_finish()`.
#' @param cs The column spec the parser was made with.
#' @param provenance A list kept as the `provenance` attribute.
#' @return A tibble.
#' @noRd
entries_table <- function(out, cs, provenance, call = rlang::caller_env()) {
  columns <- out$columns
  n_row <- if (length(columns)) length(columns[[1]]) else 0L
  layout <- table_columns(cs)
  label <- table_labels(cs, layout)
  questions <- which(!is.na(layout$question))
  columns[questions] <- Map(
    annotate_column, columns[questions], label[questions],
    layout$type[questions], layout$format[questions]
  )
  names(columns) <- make.unique(names(columns), sep = "_")
  table <- tibble::new_tibble(columns, nrow = n_row)
  # Its columns are made in C++ with their final names: nothing to check or
  # repair (as_tibble() costs a fifth of a millisecond a table).
  problems <- tibble::new_tibble(as.list(out$problems), nrow = nrow(out$problems))
  attr(table, "problems") <- problems
  attr(table, "provenance") <- provenance
  warn_problems(problems, call = call)
  warn_unknown_keys(out$unknown_keys, cs, call = call)
  table
}

warn_problems <- function(problems, call) {
  n <- nrow(problems)
  if (n == 0L) {
    return(invisible())
  }
  columns <- unique(problems$column[!is.na(problems$column) & nzchar(problems$column)])
  cli::cli_warn(
    c(
      "{n} value{?s} could not be converted and became {.code NA}.",
      "i" = if (length(columns)) "In column{?s} {.field {columns}}.",
      "i" = "See them with {.code ec5_problems(x)}."
    ),
    class = "ec5_warning_problems",
    call = call
  )
}

warn_unknown_keys <- function(keys, cs, call) {
  if (length(keys) == 0L) {
    return(invisible())
  }
  branch <- !is.na(cs$branch_ref)
  what <- if (branch) "branch" else "form"
  name <- if (branch) cs$branch_name else cs$form_name
  cli::cli_warn(
    c(
      "{cli::qty(length(keys))}The entries have key{?s} {.val {keys}} that match{?es/} no question of {what} {.val {name}} under mapping {as.character(cs$map_index)}.",
      "i" = "Those values were left out. Check {.arg form}, {.arg branch} and {.arg map_index}."
    ),
    class = "ec5_warning_unknown_keys",
    call = call
  )
}
