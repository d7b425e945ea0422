#' Search projects by name
#'
#' Finds projects whose name starts with `name` (case-insensitive), as the
#' server's `/api/projects/{name}` does: at most 50 hits, an exact match
#' first. Private and hidden projects are listed too, with their access, but
#' their data needs credentials.
#'
#' @param name The start of the project name.
#' @param exact If `TRUE`, only the project with exactly this name.
#' @inheritParams ec5_project
#' @return A tibble with columns `name`, `slug`, `access` and `ref`, one row
#'   per project (zero rows when nothing matches).
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE)
#' url <- ec5_demo_server()
#' ec5_search_projects("EC5", base_url = url)
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_search_projects <- function(name, exact = FALSE, base_url = ec5_base_url()) {
  must <- "the start of a project name: a non-empty string without {.val /}"
  check_string(name, must = must)
  if (grepl("/", name, fixed = TRUE)) {
    abort_argument(name, "name", must, call = rlang::current_env())
  }
  check_bool(exact)
  base_url <- check_base_url(base_url)
  hits <- ec5_api_json(
    base_url, paste0("/api/projects/", utils::URLencode(name, reserved = TRUE)),
    query = if (exact) list(exact = "true") else list(),
    pace = list(slug = "", class = "global"),
    what = "project search"
  )$data
  field <- function(f) {
    vapply(hits, function(h) as.character(h$project[[f]] %||% NA_character_), "")
  }
  tibble::tibble(
    name = field("name"),
    slug = field("slug"),
    access = field("access"),
    ref = field("ref")
  )
}
