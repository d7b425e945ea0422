#' Read a project definition from JSON
#'
#' Turns the JSON of a project definition into an `ec5_project` object, the
#' same object [ec5_project()] returns. It reads the response of
#' `/api/export/project/{slug}`, the `/api/project/{slug}` response of the
#' mobile app, and a bare definition (`{"data": {"project": ...}}` without
#' `meta`, as the formbuilder saves it). When the JSON carries no mapping,
#' the EC5_AUTO mapping is generated exactly as the server would.
#'
#' @section Texts:
#' The server stores question texts and possible answers with HTML entities
#' (`R&amp;D`, `&lt;5 years`). They are decoded here, once, so question
#' texts, possible answers, the export labels of answers, factor levels and
#' column labels read `R&D` and `<5 years`, and the choice answers of
#' entries are decoded to match. A readme question is HTML (a paragraph,
#' bold text, line breaks); its `question` is its plain text, tags removed
#' and line breaks kept. No other question text is HTML: a `<` in it is
#' one the person who built the form typed, and it is kept. Free-text
#' answers are stored as typed and are never decoded. Export names (the
#' EC5_AUTO `map_to`) are made from the stored text, as the server makes
#' them.
#'
#' @param json The JSON text: a single string or a raw vector (for example
#'   `readBin(path, "raw", file.size(path))`).
#' @return An `ec5_project` object: a list with
#'   * `project`: the project's metadata (ref, name, slug, access, status,
#'     category, visibility, description, small_description, created_at,
#'     homepage, ...);
#'   * `forms`: a tibble (ref, name, slug, level (1 = top form), parent_ref);
#'   * `inputs`: a tibble with every question in definition order, groups
#'     and branches before their children (ref, form_ref, parent_ref (the
#'     enclosing group or branch), branch_ref (the owning branch), type,
#'     question, map_to (the export name under the default mapping),
#'     datetime_format, min and max (the numeric bounds of an integer or
#'     decimal question, `NA` when unset), is_title, is_required,
#'     possible_answers (a list of tibbles answer_ref, answer));
#'   * `mappings`: a tibble (map_index, name, is_default, generated);
#'   * `mapping_inputs`: a tibble (map_index, input_ref, map_to, hide,
#'     answers: named character vectors answer_ref -> export label);
#'   * `stats`: a list (total_entries, form_counts and branch_counts as
#'     tibbles, structure_last_updated, ...).
#' @seealso [ec5_project()] to fetch a definition, [ec5_parse_entries()] to
#'   flatten entries with it.
#' @export
#' @examples
#' json <- '{"data": {"project": {"ref": "p1", "name": "Birds", "slug": "birds",
#'   "access": "public", "forms": [{"ref": "p1_f1", "name": "Sighting",
#'   "slug": "sighting", "inputs": [{"ref": "p1_f1_q1", "type": "integer",
#'   "question": "How many?", "possible_answers": []}]}]}}}'
#' ec5_project_from_json(json)
ec5_project_from_json <- function(json) {
  check_json_text(json)
  new_ec5_project(cpp_check(definition_read_cpp(json)))
}

new_ec5_project <- function(raw) {
  mappings <- tibble::as_tibble(raw$mappings)
  mappings$generated <- rep(raw$mapping_generated, nrow(mappings))
  mapping_inputs <- tibble::as_tibble(raw$mapping_inputs)
  inputs <- tibble::as_tibble(raw$inputs)
  default <- mapping_inputs[mapping_inputs$map_index == default_map_index(mappings), ]
  map_to <- default$map_to[match(inputs$ref, default$input_ref)]
  inputs <- tibble::add_column(inputs, map_to = map_to, .after = "question")
  stats <- raw$stats
  stats$form_counts <- tibble::as_tibble(stats$form_counts)
  stats$branch_counts <- tibble::as_tibble(stats$branch_counts)
  structure(
    list(
      project = raw$project,
      forms = tibble::as_tibble(raw$forms),
      inputs = inputs,
      mappings = mappings,
      mapping_inputs = mapping_inputs,
      stats = stats
    ),
    class = "ec5_project"
  )
}

