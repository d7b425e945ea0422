#' Values that could not be converted
#'
#' Every table of entries keeps the values that could not be converted to
#' their column's type (they are `NA` in the table). This lists them, so
#' that nothing is lost silently: a date `11/9/21` in a `dd/MM/YYYY`
#' question, text in an integer question, a label that is not one of the
#' question's possible answers.
#'
#' @param x A table from [ec5_entries()], [ec5_branch_entries()],
#'   [ec5_read_csv()] or [ec5_parse_entries()], or the result of
#'   [ec5_project_data()] (then the problems of all its tables, with a
#'   `table` column first).
#' @return A tibble with columns `row` (integer, the row of `x`; `NA` for an
#'   element of the page that was not an entry), `column` (the column of
#'   `x`, or for a location the question's export name), `expected` and
#'   `actual` (the value as sent). It has zero rows when there were no
#'   problems.
#' @export
#' @examples
#' project <- ec5_project_from_json('{"data": {"project": {"ref": "p1",
#'   "name": "Birds", "slug": "birds", "access": "public", "forms": [{
#'   "ref": "p1_f1", "name": "Sighting", "slug": "sighting", "inputs": [
#'   {"ref": "p1_f1_q1", "type": "integer", "question": "How many?"}]}]}}}')
#' page <- '{"data": {"entries": [{"ec5_uuid": "a", "1_How_many": "many"}]}}'
#' x <- suppressWarnings(ec5_parse_entries(page, project))
#' ec5_problems(x)
ec5_problems <- function(x) {
  if (inherits(x, "ec5_project_data")) {
    parts <- lapply(names(x), function(name) {
      p <- ec5_problems(x[[name]])
      tibble::add_column(p, table = rep(name, nrow(p)), .before = 1)
    })
    return(do.call(rbind, c(list(tibble::add_column(empty_problems(), table = character(0), .before = 1)), parts)))
  }
  check_data_frame(x, must = "a table of entries or an {.cls ec5_project_data} object")
  problems <- attr(x, "problems", exact = TRUE)
  if (is.null(problems)) {
    return(empty_problems())
  }
  tibble::as_tibble(problems)
}

# The problems of a table whose rows were taken as `rows` (indices into the
# old table, in their new order): `row` becomes the row's new number, the
# problems of rows left out go with them, and those of no row (NA) stay.
problems_rows <- function(problems, rows) {
  if (is.null(problems) || !nrow(problems)) {
    return(problems)
  }
  at <- match(problems$row, rows)
  keep <- is.na(problems$row) | !is.na(at)
  problems$row <- as.integer(at)
  problems <- problems[keep, , drop = FALSE]
  rownames(problems) <- NULL
  problems
}

empty_problems <- function() {
  tibble::tibble(
    row = integer(0),
    column = character(0),
    expected = character(0),
    actual = character(0)
  )
}
