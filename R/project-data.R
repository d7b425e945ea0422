#' Get a whole project as linked tables
#'
#' Fetches every form and every branch of a project, however deep, as a
#' named list of tibbles that join: a child form's `ec5_parent_uuid` is its
#' parent form's `ec5_uuid`, and a branch's `ec5_branch_owner_uuid` is the
#' `ec5_uuid` of the form entry that owns it. The definition is fetched once
#' and each form and branch costs about one request per 1000 entries (see
#' [ec5_entries()] for how tables are read while the project changes).
#'
#' @inheritParams ec5_entries
#' @param forms The forms to fetch (names, slugs or refs); `NULL` for all.
#' @param branches Whether to fetch the branches of those forms too.
#' @param ... Arguments passed to [ec5_entries()] and [ec5_branch_entries()]
#'   for every table: `since`, `until`, `date_field`, `map_index`,
#'   `created_by`.
#' @param col_names The column names of every table: `"export"` or
#'   `"clean"` (see the section Column names of [ec5_entries()]). The
#'   default is the option `epicollect5.col_names`, else `"export"`.
#' @return An `ec5_project_data` object: a named list of tibbles, one per
#'   form (named by the form's name) and per branch (named by the branch
#'   question's export name), with attributes `project` (the [ec5_project()])
#'   and `hierarchy` (a tibble: `table`, `kind`, `ref`, `parent`, `rows`).
#' @seealso [ec5_join()] to join a table to its parent.
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE)
#' url <- ec5_demo_server()
#' x <- ec5_project_data("ec5-demo", base_url = url)
#' x
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_project_data <- function(slug, forms = NULL, branches = TRUE, ...,
                             col_names = getOption("epicollect5.col_names", "export"),
                             tz = "UTC",
                             auth = NULL, base_url = ec5_base_url()) {
  col_names <- check_col_names(col_names)
  check_tz(tz)
  base_url <- check_base_url(base_url)
  slug <- check_slug(slug, base_url)
  check_strings(forms, allow_null = TRUE, must = "the names, slugs or refs of forms, or {.code NULL}")
  check_bool(branches)
  call <- rlang::current_env()
  args <- do.call(table_args, c(list(slug, base_url), project_data_filters(...), call = call))
  auth <- resolve_auth(auth, base_url)
  project <- project_get(slug, auth, base_url)
  plan <- project_data_plan(project, forms, branches)
  tables <- lapply(seq_len(nrow(plan)), function(i) {
    fetch_table(slug, project, plan[i, ], args, auth, call)
  })
  names(tables) <- plan$table
  in_tz(new_project_data(tables, project, plan, col_names), tz)
}

# The checked arguments (entries_args()) of every table of a project: all
# entries, in upload order, with the filters `ec5_project_data()` takes.
# `sort_order`, `max_entries`, `per_page` and `one_page` (one request, even
# when the server caps pages lower) serve ec5_sync()'s probe and count.
table_args <- function(slug, base_url, since = NULL, until = NULL,
                       date_field = "uploaded_at", map_index = NULL,
                       created_by = "keep", sort_order = "asc",
                       max_entries = Inf, per_page = 1000L, one_page = FALSE,
                       call = rlang::caller_env()) {
  args <- entries_args(
    slug, map_index, uuid = NULL, title = NULL, since = since, until = until,
    date_field = date_field, sort_by = "uploaded_at", sort_order = sort_order,
    max_entries = max_entries, per_page = per_page, base_url = base_url,
    created_by = created_by, call = call
  )
  args$one_page <- one_page
  args
}

# The entries of one table of a project_data_plan() row, as ec5_entries() or
# ec5_branch_entries() fetch them, but with the definition at hand: no
# definition or version request per table.
fetch_table <- function(slug, project, row, args, auth, call) {
  cs <- table_column_spec(project, row, args$query$map_index)
  query <- args$query
  query$form_ref <- cs$form_ref
  query$branch_ref <- if (row$kind == "branch") row$ref
  fetch_entries(slug, query, cs, args, auth, call = call)
}

# The column spec of one table of a project_data_plan() row.
table_column_spec <- function(project, row, map_index = NULL) {
  branch <- if (row$kind == "branch") row$ref
  ec5_column_spec(project, form = row$form_ref, branch = branch, map_index = map_index)
}

project_data_filters <- function(..., call = rlang::caller_env()) {
  filters <- list(...)
  allowed <- c("since", "until", "date_field", "map_index", "created_by")
  unknown <- setdiff(names(filters), allowed)
  unnamed <- length(filters) && (is.null(names(filters)) || !all(nzchar(names(filters))))
  if (length(unknown) || unnamed) {
    ec5_abort(
      c("{.arg ...} takes only these filters, by name: {.arg {allowed}}.",
        "x" = if (length(unknown)) "You supplied {.arg {unknown}}." else "You supplied an argument without a name."),
      class = "argument", argument = "...", call = call
    )
  }
  filters
}

