#' The codebook of a project
#'
#' Lists every column of every table of a project, from its definition alone:
#' the columns [ec5_project_data()] returns, in the same order, with what each
#' one holds. It is a plain tibble: it prints as it is, goes to
#' `knitr::kable()`, and `utils::write.csv()` writes it.
#'
#' The codes of the choices are the positions of the answers in the
#' definition (1 for the first answer), the codes [ec5_as_haven()] gives
#' Stata and SPSS.
#'
#' @param project An [ec5_project()], or an `ec5_project_data` object from
#'   [ec5_project_data()] (its definition is used).
#' @param map_index The mapping that names the columns; the default is the
#'   project's default mapping.
#' @return A tibble, one row per column of each table:
#'   * `table`: the table (a form's name or a branch's export name);
#'   * `column`: the column's export name (`col_names = "export"`);
#'   * `clean`: its clean name (`col_names = "clean"`; see the section Column
#'     names of [ec5_entries()]);
#'   * `question`: the question's text (`NA` for system columns);
#'   * `type`: the question's type (`"system"` for system columns); a
#'     location is six columns of type `"location"`;
#'   * `required`: whether the question must be answered;
#'   * `min`, `max`: the limits of a number question;
#'   * `format`: the date or time format of a date or time question;
#'   * `choices`: the possible answers with their codes, `"1=Red; 2=Blue"`;
#'   * `group`: the text of the group question the question sits in;
#'   * `branch`: the text of the branch question whose table it is in;
#'   * `ref`: the question's ref.
#' @seealso [ec5_labels()] for the labels of a table's columns.
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE)
#' url <- ec5_demo_server()
#' book <- ec5_codebook(ec5_project("ec5-demo", base_url = url))
#' book
#' utils::write.csv(book, tempfile(fileext = ".csv"), row.names = FALSE)
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_codebook <- function(project, map_index = NULL) {
  project <- codebook_project(project)
  check_count(map_index, min = 0, allow_null = TRUE)
  plan <- project_data_plan(project, NULL, TRUE)
  parts <- lapply(seq_len(nrow(plan)), function(i) {
    codebook_table(project, plan[i, ], map_index)
  })
  do.call(rbind, parts)
}

codebook_project <- function(x, arg = "project", call = rlang::caller_env()) {
  check_class(
    x, c("ec5_project_data", "ec5_project"),
    "an {.cls ec5_project_data} or {.cls ec5_project} object", arg = arg, call = call
  )
  if (inherits(x, "ec5_project_data")) attr(x, "project") else x
}

# The rows of one table: the columns the table layout makes from its column
# spec (src/table_layout.cpp), each joined to its question.
codebook_table <- function(project, row, map_index) {
  cs <- table_column_spec(project, row, map_index)
  cols <- table_columns(cs)
  spec <- cs$spec[cols$question, ]
  inputs <- project$inputs[match(spec$ref, project$inputs$ref), ]
  parent <- project$inputs[match(inputs$parent_ref, project$inputs$ref), ]
  n <- nrow(cols)
  tibble::tibble(
    table = rep(row$table, n),
    codebook_names(cols),
    question = spec$label,
    type = ifelse(is.na(cols$question), "system", spec$type),
    required = inputs$is_required,
    min = inputs$min,
    max = inputs$max,
    format = spec$format,
    choices = choice_text(spec$levels),
    group = ifelse(parent$type %in% "group", parent$question, NA_character_),
    branch = rep(cs$branch_name, n),
    ref = spec$ref
  )
}

# The name columns of the codebook, one per naming scheme (R/column-names.R).
codebook_names <- function(cols) {
  tibble::tibble(column = cols$name, clean = clean_names(cols$name))
}

# "1=Red; 2=Blue": the answers with their codes, NA for other questions.
choice_text <- function(levels) {
  text <- vapply(levels, function(lv) {
    paste0(seq_along(lv), "=", lv, collapse = "; ")
  }, character(1))
  ifelse(lengths(levels) > 0, text, NA_character_)
}
