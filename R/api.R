# The one path every endpoint takes: build the URL, attach the token when
# there is one, pace by the project's bucket, and turn failures into classed
# errors. A private project's token can be revoked behind our back (a new
# token issued elsewhere revokes ours, SPEC section 8), so a 404 ec5_256 with
# a token we believed valid earns exactly one re-authentication and retry.
# JSON answers go through ec5_api_json() (below), which asks again for a body
# damaged on the way.
ec5_api_get <- function(base_url, path, query = list(), auth = NULL,
                        pace = NULL, dest = NULL, what = "request",
                        call = rlang::caller_env()) {
  send <- function() {
    ec5_request(
      paste0(base_url, path),
      query = query,
      token = if (!is.null(auth)) ec5_token(auth, call = call),
      pace = pace,
      dest = dest,
      call = call
    )
  }
  resp <- send()
  if (!is.null(auth) && is_access_denied(resp)) {
    ec5_token_refresh(auth, call = call)
    resp <- send()
    if (is_access_denied(resp)) {
      ec5_abort_revoked(resp, auth, call = call)
    }
  }
  if (is_access_denied(resp) && is.null(auth)) {
    ec5_abort_private(base_url, path, call = call)
  }
  ec5_response_check(resp, what = what, call = call)
  resp
}

# A GET whose JSON body is read by `parse(body)`. The server only sends
# well-formed JSON, so a 2xx body that is not (cut short, garbled) was
# damaged on the way: it is requested again, up to `epicollect5.max_tries`
# times in all, before the parse error stands. An HTML page (a proxy or a
# login portal answering in the server's place) or JSON of the wrong shape
# would come back the same, so it is not requested again.
ec5_api_json <- function(base_url, path, query = list(), auth = NULL,
                         pace = NULL, parse = json_parse, what = "request",
                         call = rlang::caller_env()) {
  with_parsed_body(
    function() ec5_api_get(base_url, path, query, auth = auth, pace = pace, what = what, call = call),
    function(resp) parse(resp$body),
    what = what,
    call = call
  )
}

# `send()` returns a response, `parse(resp)` its value or an ec5_error_parse.
with_parsed_body <- function(send, parse, what, call) {
  tries <- option_number("epicollect5.max_tries", 4, min = 1)
  for (attempt in seq_len(tries)) {
    resp <- send()
    parsed <- tryCatch(parse(resp), ec5_error_parse = function(e) e)
    if (!inherits(parsed, "ec5_error_parse")) {
      return(parsed)
    }
    if (!body_damaged(resp)) break
  }
  abort_unreadable(resp, parsed, what, attempt, call)
}

body_damaged <- function(resp) {
  !response_is_html(resp) && inherits(json_parse_cpp(resp$body %||% raw()), "ec5_cpp_failure")
}

abort_unreadable <- function(resp, error, what, tries, call) {
  html <- response_is_html(resp)
  url <- redact_url(resp$url)
  problem <- if (html) "It is an HTML page, not the API's JSON." else rlang::cnd_header(error)
  ec5_abort(
    c(
      "The server's answer to the {what} could not be read.",
      "x" = "{problem}",
      "i" = "URL: {.url {url}}",
      "i" = if (html) "A proxy, a login portal or a maintenance page may be in the way; open the URL in a browser to see it.",
      "i" = if (tries > 1) "It was requested {tries} times; every answer was damaged or cut short on the way.",
      "i" = if (!html) "Try again later. If this persists, please report it."
    ),
    class = "parse",
    status = resp$status,
    url = url,
    call = call
  )
}

is_access_denied <- function(resp) {
  resp$status == 404L && identical(response_error_code(resp), "ec5_256")
}

# The first ec5 code of an error body, or "" when the body is not one.
response_error_code <- function(resp) {
  if (is.null(resp$body) || length(resp$body) == 0L) {
    return("")
  }
  parsed <- tryCatch(json_parse(resp$body), ec5_error_parse = function(e) NULL)
  errors <- if (is.list(parsed)) parsed$errors
  code <- if (is.list(errors) && length(errors)) errors[[1]]$code
  if (is.character(code) && length(code) == 1L) code else ""
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
# for the same client app, each revoking the one before (SPEC section 8).
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

# A project slug is lower case letters, digits and hyphens (SPEC section 1).
# The server would slugify anything else, but a wrong slug would then spend
# rate-limit budget on a 404, so we refuse it and suggest the slug.
check_slug <- function(slug, call = rlang::caller_env()) {
  if (!rlang::is_string(slug) || !nzchar(slug)) {
    ec5_abort(
      c("{.arg slug} must be a single non-empty string.",
        "x" = "You supplied {.obj_type_friendly {slug}}."),
      class = "argument", call = call
    )
  }
  if (!grepl("^[a-z0-9]+(-[a-z0-9]+)*$", slug)) {
    suggestion <- slugify(slug)
    ec5_abort(
      c("{.arg slug} must be a project slug: lower case letters, digits and hyphens.",
        "x" = "You supplied {.val {slug}}.",
        "i" = if (nzchar(suggestion)) "Did you mean {.val {suggestion}}? The slug is the last part of the project's URL."),
      class = "argument", call = call
    )
  }
  invisible(slug)
}

slugify <- function(x) {
  x <- iconv(x, "UTF-8", "ASCII//TRANSLIT", sub = "")
  x <- tolower(gsub("[^A-Za-z0-9]+", "-", x))
  gsub("^-+|-+$", "", x)
}

# Resolves `auth` for a data function: an explicit ec5_auth, else one built
# from EC5_CLIENT_ID / EC5_CLIENT_SECRET when set, else NULL (public).
resolve_auth <- function(auth, base_url, call = rlang::caller_env()) {
  if (!is.null(auth) && !inherits(auth, "ec5_auth")) {
    ec5_abort(
      c("{.arg auth} must be an {.cls ec5_auth} object from {.fn ec5_auth} or {.code NULL}.",
        "x" = "You supplied {.obj_type_friendly {auth}}."),
      class = "argument", call = call
    )
  }
  ec5_auth_default(auth, base_url)
}