default_map_index <- function(mappings) {
  mappings$map_index[mappings$is_default][1]
}

#' @export
format.ec5_project <- function(x, ...) {
  p <- x$project
  forms <- x$forms
  inputs <- x$inputs
  questions <- !inputs$type %in% table_layout()$no_column_types
  header <- cli::format_inline(
    "{.cls ec5_project} {.strong {p$name}} ({p$slug}, {p$access})"
  )
  form_lines <- vapply(seq_len(nrow(forms)), function(i) {
    format_form(forms[i, ], inputs, questions, x$stats)
  }, character(1))
  maps <- x$mappings
  map_text <- paste0(
    maps$name, " (", maps$map_index,
    ifelse(maps$is_default, ", default", ""),
    ifelse(maps$generated, ", generated", ""), ")"
  )
  c(
    header,
    paste0("Forms (", nrow(forms), "):"),
    form_lines,
    paste0("Mappings: ", paste(map_text, collapse = ", "))
  )
}

# One form and, indented below it, its branches.
format_form <- function(form, inputs, questions, stats) {
  own <- inputs$form_ref %in% form$ref & is.na(inputs$branch_ref) & questions
  entries <- entry_count(stats, "form_counts", form$ref)
  line <- paste0(
    "  ", form$level, ". ", form$name, ": ", count_text(sum(own), "question"),
    if (!is.na(entries)) paste0(", ", count_text(entries, "entry", "entries"))
  )
  branches <- inputs[own & inputs$type %in% "branch", ]
  branch_lines <- vapply(seq_len(nrow(branches)), function(i) {
    b <- branches[i, ]
    n <- sum(inputs$branch_ref %in% b$ref & questions)
    entries <- entry_count(stats, "branch_counts", b$ref)
    paste0(
      "     branch ", b$question, ": ", count_text(n, "question"),
      if (!is.na(entries)) paste0(", ", count_text(entries, "entry", "entries"))
    )
  }, character(1))
  paste(c(line, branch_lines), collapse = "\n")
}

# Entries of a form or branch: 0 when the stats omit it (PHP leaves out
# empty counts), NA when there are no stats at all.
entry_count <- function(stats, what, ref) {
  if (is.na(stats$total_entries)) {
    return(NA_real_)
  }
  counts <- stats[[what]]
  n <- counts$count[match(ref, counts[[1]])]
  if (is.na(n)) 0 else n
}

count_text <- function(n, singular, plural = paste0(singular, "s")) {
  paste(format(n, big.mark = ","), if (n == 1) singular else plural)
}

#' @export
print.ec5_project <- function(x, ...) {
  cat(format(x, ...), sep = "\n")
  invisible(x)
}

#' The columns of one form or branch under one mapping
#'
#' Resolves `form`, `branch` and `map_index` against the definition and lists
#' the question columns of the export in order (the contract shared by the
#' JSON flattener and the CSV reader; the table layout itself is src/table_layout.h's).
#'
#' @param project An `ec5_project`.
#' @param form A form's name, slug or ref; `NULL` is the top form (or, with
#'   `branch`, the form that holds the branch).
#' @param branch A branch question's text, export name or ref; `NULL` for the
#'   form itself.
#' @param map_index A mapping index; `NULL` is the default mapping.
#' @return A list: `spec` (a tibble name, type, format, levels, min, max
#'   (the bounds that type an integer question), label, ref),
#'   `options` (mode, child, private), `form_ref`, `form_name`, `branch_ref`,
#'   `branch_name`, `map_index`, `parent_form_ref`.
#' @noRd
ec5_column_spec <- function(project, form = NULL, branch = NULL, map_index = NULL,
                            call = rlang::caller_env()) {
  check_project(project, call = call)
  key <- column_spec_key(project, form, branch, map_index)
  cs <- if (!is.null(key)) column_spec_cache[[key]]$cs
  if (is.null(cs)) {
    cs <- column_spec_make(project, form, branch, map_index, call = call)
    if (!is.null(key)) column_spec_remember(key, project, cs)
  }
  warn_name_collisions(cs$spec$name, call = call)
  cs
}

