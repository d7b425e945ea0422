#' Tables for Stata and SPSS, with codes and labels
#'
#' Prepares a table for [haven::write_dta()] and [haven::write_sav()], so the
#' files open in Stata and SPSS with their labels:
#' * radio and dropdown questions become [haven::labelled()] integers whose
#'   codes are the positions of the answers in the definition (1 for the
#'   first answer, as in [ec5_codebook()]), labelled with the answers;
#' * check box and search questions become one 0/1 column per possible
#'   answer, labelled `No`/`Yes`, named and ordered as by
#'   [ec5_expand_choices()];
#' * every question's text is its column's variable label (the `label`
#'   attribute haven writes).
#'
#' Stata and SPSS need column names that start with a letter and hold only
#' letters, digits and `_` (Stata: at most 32 characters), so other
#' characters become `_`, a name that does not start with a letter (such as
#' the export name `1_Name`) gets the prefix `v`, and names cut to 32
#' characters are made unique.
#'
#' Both formats lose the spaces at the end of texts (answers, labels and
#' question texts) and have no missing text: an `NA` text is read back as
#' `""`. SPSS keeps the first 256 bytes of a question text and the first
#' 120 of an answer.
#'
#' @inheritParams ec5_expand_choices
#' @return `x`, its columns converted; project data gives project data.
#' @seealso [ec5_codebook()] for the codes and labels as a table.
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE) && requireNamespace("haven", quietly = TRUE)
#' url <- ec5_demo_server()
#' x <- ec5_as_haven(ec5_entries("ec5-demo", base_url = url))
#' path <- tempfile(fileext = ".dta")
#' haven::write_dta(x, path)
#' haven::read_dta(path)
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_as_haven <- function(x, project = NULL) {
  check_project(project, allow_null = TRUE)
  rlang::check_installed("haven", reason = "to label columns for Stata and SPSS.")
  if (inherits(x, "ec5_project_data")) {
    return(map_tables(x, ec5_as_haven))
  }
  spec <- choice_spec(x, project)
  x <- expand_list_columns(x, spec, choice_columns(x, spec, NULL), as = "haven")
  factors <- which(vapply(x, is.factor, logical(1)))
  x[factors] <- lapply(x[factors], labelled_factor)
  names(x) <- haven_names(names(x))
  x
}

# A factor as integer codes in the order of its levels, labelled with them.
labelled_factor <- function(f) {
  codes <- stats::setNames(seq_along(levels(f)), levels(f))
  haven::labelled(as.integer(f), codes, label = attr(f, "label", exact = TRUE))
}

# Names Stata and SPSS accept: a letter first, then letters, digits and `_`,
# at most 32 characters, unique.
haven_names <- function(names) {
  clean <- gsub("[^A-Za-z0-9_]", "_", names)
  clean <- ifelse(grepl("^[A-Za-z]", clean), clean, paste0("v", clean))
  unique_short_names(clean, 32)
}

# Names cut to `max` characters and unique regardless of case (SPSS and
# Excel ignore it), a repeated one ending in `_1`, `_2`, ... within `max`.
unique_short_names <- function(names, max) {
  names <- substr(names, 1, max)
  for (i in which(duplicated(tolower(names)))) {
    k <- 0L
    repeat {
      k <- k + 1L
      candidate <- paste0(substr(names[i], 1, max - nchar(k) - 1L), "_", k)
      if (!tolower(candidate) %in% tolower(names)) break
    }
    names[i] <- candidate
  }
  names
}
