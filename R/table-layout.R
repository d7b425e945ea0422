# The table layout is stated once, in C++ (src/table_layout.h): which system
# columns a table has, the six columns of a location, which input types hold
# the labels of possible answers, and the key of an entry. R asks it here
# instead of restating it.

#' The rules of the table layout
#'
#' @return A list: `system` (a data frame name, type, placeholder of the
#'   system columns in the server's order; placeholder is the value the
#'   server sends for "unknown", read as `NA`, or ""), `keys` (the key column of a `form`'s and of a
#'   `branch`'s entries), `links` (the column of a child `form`'s and of a
#'   `branch`'s entries that holds the key of the entry they belong to), `location` (a data frame prefix, member, type of the
#'   six parts of a location), `choice_types` (input types whose columns
#'   hold answer labels), `integer_types` (input types read as whole
#'   numbers) and `no_column_types` (inputs that make no column).
#' @noRd
# It never changes, and it is asked for every column of every table: made
# once.
table_layout <- local({
  layout <- NULL
  function() {
    if (is.null(layout)) layout <<- cpp_check(table_layout_cpp())
    layout
  }
})

#' The columns of the table a column spec makes
#'
#' @param cs A column spec from `ec5_column_spec()`.
#' @return A data frame, one row per column of the table in order (system
#'   columns, then the questions with each location as its six parts): name,
#'   type (of the column builder), format and levels (from the spec; `NA` and
#'   none for system columns and location parts), question (the row of
#'   `cs$spec` the column comes from, `NA` for system columns).
#' @noRd
table_columns <- function(cs) {
  cpp_check(table_columns_cpp(cs$spec, cs$options))
}

# The column prefix of each part of a location, named by the member of the
# location object it holds ("latitude", "longitude", ...).
location_prefixes <- function() {
  parts <- table_layout()$location
  stats::setNames(parts$prefix, parts$member)
}

# The key column of a table (or CSV file) with these column names: a
# branch's key when it has one, else a form's; NA when it has neither.
entry_key <- function(names) {
  keys <- table_layout()$keys[c("branch", "form")]
  found <- keys[keys %in% names]
  if (length(found)) found[[1]] else NA_character_
}

# The export name of one part of a location question: `lat_14_where`.
location_column <- function(question, part = "latitude") {
  paste0(location_prefixes()[[part]], question)
}

# The label of each column of the table a column spec makes: the question
# text, and for a location's parts the question and the part
# ("where: latitude"); NA for system columns.
table_labels <- function(cs, columns = table_columns(cs)) {
  location <- table_layout()$location
  label <- cs$spec$label[columns$question]
  part <- !is.na(columns$part)
  label[part] <- paste0(label[part], ": ", location$label[match(columns$part[part], location$member)])
  label
}

# The attributes of a question column, the same whichever path made the table
# (JSON, CSV, local copy): `label` (the question), `ec5_format` on a Date
# (its datetime_format, the layout ec5_write_csv() writes it in) and
# `ec5_type = "integer"` on an integer question held as a double (its values
# are written as digits, as the server writes them, never as `9.2e+18`).
column_attributes <- c("label", "ec5_format", "ec5_type")

annotate_column <- function(x, label, type, format) {
  if (!is.na(label)) attr(x, "label") <- label
  if (inherits(x, "Date") && !is.na(format)) attr(x, "ec5_format") <- format
  if (is.double(x) && !is.object(x) && type %in% table_layout()$integer_types) {
    attr(x, "ec5_type") <- "integer"
  }
  x
}
