#' Read an Epicollect5 CSV export
#'
#' Reads a CSV file downloaded from the Epicollect5 website ("Download
#' entries") or fetched with `format=csv`, into the same table that the JSON
#' export gives: system columns first, then one typed column per question.
#'
#' Files as the server writes them (UTF-8 with or without a byte order mark,
#' PHP `fputcsv` quoting, LF line ends) are read exactly; files re-saved by a
#' spreadsheet (CRLF, other quoting, no final newline) are read too, and what
#' the editor changed is listed by [ec5_problems()].
#'
#' @section Types without a project definition:
#' A CSV file does not say what type each question has, so without `project`
#' the types are inferred, cautiously:
#' * `created_at` and `uploaded_at` are date-times (UTC), and six columns
#'   `lat_X`, `long_X`, `accuracy_X`, `UTM_Northing_X`, `UTM_Easting_X`,
#'   `UTM_Zone_X` are a location (numbers, the zone as text).
#' * Any other column becomes integer, double or Date only when *every*
#'   non-empty value is written exactly as the server writes that type, so
#'   that the value prints back to the same text: `12` is an integer, `34.6`
#'   a number, but `007`, `1.50` and `1e3` stay text.
#' * Dates are recognised in the three day-month-year layouts Epicollect5
#'   offers (`dd/MM/YYYY`, `MM/dd/YYYY`, `YYYY/MM/dd`), two digits for day and
#'   month. When every value fits both `dd/MM/YYYY` and `MM/dd/YYYY` (no day
#'   above 12) the column stays text, its candidate formats are kept in
#'   `attr(x, "ec5_csv")`, and a message says so: pass `project` to type it.
#' * Nothing is guessed from some of the values. A column of dates in which
#'   an editor rewrote some values (`12/7/2021`, `11/9/21`) stays text, and
#'   each rewritten value is listed by [ec5_problems()].
#' * Radio, checkbox and other choice questions stay text: only the project
#'   definition knows their possible answers.
#'
#' With `project`, each column gets the type of its question, exactly as the
#' JSON export gives it (factors, list columns for multiple answers, Dates in
#' the question's format, integers typed by the question's bounds, choice
#' answers decoded from HTML entities such as `R&amp;D`); a value that does
#' not fit is `NA` and listed by [ec5_problems()]. Without `project`, an
#' integer column is an R integer when its values fit 32 bits, and choice
#' answers are kept as written. Either way `created_by`'s placeholder
#' `"n/a"` is `NA`.
#'
#' @param path Path to the CSV file.
#' @inheritParams ec5_entries
#' @param project Optional: the project definition (an `ec5_project`, e.g.
#'   from [ec5_project_from_json()]) that types the columns.
#' @param form,branch,map_index Which form, branch and mapping of `project`
#'   the file was exported with; the defaults are the top form, no branch and
#'   the default mapping.
#' @param col_names The column names: `"export"`, the file's header, or
#'   `"clean"` (see the section Column names of [ec5_entries()]). The default
#'   is the option `epicollect5.col_names`, else `"export"`. Either way
#'   [ec5_write_csv()] writes the file's header.
#' @return A tibble with the entries, one row per entry (a duplicated
#'   `ec5_uuid`, or `ec5_branch_uuid` for a branch, keeps its last copy).
#'   Attributes: `problems` (see [ec5_problems()]; rows with `row = NA`
#'   and `column = ""` describe the file as a whole, such as the CR LF line
#'   ends and missing quotes a spreadsheet leaves when it saves a file
#'   again), `provenance` (the file, its MD5 sum and when it was read, and
#'   the project, form, branch and mapping when given), and `ec5_csv`
#'   (what [ec5_write_csv()] needs to write the file back: `bom`, the
#'   original `header`, `server_form`, whether the file is byte for byte as
#'   the server writes it, and `columns`, the type, format and candidate
#'   formats of each column). Date columns carry their format in attribute
#'   `ec5_format`.
#' @seealso [ec5_write_csv()] to write a table back as the server does.
#' @examples
#' path <- tempfile(fileext = ".csv")
#' writeLines(c(
#'   "ec5_uuid,created_at,uploaded_at,title,1_Date,2_Count",
#'   paste0(
#'     "0b6c6f2e-8f0a-4c39-9d55-6f1c2f3b0a01,",
#'     "2024-02-09T15:09:01.000Z,2024-02-09T15:09:53.000Z,\"Plot 1\",19/02/2024,3"
#'   )
#' ), path)
#' x <- ec5_read_csv(path)
#' x
#' ec5_problems(x)
#' @export
ec5_read_csv <- function(path, project = NULL, form = NULL, branch = NULL,
                         map_index = NULL,
                         col_names = getOption("epicollect5.col_names", "export"),
                         tz = "UTC") {
  csv_check_path(path)
  check_project(project, allow_null = TRUE)
  check_form(form)
  check_form(branch)
  check_count(map_index, min = 0, allow_null = TRUE)
  col_names <- check_col_names(col_names)
  check_tz(tz)
  columns <- if (!is.null(project)) {
    ec5_column_spec(project, form = form, branch = branch, map_index = map_index)
  }
  in_tz(name_columns(csv_read(path, columns, slug = project$project$slug), col_names), tz)
}

