#' A short string that changes when a project changes
#'
#' Summarises the state of a project in 16 hexadecimal characters that
#' change when its structure changes (a form or question edited) or when any
#' of its entries is added, edited or deleted. Use it as the cue of a
#' `targets` pipeline or as a cache key, to fetch the project again only
#' when something changed (see `vignette("pipelines")`).
#'
#' It is made of the project's structure version and, for each form and each
#' branch, the number of entries and the newest upload time: an addition or
#' a deletion changes the number, an edit the newest upload time (an edit is
#' an upload).
#'
#' @section Cost:
#' One project version request (free of the export rate limit), the project
#' definition when this R session has not fetched the current one yet, and
#' one entries request of one entry per form and per branch: 7 requests for
#' a project of 4 forms and 2 branches, whatever its number of entries.
#'
#' @inheritParams ec5_project
#' @return A string of 16 hexadecimal characters.
#' @seealso [ec5_project_data()] to fetch the project.
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE)
#' url <- ec5_demo_server()
#' ec5_fingerprint("ec5-demo", base_url = url)
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_fingerprint <- function(slug, auth = NULL, base_url = ec5_base_url()) {
  base_url <- check_base_url(base_url)
  slug <- check_slug(slug, base_url)
  auth <- resolve_auth(auth, base_url)
  call <- rlang::current_env()
  got <- project_get_versioned(slug, auth, base_url, call)
  plan <- project_data_plan(got$project, NULL, TRUE)
  tables <- lapply(seq_len(nrow(plan)), function(i) {
    newest_entry(slug, plan[i, ], auth, base_url, call)
  })
  substr(rlang::hash(list(slug, got$version, plan$ref, tables)), 1, 16)
}

# The number of entries of one table and its newest upload (time and key),
# from one request of one entry, newest upload first.
newest_entry <- function(slug, row, auth, base_url, call) {
  query <- list(
    form_ref = row$form_ref,
    branch_ref = if (row$kind == "branch") row$ref,
    per_page = 1L, page = 1L, sort_by = "uploaded_at", sort_order = "desc"
  )
  page <- ec5_api_json(
    base_url, paste0("/api/export/entries/", slug), query,
    auth = auth, pace = list(slug = slug, class = "entries"),
    what = "entries request", call = call
  )
  # An element of `entries` can be null (API-NOTES.md §3.2).
  newest <- Filter(Negate(is.null), page$data$entries)[1][[1]]
  list(
    total = page$meta$total,
    uploaded_at = newest$uploaded_at,
    key = newest[[table_layout()$keys[[row$kind]]]]
  )
}
