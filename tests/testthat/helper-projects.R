# Every project the local server hosts (tests/testthat/helper-server.R): its
# slug and, for a private one, the ec5_auth of its client app.
served_slugs <- function() {
  component$srv_catalogue()$slug
}

served_auth <- function(srv, slug) {
  if (slug %in% srv$clients$slug) server_auth(srv, slug)
}

# The definition of every hosted project, by slug.
served_projects <- function(srv) {
  slugs <- served_slugs()
  stats::setNames(lapply(slugs, function(slug) {
    ec5_project(slug, auth = served_auth(srv, slug), base_url = srv$url)
  }), slugs)
}

# The linked tables of every hosted project, by slug (fetched once per
# server: a file's tests share them).
served_data <- function(srv) {
  slugs <- served_slugs()
  stats::setNames(lapply(slugs, function(slug) {
    ec5_project_data(slug, auth = served_auth(srv, slug), base_url = srv$url)
  }), slugs)
}
