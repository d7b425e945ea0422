#' One column per possible answer of multi-answer questions
#'
#' Replaces each check box and search question's list column by one logical
#' column per possible answer: `TRUE` when the entry chose that answer,
#' `FALSE` when it did not, `NA` when none of its answers could be read
#' (see [ec5_problems()]). Answers
#' are matched exactly, never as parts of other answers (`"Art"` is not
#' chosen by `"Art history"`), and the columns come in the order of the
#' answers in the definition.
#'
#' The columns are named `<column>_<answer>`, the answer with every run of
#' characters other than letters and digits replaced by `_` (or, when that
#' leaves nothing, the answer's code: its position in the definition); a name
#' already taken gets a suffix `_1`, `_2`, .... Each carries the label
#' `"<question>: <answer>"`.
#'
#' Answers found in the entries that the form no longer offers (deleted after
#' entries chose them) get columns too, after the others, and a warning of
#' class `ec5_warning_unknown_answers` lists them; so does the attribute
#' `unknown_answers` of the result (a tibble `column`, `answer`).
#'
#' @param x A table from [ec5_entries()], [ec5_branch_entries()],
#'   [ec5_read_csv()] (with `project`) or [ec5_local()], or an
#'   `ec5_project_data` object (then every table is expanded).
#' @param columns The list columns to expand; the default is every check box
#'   and search question.
#' @param project The [ec5_project()] of a single table; the default is the
#'   definition this R session fetched for the table's project (not needed
#'   for project data, which carries its definition).
#' @return `x` with the list columns replaced.
#' @seealso [ec5_codebook()] for the codes; [ec5_as_haven()].
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE)
#' url <- ec5_demo_server()
#' x <- ec5_entries("ec5-demo", base_url = url)
#' wide <- ec5_expand_choices(x)
#' wide[grep("^21_Faculties", names(wide))]
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_expand_choices <- function(x, columns = NULL, project = NULL) {
  check_project(project, allow_null = TRUE)
  if (inherits(x, "ec5_project_data")) {
    if (!is.null(columns)) {
      abort_argument(
        columns, "columns", "{.code NULL} when {.arg x} is project data",
        bullets = c("i" = "Name columns of a single table: {.code ec5_expand_choices(x[[\"table\"]], columns)}.")
      )
    }
    return(map_tables(x, ec5_expand_choices))
  }
  spec <- choice_spec(x, project)
  columns <- choice_columns(x, spec, columns)
  expand_list_columns(x, spec, columns, as = "logical")
}

# Every table of project data through `f(table, project = )`, attributes kept.
map_tables <- function(x, f) {
  project <- attr(x, "project")
  x[] <- lapply(x, f, project = project)
  x
}

# The column spec of a table (ec5_column_spec()), from the form, branch and
# mapping its provenance names, under `project` or the definition this
# session fetched for it (R/project.R's cache).
choice_spec <- function(x, project, call = rlang::caller_env()) {
  check_data_frame(x, must = "a table of entries or an {.cls ec5_project_data} object", call = call)
  p <- attr(x, "provenance")
  project <- project %||% project_cached(p$base_url, p$slug)
  if (is.null(p$form_ref) || is.null(project)) {
    abort_argument(
      x, "x", "a table read by this package from a project, or given with its {.arg project}",
      shown = "You supplied {ec5_shown} without its form or its project's definition, so its possible answers are not known.",
      bullets = c("i" = "Pass its definition as {.arg project} ({.fn ec5_project})."),
      call = call
    )
  }
  branch <- if (!is.na(p$branch_ref %||% NA)) p$branch_ref
  ec5_column_spec(project, form = p$form_ref, branch = branch, map_index = p$map_index, call = call)$spec
}