#' Write a table as an Epicollect5 CSV export
#'
#' Writes entries exactly as the Epicollect5 server writes its CSV export, so
#' that a file read with [ec5_read_csv()] from a raw export is written back
#' byte for byte: UTF-8 with a byte order mark, a field quoted only when it
#' holds a space, comma, quote, backslash, tab or line break (PHP `fputcsv`),
#' LF line ends and a final newline.
#'
#' Values are written in the server's text forms: date-times as
#' `YYYY-MM-DDTHH:MM:SS.sssZ` (UTC), Dates in their question's format
#' (attribute `ec5_format`, else the format recorded when the file was read,
#' else `dd/MM/YYYY`), integer questions as digits (also those held as
#' doubles, marked `ec5_type = "integer"`: `9223372036854775807`, the
#' server's largest, never `9.2233720368548E+18`), other numbers as PHP
#' prints them (`34.6`, `1.0E-5`), factors as their labels, the answers of a
#' list column joined with `", "` (a label holding a comma wrapped in
#' quotes), a missing `created_by` as the server's `n/a`, and `NA` as an
#' empty cell. Choice answers are written as the decoded text the table
#' holds (`R&D`), where the server writes the stored text (`R&amp;D`);
#' [ec5_read_csv()] reads both to the same value.
#'
#' The file is written to a temporary file in the same folder, then renamed:
#' it is either complete or not there.
#'
#' @param x A data frame of entries, from [ec5_read_csv()] or the JSON
#'   functions (location as its six columns), with export or clean names
#'   (the file gets the export names either way). It must have the entry key
#'   of an export, `ec5_uuid` (or `ec5_branch_uuid` for branch entries):
#'   other tables are refused with an error of class `ec5_error_argument`, as
#'   the file would be no Epicollect5 export.
#' @param path Path of the file to write; an existing file is replaced.
#' @param bom Whether to start the file with a UTF-8 byte order mark, as the
#'   server has since 2020. The default keeps what the file that `x` was read
#'   from had, and is `TRUE` for other tables.
#' @return `x`, invisibly.
#' @seealso [ec5_read_csv()].
#' @examples
#' path <- tempfile(fileext = ".csv")
#' x <- data.frame(
#'   ec5_uuid = "0b6c6f2e-8f0a-4c39-9d55-6f1c2f3b0a01",
#'   created_at = as.POSIXct("2024-02-09 15:09:01.250", tz = "UTC"),
#'   title = "Plot 1",
#'   `2_Count` = 3L,
#'   check.names = FALSE
#' )
#' ec5_write_csv(x, path)
#' readLines(path, encoding = "UTF-8")
#' @export
ec5_write_csv <- function(x, path, bom = NULL) {
  check_entries_table(x)
  csv_check_path(path, must_exist = FALSE)
  meta <- attr(x, "ec5_csv")
  if (is.null(bom)) bom <- if (is.logical(meta$bom)) meta$bom else TRUE
  check_bool(bom)
  columns <- lapply(x, function(col) if (inherits(col, "POSIXlt")) as.POSIXct(col) else col)
  columns <- csv_writer_placeholders(columns)
  # A table with clean names is written with the export names it came with.
  names(columns) <- export_names(x)
  kinds <- csv_writer_kinds(columns, meta, call = rlang::current_env())
  formats <- csv_writer_formats(columns, meta)
  bytes <- cpp_check(csv_write_cpp(columns, names(columns), kinds, formats, nrow(x), bom))
  write_atomic(bytes, path)
  invisible(x)
}

# --- reading ------------------------------------------------------------------

# Reads a CSV export typed by a column spec (ec5_column_spec()), or by
# inference when `columns` is NULL, `block` bytes at a time.
csv_read <- function(file, columns = NULL, slug = NULL, block = 2^20, call = rlang::caller_env()) {
  table <- csv_table(file, columns, block, call)
  attr(table, "provenance") <- csv_provenance(file, columns, slug)
  table
}

