# The one path every endpoint takes: build the URL, attach the token when
# there is one, pace by the project's bucket, and turn failures into classed
# errors, under the retry policy of R/retry.R. A private project's token can
# be revoked behind our back (a new token issued elsewhere revokes ours, API-NOTES.md
# §8), so a 404 ec5_256 with a token we believed valid earns one
# re-authentication within the request's tries. `parse(body)` reads a 2xx
# body (NULL: the response itself is the value); `check(resp)` may reject a
# 2xx answer as damaged on the way (see ec5_retrying()); `page_size(per_page)`
# gives the smaller page size to ask for after a 400 ec5_335, or NA.
ec5_api_get <- function(base_url, path, query = list(), auth = NULL,
                        pace = NULL, dest = NULL, parse = NULL, check = NULL,
                        page_size = NULL, what = "request", call = rlang::caller_env()) {
  send <- function() {
    http_transfer(
      paste0(base_url, path),
      query = query,
      token = if (!is.null(auth)) ec5_token(auth, call = call),
      pace = pace,
      dest = dest,
      call = call
    )
  }
  shrink <- if (!is.null(page_size)) {
    function() {
      smaller <- page_size(query$per_page)
      if (!is.na(smaller)) query$per_page <<- smaller
      !is.na(smaller)
    }
  }
  ec5_retrying(
    send,
    finish = function(resp) {
      api_check(resp, auth, base_url, path, what, call)
      if (!is.null(check)) check(resp)
      if (is.null(parse)) resp else parse(resp$body)
    },
    reauth = if (!is.null(auth)) function() ec5_token_refresh(auth, call = call),
    shrink = shrink,
    what = what,
    call = call
  )
}

# A GET whose JSON body is read by `parse(body)`.
ec5_api_json <- function(base_url, path, query = list(), auth = NULL,
                         pace = NULL, parse = json_parse, page_size = NULL,
                         what = "request", call = rlang::caller_env()) {
  ec5_api_get(base_url, path, query, auth = auth, pace = pace, parse = parse,
              page_size = page_size, what = what, call = call)
}

# The classed error of an answer that stands, if it failed.
api_check <- function(resp, auth, base_url, path, what, call) {
  if (is_access_denied(resp) && is.null(auth)) {
    ec5_abort_private(base_url, path, call = call)
  }
  if (is_access_denied(resp) && resp$reauthed) {
    ec5_abort_revoked(resp, auth, call = call)
  }
  ec5_response_check(resp, what = what, call = call)
}

is_access_denied <- function(resp) {
  resp$status == 404L && identical(error_code(resp), "ec5_256")
}

ec5_abort_private <- function(base_url, path, call) {
  url <- redact_url(paste0(base_url, path))
  abort_access_denied(
    c(
      "The project is private and no credentials were given.",
      "x" = "The server answered 404 {.code ec5_256} (access denied) for {.url {url}}.",
      "i" = "Create a client app on the project's {.strong Apps} page on Epicollect5.",
      "i" = "Then put {.envvar EC5_CLIENT_ID} and {.envvar EC5_CLIENT_SECRET} in your {.file .Renviron} (see {.run usethis::edit_r_environ()}), or pass {.code auth = ec5_auth(client_id, client_secret)}."
    ),
    url = url,
    call = call
  )
}

# A token refused right after it was issued: someone else is issuing tokens
# for the same client app, each revoking the one before (API-NOTES.md §8).
ec5_abort_revoked <- function(resp, auth, call) {
  url <- redact_url(resp$url)
  abort_access_denied(
    c(
      "The server refused a fresh access token.",
      "x" = "HTTP 404, {.code ec5_256} (access denied) for {.url {url}}, also with a token requested just now.",
      "i" = "Each new token revokes the client app's other tokens: another R session, script or person using client id {.val {auth$client_id}} may be requesting tokens at the same time.",
      "i" = "Give each machine or person its own client app (on the project's {.strong Apps} page), or try again later."
    ),
    url = url,
    call = call
  )
}

# 404 ec5_256, with `bullets` that say why and what to do.
abort_access_denied <- function(bullets, url, call, .envir = parent.frame()) {
  ec5_abort(bullets, class = "auth", status = 404L, code = "ec5_256", url = url,
            call = call, .envir = .envir)
}

json_parse <- function(x) cpp_check(json_parse_cpp(x))

# Resolves `auth` for a data function: an explicit ec5_auth, else one built
# from EC5_CLIENT_ID / EC5_CLIENT_SECRET when set, else NULL (public).
resolve_auth <- function(auth, base_url, call = rlang::caller_env()) {
  check_class(
    auth, "ec5_auth", "an {.cls ec5_auth} object from {.fn ec5_auth}, or {.code NULL}",
    allow_null = TRUE, call = call
  )
  ec5_auth_default(auth, base_url, call = call)
}
