# Every function that reads a project takes it as `slug`: the slug itself
# (lower case letters, digits and hyphens, API-NOTES.md §1) or a URL pasted
# from the browser or from an API request, such as
# https://five.epicollect.net/project/ec5-demo/data or
# https://five.epicollect.net/api/export/entries/ec5-demo?form_ref=...
# check_slug() is the one place that reads it.
#
# A URL names a server as well as a project. Requests still go to `base_url`
# only: a URL on another server is refused, never followed, because the
# credentials of EC5_CLIENT_ID and EC5_CLIENT_SECRET and the local copies
# belong to `base_url`, and a pasted link must not send them elsewhere.

# The slug of `slug` (a slug or a project URL on `base_url`; any server when
# `base_url` is NULL).
check_slug <- function(slug, base_url = NULL, call = rlang::caller_env()) {
  must <- "a project slug such as {.val ec5-demo}, or the project's URL"
  check_string(slug, "slug", must = must, call = call)
  if (grepl("/", slug, fixed = TRUE)) {
    slug <- slug_from_url(slug, base_url, must, call)
  }
  if (!grepl("^[a-z0-9]+(-[a-z0-9]+)*$", slug)) {
    suggestion <- slugify(slug)
    abort_argument(
      slug, "slug", "a project slug: lower case letters, digits and hyphens",
      bullets = c("i" = if (nzchar(suggestion)) "Did you mean {.val {suggestion}}? The slug is the last part of the project's URL."),
      call = call
    )
  }
  slug
}

# The paths that name a project: the website's /project/{slug}[/...] and the
# API's endpoints (API-NOTES.md §2), after the server's own path, if any.
project_url_pattern <- paste0(
  "^(?:(https?)://)?([^/?#[:space:]]+)((?:/[^/?#[:space:]]+)*?)",
  "/(?:project|api/(?:export/|json/)?(?:entries|entries-locations|project|project-version|media))",
  "/([^/?#[:space:]]+)"
)

slug_from_url <- function(url, base_url, must, call) {
  parts <- regmatches(url, regexec(project_url_pattern, url, ignore.case = TRUE, perl = TRUE))[[1]]
  if (!length(parts)) {
    abort_argument(
      url, "slug", must,
      bullets = c("i" = "A project's URL looks like {.url https://five.epicollect.net/project/ec5-demo}."),
      call = call
    )
  }
  slug <- utils::URLdecode(parts[[5]])
  server <- paste0(if (nzchar(parts[[2]])) tolower(parts[[2]]) else "https", "://", parts[[3]], parts[[4]])
  if (!is.null(base_url) && !identical(server_key_of(server), server_key_of(base_url))) {
    ec5_abort(
      c(
        "{.arg slug} is the URL of a project on another server.",
        "x" = "The project is on {.url {server}}; requests go to {.url {base_url}} ({.arg base_url}).",
        "i" = "To read it from {.url {server}}, pass {.code base_url = {deparse(server)}}.",
        "i" = "To read project {.val {slug}} from {.url {base_url}}, give only the slug."
      ),
      class = "argument", argument = "slug", url = url, server = server, call = call
    )
  }
  slug
}

# A server address compared without its scheme, default port, trailing
# slashes or the case of its host: requests go to `base_url` as it is written.
server_key_of <- function(url) {
  parts <- regmatches(url, regexec("^(?:(https?)://)?([^/]+)(.*)$", url, ignore.case = TRUE))[[1]]
  host <- sub(":(80|443)$", "", tolower(parts[[3]]))
  paste0(host, sub("/+$", "", parts[[4]]))
}

slugify <- function(x) {
  x <- iconv(x, "UTF-8", "ASCII//TRANSLIT", sub = "")
  x <- tolower(gsub("[^A-Za-z0-9]+", "-", x))
  gsub("^-+|-+$", "", x)
}