# Calls a C++ reader of the file: what makes it unreadable is a parse or io
# error naming the file.
csv_cpp <- function(result, file, call) {
  tryCatch(cpp_check(result), ec5_error_parse = function(e) {
    reason <- conditionMessage(e)
    ec5_abort(c("Could not read {.file {file}} as a CSV file.", "x" = "{reason}"),
      class = "parse", call = call
    )
  }, ec5_error_io = function(e) {
    reason <- conditionMessage(e)
    ec5_abort(c("Could not read {.file {file}}.", "x" = "{reason}"), class = "io", call = call)
  })
}

csv_check_path <- function(path, must_exist = TRUE, call = rlang::caller_env()) {
  check_path(path, call = call)
  if (dir.exists(path)) {
    ec5_abort("{.file {path}} is a folder, not a file.", class = "io", call = call)
  }
  if (must_exist && !file.exists(path)) {
    ec5_abort("File {.file {path}} does not exist.", class = "io", call = call)
  }
  if (!must_exist && !dir.exists(dirname(path))) {
    ec5_abort("Folder {.file {dirname(path)}} does not exist.", class = "io", call = call)
  }
}

# Reads the entries table: plans the type of every column from the header,
# infers the types the plan leaves open, then converts the cells in C++,
# where the table layout keeps the last copy of each entry and gathers the
# problems. Each C++ step reads the file again, in blocks.
csv_table <- function(file, columns, block, call = rlang::caller_env()) {
  opened <- csv_cpp(csv_open_cpp(enc2native(path.expand(file)), block), file, call)
  handle <- opened$handle
  header <- opened$header
  layout <- table_layout()
  key <- csv_key_column(header, layout$keys, file, call)
  plan <- if (is.null(columns)) {
    csv_plan(header)
  } else {
    csv_plan_spec(header, columns, layout, key, call)
  }
  inferred <- csv_infer(plan, handle, file, call)
  plan <- inferred$plan
  read <- csv_cpp(csv_convert_cpp(handle, plan, file.size(file)), file, call)
  found <- rbind(csv_layout_problems(read$layout, read$ragged, length(header)), inferred$problems)
  converted <- cpp_check(csv_finish_cpp(handle, key, found))
  # The warning names the columns in the file's order, as they were converted.
  warn_problems(converted$converted[order(match(converted$converted$column, header)), ], call = call)
  values <- csv_annotate(converted$columns, plan)
  names(values) <- make.unique(header, sep = "_")
  table <- tibble::new_tibble(values, nrow = length(values[[1]]))
  csv_inform_ambiguous(plan)
  structure(
    table,
    problems = tibble::as_tibble(converted$problems),
    ec5_csv = list(
      bom = read$layout$bom,
      header = header,
      server_form = csv_server_form(read$layout, read$ragged),
      columns = data.frame(
        name = header, type = plan$type, format = plan$format,
        candidates = plan$candidates, stringsAsFactors = FALSE
      )
    )
  )
}

# The column that identifies an entry; a file without one is not an export.
csv_key_column <- function(header, keys, file, call) {
  key <- entry_key(header)
  if (!is.na(key)) {
    return(key)
  }
  shown <- utils::head(header, 8)
  ec5_abort(
    c(
      "{.file {file}} is not an Epicollect5 export.",
      "x" = "It has no {.field {keys[['form']]}} or {.field {keys[['branch']]}} column.",
      "i" = "Its {length(header)} column{?s} begin{?s/} {.field {shown}}.",
      "i" = "Read files that were edited after download with {.fn utils::read.csv}."
    ),
    class = "parse", found = header, call = call
  )
}

# One row per CSV column: the type of its column builder (an input type, or
# "datetime" for created_at and uploaded_at, or "infer" when the values
# decide), format, levels and question label. The table layout types the
# system columns and complete locations.
csv_plan <- function(header) {
  n <- length(header)
  plan <- data.frame(
    name = header, type = cpp_check(csv_header_types_cpp(header)), format = NA_character_,
    candidates = NA_character_, label = NA_character_, min = NA_real_, max = NA_real_,
    stringsAsFactors = FALSE
  )
  plan$levels <- rep(list(character()), n)
  plan
}