# Column specs already made, by project, form, branch and mapping: a spec is
# needed for every page and every file, and making one costs milliseconds
# (more than flattening a small page). A project is known by the addresses of
# the parts of it that a spec reads; the cache keeps those parts alive, so an
# address cannot be reused by another object while its entry exists, and a
# modified copy of a project has new addresses.
column_spec_cache <- new.env(parent = emptyenv())

# At most this many specs are kept (a session reads a few projects).
column_spec_cache_size <- 64L

column_spec_parts <- c("project", "forms", "inputs", "mappings", "mapping_inputs")

# NULL when the arguments are not plain (they are then checked, with their
# errors, by column_spec_make() every time).
column_spec_key <- function(project, form, branch, map_index) {
  plain <- function(x) is.null(x) || (is.atomic(x) && length(x) == 1L && !is.na(x))
  if (!plain(form) || !plain(branch) || !plain(map_index)) {
    return(NULL)
  }
  addresses <- vapply(project[column_spec_parts], rlang::obj_address, character(1))
  args <- vapply(list(form, branch, map_index), function(x) {
    if (is.null(x)) "NULL" else paste0(class(x)[1], ":", format(x, digits = 17))
  }, character(1))
  paste(c(addresses, args), collapse = "|")
}

column_spec_remember <- function(key, project, cs) {
  if (length(column_spec_cache) >= column_spec_cache_size) {
    rm(list = ls(column_spec_cache), envir = column_spec_cache)
  }
  column_spec_cache[[key]] <- list(cs = cs, parts = project[column_spec_parts])
}

column_spec_make <- function(project, form, branch, map_index, call) {
  map_index <- resolve_map_index(project, map_index, call = call)
  mapped <- project$mapping_inputs[project$mapping_inputs$map_index == map_index, ]
  form_row <- resolve_form(project, form, branch, mapped, call = call)
  branch_row <- if (!is.null(branch)) resolve_branch(project, form_row, branch, mapped, call = call)
  inputs <- project$inputs
  rows <- if (is.null(branch_row)) {
    inputs$form_ref %in% form_row$ref & is.na(inputs$branch_ref)
  } else {
    inputs$branch_ref %in% branch_row$ref
  }
  spec <- spec_rows(inputs[rows & !inputs$type %in% table_layout()$no_column_types, ], mapped)
  list(
    spec = spec,
    options = list(
      mode = if (is.null(branch_row)) "form" else "branch",
      child = form_row$level > 1L,
      private = identical(project$project$access, "private")
    ),
    form_ref = form_row$ref,
    form_name = form_row$name,
    branch_ref = if (is.null(branch_row)) NA_character_ else branch_row$ref,
    branch_name = if (is.null(branch_row)) NA_character_ else branch_row$question,
    map_index = map_index,
    parent_form_ref = form_row$parent_ref
  )
}

# The questions that the server exports: those with an export name that the
# mapping does not hide (DataMappingService::getInputMapping).
spec_rows <- function(inputs, mapped) {
  k <- match(inputs$ref, mapped$input_ref)
  name <- mapped$map_to[k]
  keep <- !is.na(name) & nzchar(name) & !mapped$hide[k] %in% TRUE
  inputs <- inputs[keep, ]
  choice <- inputs$type %in% table_layout()$choice_types
  levels <- Map(
    function(answers, labels, is_choice) {
      if (!is_choice) {
        return(character(0))
      }
      out <- unname(labels[answers$answer_ref])
      unique(out[!is.na(out) & nzchar(out)])
    },
    inputs$possible_answers, mapped$answers[k[keep]], choice
  )
  tibble::tibble(
    name = name[keep],
    type = inputs$type,
    format = inputs$datetime_format,
    levels = unname(levels),
    min = inputs$min,
    max = inputs$max,
    label = inputs$question,
    ref = inputs$ref
  )
}