# One row per table to fetch, forms in hierarchy order, each form's branches
# right after it.
project_data_plan <- function(project, forms, branches, call = rlang::caller_env()) {
  form_rows <- project$forms
  if (!is.null(forms)) {
    wanted <- vapply(forms, function(f) resolve_form(project, f, NULL, NULL, call)$ref, "")
    form_rows <- form_rows[form_rows$ref %in% wanted, ]
  }
  parent_name <- form_rows$name[match(form_rows$parent_ref, form_rows$ref)]
  plan <- tibble::tibble(
    table = form_rows$name,
    kind = "form",
    ref = form_rows$ref,
    form_ref = form_rows$ref,
    parent = parent_name,
    order = seq_len(nrow(form_rows)) * 1000
  )
  if (branches) {
    inputs <- project$inputs
    b <- inputs[inputs$type == "branch" & inputs$form_ref %in% form_rows$ref, ]
    owner <- match(b$form_ref, form_rows$ref)
    plan <- rbind(plan, tibble::tibble(
      table = b$map_to,
      kind = "branch",
      ref = b$ref,
      form_ref = b$form_ref,
      parent = form_rows$name[owner],
      order = owner * 1000 + seq_len(nrow(b))
    ))
  }
  plan <- plan[order(plan$order), ]
  plan$order <- NULL
  plan
}

new_project_data <- function(tables, project, plan, col_names = "export") {
  plan$rows <- vapply(tables, nrow, integer(1))
  structure(
    lapply(tables, name_columns, col_names = col_names),
    class = c("ec5_project_data", "list"),
    project = project,
    hierarchy = plan[c("table", "kind", "ref", "parent", "rows")]
  )
}

#' Some tables of project data
#'
#' `x[c("University", "Student")]` keeps the tables named (or numbered) and
#' stays an `ec5_project_data` object: the project, the rows of the
#' hierarchy of those tables, and the other attributes are kept.
#'
#' @param x An `ec5_project_data` object.
#' @param i Table names, numbers or a logical vector, as for a list.
#' @return An `ec5_project_data` object.
#' @keywords internal
#' @export
`[.ec5_project_data` <- function(x, i) {
  tables <- unclass(x)[i]
  unknown <- is.na(names(tables))
  if (any(unknown)) {
    abort_argument(
      i, "i", "the names, numbers or a logical vector of tables of the project data",
      bullets = c("i" = "The tables are {.val {names(x)}}."), call = rlang::current_env()
    )
  }
  kept <- attributes(x)
  kept$names <- names(tables)
  h <- kept$hierarchy
  kept$hierarchy <- h[match(names(tables), h$table), ]
  changes <- kept$changes
  if (!is.null(changes)) kept$changes <- changes[match(names(tables), changes$table), ]
  attributes(tables) <- kept
  tables
}

#' @export
print.ec5_project_data <- function(x, ...) {
  cat(format(x, ...), sep = "\n")
  invisible(x)
}

#' @export
format.ec5_project_data <- function(x, ...) {
  project <- attr(x, "project")$project
  h <- attr(x, "hierarchy")
  depth <- vapply(seq_len(nrow(h)), function(i) table_depth(h, i), integer(1))
  label <- ifelse(h$kind == "branch", paste0(h$table, " (branch)"), h$table)
  rows <- format(paste(format(h$rows, big.mark = ","), ifelse(h$rows == 1L, "row", "rows")), justify = "right")
  lines <- paste0(strrep("  ", depth), label)
  c(
    cli::format_inline("{.cls ec5_project_data} {.strong {project$name}} ({project$slug}, {project$access})"),
    paste0(format(lines), "  ", rows)
  )
}

table_depth <- function(h, i) {
  depth <- 0L
  parent <- h$parent[i]
  while (!is.na(parent)) {
    depth <- depth + 1L
    parent <- h$parent[match(parent, h$table)]
  }
  depth
}

#' Join a table of project data to its parent
#'
#' Adds the columns of the parent table (the parent form of a child form,
#' or the owning form of a branch) to each row of `child`, matching
#' `ec5_parent_uuid` or `ec5_branch_owner_uuid` to the parent's `ec5_uuid`.
#' Parent columns whose names clash with the child's get the suffix
#' `suffix`.
#'
#' @param x An `ec5_project_data` object from [ec5_project_data()].
#' @param child The name of the child table.
#' @param parent The name of the parent table; the default is the child's
#'   parent in the project's hierarchy.
#' @param suffix Added to the names of parent columns that clash.
#' @return A tibble: the rows of `child` (in their order), followed by the
#'   columns of the matching parent row (`NA` where none matches).
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE)
#' url <- ec5_demo_server()
#' x <- ec5_project_data("ec5-demo", base_url = url)
#' ec5_join(x, names(x)[2])
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_join <- function(x, child, parent = NULL, suffix = "_parent") {
  check_project_data(x)
  h <- attr(x, "hierarchy")
  check_table_name(child, h$table)
  if (!is.null(parent)) check_table_name(parent, h$table)
  check_string(suffix, must = "a single non-empty string")
  parent <- parent %||% h$parent[match(child, h$table)]
  if (is.na(parent)) {
    abort_argument(
      child, "child", "a table with a parent: a child form or a branch",
      shown = "You supplied {ec5_shown}, a top form.", call = rlang::current_env()
    )
  }
  kid <- x[[child]]
  layout <- table_layout()
  link <- if (layout$links[["branch"]] %in% names(kid)) layout$links[["branch"]] else layout$links[["form"]]
  # A parent (of a child form or of a branch) is always a form's entry.
  up <- x[[parent]]
  up_key <- layout$keys[["form"]]
  rows <- match(kid[[link]], up[[up_key]])
  extra <- up[rows, setdiff(names(up), up_key), drop = FALSE]
  clash <- names(extra) %in% names(kid)
  names(extra)[clash] <- paste0(names(extra)[clash], suffix)
  out <- tibble::as_tibble(c(kid, extra))
  restore_table_attributes(out, kid)
}