# The plan from a column spec (ec5_column_spec()): question columns typed by
# their input type, columns the spec does not know inferred.
csv_plan_spec <- function(header, columns, layout, key, call) {
  mode_key <- layout$keys[[columns$options$mode]]
  if (key != mode_key) {
    ec5_abort(
      c(
        "The file does not come from the {if (key == 'ec5_uuid') 'form' else 'branch'} the arguments select.",
        "x" = "It has a {.field {key}} column; the {columns$options$mode} export has {.field {mode_key}}.",
        "i" = "Set {.arg form} and {.arg branch} to the form or branch the file was exported from."
      ),
      class = "argument", call = call
    )
  }
  plan <- csv_plan(header)
  questions <- table_columns(columns)
  questions$label <- table_labels(columns, questions)
  questions <- questions[!is.na(questions$question), , drop = FALSE]
  at <- match(header, questions$name)
  found <- !is.na(at) & !header %in% layout$system$name
  q <- questions[at[found], , drop = FALSE]
  plan$type[found] <- q$type
  plan$format[found] <- q$format
  plan$levels[found] <- q$levels
  plan$label[found] <- q$label
  plan$min[found] <- as.double(columns$spec$min[q$question] %||% NA_real_)
  plan$max[found] <- as.double(columns$spec$max[q$question] %||% NA_real_)
  csv_warn_unmatched(header[!found & plan$type == "infer"], setdiff(questions$name, header), call)
  plan
}

csv_warn_unmatched <- function(extra, missing, call) {
  if (length(extra)) {
    cli::cli_warn(c(
      "The project definition has no question for column{?s} {.field {extra}}.",
      "i" = "{cli::qty(extra)}{?Its type was/Their types were} inferred from the values."
    ), class = "ec5_warning_csv_columns", call = call)
  }
  if (length(missing)) {
    cli::cli_warn(c(
      "Column{?s} {.field {missing}} of the project definition {?is/are} not in the file.",
      "i" = "The definition may have changed since the file was downloaded."
    ), class = "ec5_warning_csv_columns", call = call)
  }
}

# Fills in the types of the "infer" columns from their values (a pass over
# the file, only when there are any).
csv_infer <- function(plan, handle, file, call) {
  todo <- which(plan$type == "infer")
  if (length(todo) == 0L) {
    return(list(plan = plan, problems = NULL))
  }
  inferred <- csv_cpp(csv_infer_cpp(handle, todo), file, call)
  plan$type[todo] <- inferred$type
  plan$format[todo] <- inferred$format
  plan$candidates[todo] <- inferred$candidates
  plan$min[todo] <- inferred$min
  plan$max[todo] <- inferred$max
  list(plan = plan, problems = inferred$problems)
}

# Sets the question label, the date format and the integer mark on the
# converted columns.
csv_annotate <- function(values, plan) {
  Map(annotate_column, values, plan$label, plan$type, plan$format)
}

csv_problem_rows <- function(row = integer(), column = character(),
                             expected = character(), actual = character()) {
  n <- length(row)
  data.frame(
    row = as.integer(row), column = rep_len(as.character(column), n),
    expected = rep_len(as.character(expected), n), actual = rep_len(as.character(actual), n),
    stringsAsFactors = FALSE
  )
}

# File-level departures from the server's own form: the marks of an editor.
csv_layout_problems <- function(layout, ragged, ncol) {
  checks <- list(
    crlf = c("LF line ends", "CR LF line ends"),
    lone_cr = c("LF line ends", "CR line ends"),
    blank_lines = c("no blank lines", "blank lines (skipped)"),
    unquoted = c(
      "fields with a space, comma, quote, backslash, tab or line break quoted",
      "such fields unquoted"
    ),
    overquoted = c("only fields with a space, comma, quote, backslash, tab or line break quoted", "other fields quoted"),
    escaping = c("quotes inside quoted fields doubled as PHP fputcsv does", "other escaping"),
    after_quote = c("nothing between a closing quote and the next comma", "text after a closing quote")
  )
  count <- vapply(names(checks), function(k) layout[[k]][[1]], integer(1))
  line <- vapply(names(checks), function(k) layout[[k]][[2]], integer(1))
  hit <- count > 0L
  expected <- vapply(checks[hit], `[[`, "", 1L)
  actual <- sprintf("%s: %d, the first on line %d", vapply(checks[hit], `[[`, "", 2L), count[hit], line[hit])
  if (!layout$final_newline) {
    expected <- c(expected, "a newline at the end of the file")
    actual <- c(actual, "no final newline")
  }
  # Problems of the file as a whole have no row and column "", as on the
  # JSON path (src/problems.h).
  rbind(
    csv_problem_rows(rep(NA_integer_, length(expected)), "", expected, actual),
    csv_problem_rows(
      ragged$row, "", rep(sprintf("%d fields", ncol), length(ragged$row)),
      sprintf("%d fields", ragged$fields)
    )
  )
}

