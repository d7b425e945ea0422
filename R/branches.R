#' Get the entries of a branch
#'
#' A branch question lets a form entry own any number of branch entries (the
#' trees of a plot, say). The owning form's table holds only their count;
#' this function fetches the branch entries themselves, for every owner or for
#' one owner entry, with the same filters, paging and columns as
#' [ec5_entries()]. The keys `ec5_branch_owner_uuid` (the owning entry's
#' `ec5_uuid`) and `ec5_branch_uuid` come first.
#'
#' @inheritParams ec5_entries
#' @param branch The branch question: its question text, export name or ref.
#' @param form The form that holds the branch question (name, slug or ref).
#'   The default is the form of the branch question.
#' @param owner_uuid Only the branch entries of this owner entry.
#' @return A tibble with the columns described in [ec5_entries()], keyed by
#'   `ec5_branch_owner_uuid` and `ec5_branch_uuid`.
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE)
#' url <- ec5_demo_server()
#' p <- ec5_project("ec5-demo", base_url = url)
#' ec5_branch_entries("ec5-demo", branch = p$inputs$ref[p$inputs$type == "branch"][1],
#'                    base_url = url)
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_branch_entries <- function(slug, branch, form = NULL, owner_uuid = NULL,
                               map_index = NULL, uuid = NULL, title = NULL,
                               since = NULL, until = NULL,
                               date_field = c("uploaded_at", "created_at"),
                               sort_by = c("uploaded_at", "created_at", "title"),
                               sort_order = c("asc", "desc"),
                               max_entries = Inf, per_page = 1000L,
                               created_by = c("keep", "hash", "drop"),
                               col_names = getOption("epicollect5.col_names", "export"),
                               tz = "UTC",
                               auth = NULL, base_url = ec5_base_url()) {
  col_names <- check_col_names(col_names)
  check_tz(tz)
  args <- entries_args(
    slug, map_index, uuid, title, since, until, date_field, sort_by,
    sort_order, max_entries, per_page, base_url, created_by
  )
  slug <- args$slug
  check_form(branch, allow_null = FALSE)
  check_form(form)
  check_uuid(owner_uuid)
  auth <- resolve_auth(auth, args$base_url)
  project <- project_get(slug, auth, args$base_url)
  cs <- ec5_column_spec(project, form = form, branch = branch, map_index = map_index)
  query <- args$query
  # form_ref is needed too when the branch lives in a non-top form.
  query$form_ref <- cs$form_ref
  query$branch_ref <- cs$branch_ref
  query$branch_owner_uuid <- owner_uuid
  in_tz(name_columns(fetch_entries(slug, query, cs, args, auth), col_names), tz)
}