# The list columns to expand: those named, checked, or every multi-answer
# question of the table.
choice_columns <- function(x, spec, columns, call = rlang::caller_env()) {
  multi <- spec$name[spec$type %in% multi_answer_types & spec$name %in% names(x)]
  if (is.null(columns)) {
    return(multi)
  }
  bad <- setdiff(columns, multi)
  if (!is.character(columns) || length(bad)) {
    abort_argument(
      columns, "columns", "the names of check box or search question columns of {.arg x}, or {.code NULL}",
      bullets = c("i" = "The table has {.val {multi}}."),
      call = call
    )
  }
  columns
}

multi_answer_types <- c("checkbox", "searchsingle", "searchmultiple")

# Each list column in `columns` replaced, where it stood, by one column per
# answer: logical, or integer 0/1 labelled for haven (`as = "haven"`).
expand_list_columns <- function(x, spec, columns, as, call = rlang::caller_env()) {
  unknown <- list()
  out <- list()
  for (name in names(x)) {
    if (!name %in% columns) {
      out[name] <- list(x[[name]])
      next
    }
    q <- spec[match(name, spec$name), ]
    wide <- answer_indicators(x[[name]], q$levels[[1]])
    label <- paste0(q$label, ": ", names(wide))
    codes <- c(seq_along(q$levels[[1]]), rep(NA, length(wide) - length(q$levels[[1]])))
    suffix <- answer_suffix(names(wide), codes)
    extra <- setdiff(names(wide), q$levels[[1]])
    if (length(extra)) unknown[[name]] <- tibble::tibble(column = name, answer = extra)
    wide <- Map(indicator_column, wide, label, MoreArgs = list(as = as))
    names(wide) <- paste0(name, "_", suffix)
    out <- c(out, wide)
  }
  names(out) <- make.unique(names(out), sep = "_")
  result <- restore_table_attributes(tibble::new_tibble(out, nrow = nrow(x)), x)
  warn_unknown_answers(unknown, result, call)
}

# One logical vector per answer, the answers of `levels` first, then any
# other answers found (in order of appearance); NA for a row whose answers
# are all missing (unreadable, listed by ec5_problems()). Vectorised over
# answers: the chosen answers of all rows are matched at once.
answer_indicators <- function(col, levels) {
  n <- length(col)
  values <- unlist(col, use.names = FALSE)
  row <- rep(seq_len(n), lengths(col))
  unreadable <- setdiff(row[is.na(values)], row[!is.na(values)])
  answers <- c(levels, setdiff(unique(values[!is.na(values)]), levels))
  stats::setNames(lapply(answers, function(a) {
    chosen <- logical(n)
    chosen[row[values %in% a]] <- TRUE
    chosen[unreadable] <- NA
    chosen
  }), answers)
}

# The answer's letters and digits, `_` for the rest; its code when that
# leaves nothing.
answer_suffix <- function(answers, codes) {
  clean <- gsub("^_+|_+$", "", gsub("[^\\p{L}\\p{N}]+", "_", answers, perl = TRUE))
  empty <- !nzchar(clean)
  clean[empty] <- ifelse(is.na(codes[empty]), "other", codes[empty])
  clean
}

indicator_column <- function(chosen, label, as) {
  if (as == "haven") {
    return(haven::labelled(as.integer(chosen), c(No = 0L, Yes = 1L), label = label))
  }
  attr(chosen, "label") <- label
  chosen
}

warn_unknown_answers <- function(unknown, result, call) {
  if (!length(unknown)) {
    return(result)
  }
  unknown <- do.call(rbind, unname(unknown))
  attr(result, "unknown_answers") <- unknown
  cli::cli_warn(
    c(
      "{cli::qty(nrow(unknown))}{?An answer/Answers} chosen in the entries {?is/are} not among the possible answers of the form: {.val {unknown$answer}}.",
      "i" = "They were probably deleted from the form after entries chose them; their columns come after the others.",
      "i" = "{.code attr(x, \"unknown_answers\")} lists them."
    ),
    class = "ec5_warning_unknown_answers", call = call
  )
  result
}
