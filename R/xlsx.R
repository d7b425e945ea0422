#' Write a project to an Excel file
#'
#' Writes the tables of a project to one Excel workbook, for colleagues who
#' work in spreadsheets: one sheet per form and branch, in the order of
#' [ec5_project_data()], and a last sheet `codebook` with the
#' [ec5_codebook()]. Dates and date-times are Excel dates (date-times in
#' UTC), numbers are numbers, choice answers their labels, and the answers
#' of check box and search questions are joined as the website's CSV export
#' joins them (`"Red, Blue"`, an answer holding a comma in double quotes).
#' Requires the writexl package.
#'
#' Sheet names are cut to Excel's 31 characters, with the characters
#' `[]:*?/\` replaced by `_`, and made unique. The file is written under a
#' temporary name and renamed when complete.
#'
#' @param data An `ec5_project_data` object from [ec5_project_data()] or
#'   [ec5_local()].
#' @param path Path of the `.xlsx` file to write; an existing file is
#'   replaced.
#' @return `data`, invisibly.
#' @seealso [ec5_write_csv()] for the website's CSV files.
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE) && requireNamespace("writexl", quietly = TRUE)
#' url <- ec5_demo_server()
#' x <- ec5_project_data("ec5-demo", base_url = url)
#' path <- tempfile(fileext = ".xlsx")
#' ec5_write_xlsx(x, path)
#' file.size(path)
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_write_xlsx <- function(data, path) {
  check_project_data(data, arg = "data")
  csv_check_path(path, must_exist = FALSE)
  rlang::check_installed("writexl", reason = "to write Excel files.")
  sheets <- c(lapply(data, xlsx_sheet), list(codebook = ec5_codebook(data)))
  names(sheets) <- xlsx_sheet_names(names(sheets))
  tmp <- tempfile(fileext = ".xlsx")
  on.exit(unlink(tmp), add = TRUE)
  writexl::write_xlsx(sheets, tmp)
  write_atomic(readBin(tmp, "raw", file.size(tmp)), path)
  invisible(data)
}

# A table as the columns Excel takes: factors as their labels, list columns
# as the CSV export's text.
xlsx_sheet <- function(table) {
  out <- lapply(names(table), function(name) {
    col <- table[[name]]
    if (is.list(col)) csv_cells(col, name) else if (is.factor(col)) as.character(col) else col
  })
  tibble::new_tibble(stats::setNames(out, names(table)), nrow = nrow(table))
}

# Excel's rules for sheet names: at most 31 characters, none of []:*?/\,
# unique regardless of case.
xlsx_sheet_names <- function(names) {
  unique_short_names(gsub("[\\[\\]:*?/\\\\]", "_", names, perl = TRUE), 31)
}
