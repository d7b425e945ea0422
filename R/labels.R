#' List the question labels of a table
#'
#' Every question column of an entries table carries its question text in
#' its `label` attribute, which RStudio's data viewer shows under the column
#' name. This lists them.
#'
#' @param x A table from [ec5_entries()], [ec5_branch_entries()],
#'   [ec5_read_csv()] or [ec5_parse_entries()].
#' @return A tibble with columns `column` and `label`, one row per column
#'   that has a label.
#' @export
#' @examples
#' x <- data.frame(a = 1:2, b = c("x", "y"))
#' attr(x$b, "label") <- "What is b?"
#' ec5_labels(x)
ec5_labels <- function(x) {
  check_data_frame(x, must = "a data frame")
  labels <- vapply(x, function(col) {
    label <- attr(col, "label", exact = TRUE)
    if (rlang::is_string(label)) label else NA_character_
  }, "")
  keep <- !is.na(labels)
  tibble::tibble(column = names(x)[keep], label = unname(labels[keep]))
}
