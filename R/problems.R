#' Problems met while typing entries
#'
#' Values that could not be converted to their column's type become `NA` in
#' the table; each is listed here, with what was expected and the text that
#' was found. For a CSV file, rows with `row = NA` describe the file as a
#' whole (for example the CR LF line ends and missing quotes a spreadsheet
#' leaves when it saves an export again).
#'
#' @param x A table of entries, from [ec5_read_csv()] or the JSON functions.
#' @return A tibble with columns `row` (the row of `x`, or `NA` for the whole
#'   file), `column`, `expected` and `actual`; zero rows when there were no
#'   problems.
#' @examples
#' path <- tempfile(fileext = ".csv")
#' writeLines(c(
#'   "ec5_uuid,created_at,uploaded_at,title,lat_1_Where,long_1_Where,accuracy_1_Where,UTM_Northing_1_Where,UTM_Easting_1_Where,UTM_Zone_1_Where",
#'   "0b6c6f2e-8f0a-4c39-9d55-6f1c2f3b0a01,2024-02-09T15:09:01.000Z,2024-02-09T15:09:53.000Z,A,51.5,-0.12x,5,5710000,699000,30U"
#' ), path)
#' ec5_problems(ec5_read_csv(path))
#' @export
ec5_problems <- function(x) {
  problems <- attr(x, "problems", exact = TRUE)
  if (is.null(problems)) {
    problems <- data.frame(
      row = integer(), column = character(), expected = character(),
      actual = character(), stringsAsFactors = FALSE
    )
  }
  tibble::as_tibble(problems)
}
