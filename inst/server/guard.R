# What the local Epicollect5 server checks before it answers: rate limits
# (API-NOTES.md §11), OAuth access tokens (§8) and project access.

# --- rate limits -------------------------------------------------------------------

# Buckets keyed by the client's address; all others are keyed by the project
# slug in the URL, shared by every caller.
srv_ip_buckets <- c("token", "global")

# Count a request against its route's buckets (fixed windows)
#
# Like Laravel's limiter, a window opens with the first hit and lasts the
# bucket's seconds. Returns `response` (a 429) when a bucket is full, else
# the `X-RateLimit-*` headers of the route's first bucket. Rejected requests
# are not counted; requests the route rejects later (404, 400) are.
srv_throttle_request <- function(state, route, req) {
  limits <- state$config$limits
  buckets <- c(route$limit, if ("entries" %in% route$limit && srv_google_agent(req)) "entries_google")
  buckets <- Filter(function(b) !is.null(limits[[b]]), buckets)
  if (!length(buckets)) {
    return(list())
  }
  now <- as.numeric(Sys.time())
  keys <- vapply(buckets, function(b) {
    paste(b, if (b %in% srv_ip_buckets) req$remote_addr %||% "local" else route$params[[1]])
  }, "")
  windows <- Map(function(key, limit) srv_limit_window(state, key, limit, now), keys, limits[buckets])
  for (i in seq_along(buckets)) {
    if (windows[[i]]["count"] >= limits[[buckets[i]]][1]) {
      return(list(response = srv_too_many_requests(windows[[i]], limits[[buckets[i]]], now)))
    }
  }
  for (i in seq_along(buckets)) {
    windows[[i]]["count"] <- windows[[i]]["count"] + 1
    state$limiter[[keys[i]]] <- windows[[i]]
  }
  list(headers = list(
    "X-RateLimit-Limit" = limits[[buckets[1]]][1],
    "X-RateLimit-Remaining" = limits[[buckets[1]]][1] - windows[[1]]["count"]
  ))
}

# Google Apps Script, Docs and Sheets get an extra entries bucket.
srv_google_agent <- function(req) {
  grepl("Google-Apps-Script|GoogleDocs|apps-spreadsheets", req$get_header("user-agent") %||% "")
}

srv_limit_window <- function(state, key, limit, now) {
  window <- state$limiter[[key]]
  if (is.null(window) || now >= window["start"] + limit[2]) {
    window <- c(start = now, count = 0)
  }
  window
}

srv_too_many_requests <- function(window, limit, now) {
  reset <- window[["start"]] + limit[2]
  srv_error_response(429L, "ec5_255", "rate-limiter", list(
    "Retry-After" = max(1, ceiling(reset - now)),
    "X-RateLimit-Limit" = limit[1],
    "X-RateLimit-Remaining" = 0,
    "X-RateLimit-Reset" = ceiling(reset)
  ))
}

# --- tokens ----------------------------------------------------------------------

# Issue an access token for a client: a JWT-shaped string (header, payload
# as Passport writes it, random signature) recorded with its expiry
srv_issue_token <- function(state, client_id) {
  now <- floor(as.numeric(Sys.time()))
  lifetime <- state$config$token_lifetime
  jti <- paste(sample(c(0:9, letters[1:6]), 80, TRUE), collapse = "")
  header <- srv_php_json(list(typ = "JWT", alg = "RS256", jti = jti))
  payload <- srv_php_json(list(
    aud = client_id, jti = jti, iat = now, nbf = now, exp = now + lifetime,
    sub = "", scopes = list()
  ))
  signature <- as.raw(sample(0:255, 256, TRUE))
  token <- paste(srv_base64url(charToRaw(header)), srv_base64url(charToRaw(payload)),
                 srv_base64url(signature), sep = ".")
  state$tokens <- rbind(state$tokens, data.frame(
    token = token, client_id = client_id, expires = now + lifetime,
    stringsAsFactors = FALSE
  ))
  token
}

srv_base64url <- function(bytes) {
  chartr("+/", "-_", gsub("=+$|\n", "", jsonlite::base64_enc(bytes)))
}

# Issuing a token deletes the client's other tokens; the server does this
# before it checks the secret, so a failed attempt revokes too.
srv_revoke_client_tokens <- function(state, client_id) {
  state$tokens <- state$tokens[state$tokens$client_id != client_id, ]
}

srv_bearer_token <- function(req) {
  header <- req$get_header("authorization")
  if (is.null(header) || !grepl("^Bearer\\s+", header)) {
    return(NULL)
  }
  sub("^Bearer\\s+", "", header)
}

srv_revoke_bearer <- function(state, req) {
  token <- srv_bearer_token(req)
  if (!is.null(token)) {
    state$tokens <- state$tokens[state$tokens$token != token, ]
  }
}

# The client of a live token, or NULL (missing, unknown, revoked, expired).
srv_token_client <- function(state, token) {
  if (is.null(token)) {
    return(NULL)
  }
  row <- match(token, state$tokens$token)
  if (is.na(row) || state$tokens$expires[row] <= as.numeric(Sys.time())) {
    return(NULL)
  }
  state$tokens$client_id[row]
}

# --- project access ------------------------------------------------------------------

# The project a request names, or the error the server answers instead
#
# E1-E3 pass the slug through Str::slug() (`slugify = TRUE`), E6 does not.
# A private project needs a live token of its own client app (404 ec5_256
# otherwise, ec5_257 for another project's client); E7 refuses private
# projects outright (`public_only`, ec5_77).
srv_project_access <- function(ctx, slug, slugify = TRUE, public_only = FALSE) {
  projects <- srv_projects(ctx$state)
  key <- if (slugify) srv_str_slug(slug) else slug
  project <- if (key %in% names(projects)) projects[[key]]
  if (is.null(project) || project$status %in% c("trashed", "archived")) {
    return(list(response = srv_error_response(404L, "ec5_11", "middleware")))
  }
  if (!identical(project$access, "private")) {
    return(list(project = project))
  }
  if (public_only) {
    return(list(response = srv_error_response(404L, "ec5_77", "middleware")))
  }
  client <- srv_token_client(ctx$state, srv_bearer_token(ctx$req))
  if (is.null(client)) {
    return(list(response = srv_error_response(404L, "ec5_256", "middleware")))
  }
  if (!identical(client, project$client_id)) {
    return(list(response = srv_error_response(404L, "ec5_257", "middleware")))
  }
  list(project = project)
}
