#' Get a project's definition
#'
#' Fetches the definition of a project (its forms, questions, branches,
#' possible answers, mappings and entry counts) from
#' `/api/export/project/{slug}`. The definition is cached for the R session
#' and fetched again only when `/api/project-version/{slug}` shows that the
#' project's structure changed, so repeated calls do not spend the project's
#' rate-limit budget.
#'
#' @param slug The project slug: the last part of the project's URL, e.g.
#'   `"ec5-demo"` for `https://five.epicollect.net/project/ec5-demo`. The URL
#'   itself will do too, as copied from the browser (any page of the
#'   project) or from an API request: the slug is read from it. A URL on a
#'   server other than `base_url` is refused, as requests (and credentials)
#'   only go to `base_url`.
#' @param auth An [ec5_auth()] object for a private project. The default,
#'   `NULL`, uses `EC5_CLIENT_ID` and `EC5_CLIENT_SECRET` when they are set
#'   and no credentials otherwise (enough for public projects).
#' @param base_url The server, see [ec5_base_url()].
#' @return An `ec5_project` object: a list with `project` (metadata),
#'   `forms` (a tibble: ref, name, slug, level, parent_ref), `inputs` (a
#'   tibble with one row per question: ref, form and owning group or branch,
#'   type, question, export name under the default mapping, date format and
#'   possible answers), `mappings`, `mapping_inputs` and `stats`.
#' @seealso [ec5_entries()] to fetch the entries of a form.
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE)
#' url <- ec5_demo_server()
#' ec5_project("ec5-demo", base_url = url)
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_project <- function(slug, auth = NULL, base_url = ec5_base_url()) {
  base_url <- check_base_url(base_url)
  slug <- check_slug(slug, base_url)
  auth <- resolve_auth(auth, base_url)
  project_get(slug, auth, base_url)
}

project_cache <- new.env(parent = emptyenv())

# The cached definition when the server's structure version still matches,
# else a fresh one. The version endpoint is free of the export budget.
project_get <- function(slug, auth, base_url, call = rlang::caller_env()) {
  project_get_versioned(slug, auth, base_url, call)$project
}

# The definition and the structure version it is current for.
project_get_versioned <- function(slug, auth, base_url, call = rlang::caller_env()) {
  key <- paste(base_url, slug, sep = "|")
  version <- project_version(slug, base_url, call = call)
  cached <- project_cache[[key]]
  if (!is.null(cached) && identical(cached$version, version)) {
    return(cached)
  }
  project <- ec5_api_json(
    base_url, paste0("/api/export/project/", slug),
    auth = auth, pace = list(slug = slug, class = "project"),
    parse = ec5_project_from_json,
    what = "project definition request", call = call
  )
  attr(project, "base_url") <- base_url
  project_cache[[key]] <- list(version = version, project = project)
}

# The definition of a project this session fetched from `base_url`, or NULL.
project_cached <- function(base_url, slug) {
  if (!rlang::is_string(base_url) || !rlang::is_string(slug)) {
    return(NULL)
  }
  project_cache[[paste(base_url, slug, sep = "|")]]$project
}

# The project's structure version from /api/project-version/{slug}, or NA
# when the server does not offer it (older servers): then the definition is
# cached for the session without a staleness check.
project_version <- function(slug, base_url, call = rlang::caller_env()) {
  ec5_retrying(
    function() {
      http_transfer(
        paste0(base_url, "/api/project-version/", slug),
        pace = list(slug = slug, class = "global"), call = call
      )
    },
    finish = function(resp) version_from_response(resp, slug, base_url, call),
    what = "project version request",
    call = call
  )
}

version_from_response <- function(resp, slug, base_url, call) {
  if (resp$status == 400L && identical(error_code(resp), "ec5_11")) {
    ec5_abort(
      c("Project {.val {slug}} was not found on {.url {base_url}}.",
        "i" = "Check the slug: it is the last part of the project's URL. {.fn ec5_search_projects} finds projects by name."),
      class = "not_found", status = 404L, code = "ec5_11", call = call
    )
  }
  if (resp$status >= 400L) {
    return(NA_character_)
  }
  attributes <- json_parse(resp$body)$data$attributes
  version <- attributes$version %||% attributes$structure_last_updated
  if (is.null(version)) NA_character_ else as.character(version)
}

#' Forget cached project definitions
#'
#' Definitions fetched by [ec5_project()] are kept for the R session. This
#' clears them, so the next call fetches the definition again.
#'
#' @return `NULL`, invisibly.
#' @keywords internal
#' @noRd
project_cache_clear <- function() {
  rm(list = ls(project_cache), envir = project_cache)
  invisible(NULL)
}