csv_server_form <- function(layout, ragged) {
  tallies <- c("crlf", "lone_cr", "blank_lines", "unquoted", "overquoted", "escaping", "after_quote")
  counts <- vapply(tallies, function(k) layout[[k]][[1]], integer(1))
  all(counts == 0L) && isTRUE(layout$final_newline) && length(ragged$row) == 0L
}

csv_inform_ambiguous <- function(plan) {
  ambiguous <- plan$name[!is.na(plan$candidates)]
  if (length(ambiguous) && !isFALSE(getOption("epicollect5.verbose"))) {
    cli::cli_inform(c(
      "i" = "Column{?s} {.field {ambiguous}} hold{?s/} dates that fit both
             {.val dd/MM/YYYY} and {.val MM/dd/YYYY}, so {?it was/they were} kept as text.",
      " " = "Pass {.arg project} to type {cli::qty(ambiguous)}{?it/them} from the
             project definition."
    ), class = "ec5_message_csv_ambiguous")
  }
}

# Where the table came from; the fields of the JSON path where they apply.
csv_provenance <- function(file, columns, slug) {
  provenance(
    slug, columns, "csv",
    file = normalizePath(file),
    md5 = unname(tools::md5sum(file)),
    read_at = Sys.time()
  )
}

# --- writing ------------------------------------------------------------------

# A missing value of a system column that the server fills with a
# placeholder (`created_by`: "n/a") is written as the placeholder.
csv_writer_placeholders <- function(columns) {
  system <- table_layout()$system
  filled <- system[nzchar(system$placeholder) & system$name %in% names(columns), ]
  for (i in seq_len(nrow(filled))) {
    col <- columns[[filled$name[[i]]]]
    if (is.character(col)) columns[[filled$name[[i]]]][is.na(col)] <- filled$placeholder[[i]]
  }
  columns
}

# How the C++ writer renders each column, from its class; a double holding
# an integer question (its `ec5_type`, or the type recorded when the file
# was read) is written as digits.
csv_writer_kinds <- function(columns, meta, call = rlang::caller_env()) {
  integer_types <- table_layout()$integer_types
  whole <- names(columns) %in% meta$columns$name[meta$columns$type %in% integer_types] |
    vapply(columns, function(col) identical(attr(col, "ec5_type", exact = TRUE), "integer"), logical(1))
  kinds <- vapply(seq_along(columns), function(j) {
    col <- columns[[j]]
    if (is.factor(col)) {
      "factor"
    } else if (inherits(col, "POSIXct")) {
      "timestamp"
    } else if (inherits(col, "Date")) {
      "date"
    } else if (is.object(col)) {
      NA_character_
    } else if (is.list(col)) {
      "list"
    } else {
      switch(typeof(col),
        character = "text",
        logical = "logical",
        integer = "integer",
        double = if (whole[[j]]) "whole" else "decimal",
        NA_character_
      )
    }
  }, character(1))
  bad <- names(columns)[is.na(kinds)]
  if (length(bad)) {
    classes <- vapply(columns[is.na(kinds)], function(col) class(col)[[1]], character(1))
    ec5_abort(
      c(
        "Column{?s} {.field {bad}} cannot be written to an Epicollect5 CSV file.",
        "x" = "{cli::qty(bad)}{?Its/Their} class{?/es} {?is/are} {.cls {classes}}.",
        "i" = "Convert {cli::qty(bad)}{?it/them} to character, numbers, dates or date-times first."
      ),
      class = "argument", call = call
    )
  }
  kinds
}

# The layout of each Date column: its own attribute, else the format recorded
# when the file was read, else the server's default.
csv_writer_formats <- function(columns, meta) {
  recorded <- rep(NA_character_, length(columns))
  if (!is.null(meta$columns)) {
    recorded <- meta$columns$format[match(names(columns), meta$columns$name)]
  }
  own <- vapply(columns, function(col) {
    f <- attr(col, "ec5_format", exact = TRUE)
    if (rlang::is_string(f)) f else NA_character_
  }, character(1), USE.NAMES = FALSE)
  formats <- ifelse(is.na(own), recorded, own)
  ifelse(is.na(formats), "dd/MM/YYYY", formats)
}

# Each cell of one column as the CSV writer renders it, unquoted: the text
# forms of the website's export for other file formats (the answers of a
# list column joined with ", ").
csv_cells <- function(col, name, call = rlang::caller_env()) {
  columns <- stats::setNames(list(col), name)
  kind <- csv_writer_kinds(columns, NULL, call = call)
  cells <- cpp_check(csv_cells_cpp(col, name, kind, csv_writer_formats(columns, NULL)), call = call)
  cells[!nzchar(cells)] <- NA_character_
  cells
}