# API-NOTES.md §4.1: nothing stops a custom map_to from being a system key, and the
# server then overwrites the system field with the answer.
warn_name_collisions <- function(names, call) {
  clash <- intersect(names, table_layout()$system$name)
  if (length(clash)) {
    cli::cli_warn(
      c(
        "{cli::qty(length(clash))}The export name{?s} {.val {clash}} of {?a question/questions} {?is/are} also {?the name of a/names of} system column{?s}.",
        "i" = "The server sends only one value under such a name: the answer replaces the system field.",
        "i" = "The question column is renamed with a suffix (e.g. {.val {paste0(clash[1], '_1')}}); another {.arg map_index} avoids the clash."
      ),
      class = "ec5_warning_name_collision",
      call = call
    )
  }
}

resolve_map_index <- function(project, map_index, call) {
  maps <- project$mappings
  if (is.null(map_index)) {
    return(default_map_index(maps))
  }
  ok <- is.numeric(map_index) && length(map_index) == 1L && !is.na(map_index)
  if (!ok || !map_index %in% maps$map_index) {
    ec5_abort(
      c(
        "Mapping {.val {format(map_index)}} is not a mapping of project {.val {project$project$slug}}.",
        "i" = "Its mappings are {.val {paste0(maps$map_index, ' (', maps$name, ')')}}."
      ),
      class = "not_found", call = call
    )
  }
  as.integer(map_index)
}

resolve_form <- function(project, form, branch, mapped, call) {
  forms <- project$forms
  if (is.null(form)) {
    if (!is.null(branch)) {
      b <- find_branch(project$inputs, branch, mapped)
      if (length(b) == 1L) {
        return(forms[match(project$inputs$form_ref[b], forms$ref), ])
      }
    }
    return(forms[forms$level == 1L, ][1, ])
  }
  i <- if (rlang::is_string(form)) which(forms$ref == form | forms$name == form | forms$slug == form)
  if (length(i) == 0L) {
    ec5_abort(
      c(
        "Form {.val {format(form)}} is not a form of project {.val {project$project$slug}}.",
        "i" = "Its forms are {.val {forms$name}} (a name, slug or ref will do)."
      ),
      class = "not_found", call = call
    )
  }
  forms[i[1], ]
}

# Rows of `inputs` that are branch questions matching `branch` by ref,
# export name (under the mapping in use) or question text.
find_branch <- function(inputs, branch, mapped, form_ref = NULL) {
  if (!rlang::is_string(branch)) {
    return(integer(0))
  }
  map_to <- mapped$map_to[match(inputs$ref, mapped$input_ref)]
  hit <- inputs$type %in% "branch" &
    (inputs$ref %in% branch | map_to %in% branch | inputs$question %in% branch)
  if (!is.null(form_ref)) hit <- hit & inputs$form_ref %in% form_ref
  which(hit)
}

resolve_branch <- function(project, form_row, branch, mapped, call) {
  inputs <- project$inputs
  b <- find_branch(inputs, branch, mapped, form_row$ref)
  if (length(b) == 0L) {
    own <- inputs$type %in% "branch" & inputs$form_ref %in% form_row$ref
    ec5_abort(
      c(
        "Branch {.val {format(branch)}} is not a branch of form {.val {form_row$name}}.",
        "i" = if (any(own)) {
          "Its branches are {.val {inputs$question[own]}} (a question, export name or ref will do)."
        } else {
          "Form {.val {form_row$name}} has no branches."
        }
      ),
      class = "not_found", call = call
    )
  }
  inputs[b[1], ]
}
