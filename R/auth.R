#' Credentials for private Epicollect5 projects
#'
#' Private projects need an access token, obtained from the client id and
#' secret of the project's client app (created on the project's *Apps* page).
#' `ec5_auth()` keeps the credentials; a token is requested only when a
#' request first needs one, reused until five minutes before it expires, and
#' shared with other R processes on this computer through a small cache file,
#' because the server revokes a client's other tokens whenever it issues a
#' new one. The secret and the token are never printed.
#'
#' Put the credentials in your `.Renviron` file (`usethis::edit_r_environ()`)
#' rather than in scripts:
#'
#' ```
#' EC5_CLIENT_ID=1234
#' EC5_CLIENT_SECRET=your-40-character-secret
#' ```
#'
#' Functions that read projects build an `ec5_auth()` from these variables
#' when you give none. Public projects need no credentials.
#'
#' @param client_id The client app's id.
#' @param client_secret The client app's secret.
#' @param base_url The server, see [ec5_base_url()].
#' @return An `ec5_auth` object.
#' @examples
#' auth <- ec5_auth(client_id = "1234", client_secret = "not-a-real-secret")
#' auth
#' @export
ec5_auth <- function(client_id = Sys.getenv("EC5_CLIENT_ID"),
                     client_secret = Sys.getenv("EC5_CLIENT_SECRET"),
                     base_url = ec5_base_url()) {
  client_id <- check_client_id(client_id)
  check_client_secret(client_secret)
  base_url <- check_base_url(base_url)
  auth <- new.env(parent = emptyenv())
  auth$client_id <- client_id
  auth$base_url <- base_url
  auth$expires_at <- NULL
  # The secret and the token live only inside these closures, so that no
  # print(), str(), format() or as.list() of the object can show them.
  vault <- auth_vault(client_secret)
  auth$secret <- vault$secret
  auth$get_token <- vault$get_token
  auth$set_token <- vault$set_token
  class(auth) <- "ec5_auth"
  auth
}

auth_vault <- function(secret) {
  token <- NULL
  list(
    secret = function() secret,
    get_token = function() token,
    set_token = function(value) token <<- value
  )
}

renviron_hint <- function() {
  c(
    "i" = "Create a client app on the project's Apps page, then add its id and secret to {.file .Renviron} as {.envvar EC5_CLIENT_ID} and {.envvar EC5_CLIENT_SECRET} (open it with {.run usethis::edit_r_environ()}) and restart R."
  )
}

# Missing or malformed credentials are both an auth and an argument error.
check_client_id <- function(client_id, call = rlang::caller_env()) {
  if (is.numeric(client_id) && length(client_id) == 1 && !is.na(client_id)) {
    client_id <- format(client_id, scientific = FALSE, trim = TRUE)
  }
  if (!rlang::is_string(client_id) || !nzchar(trimws(client_id))) {
    shown <- supplied(client_id)
    abort_credentials(
      "A client id is needed for private projects.",
      "{.arg client_id} must be a single non-empty string; you supplied {shown}.",
      call
    )
  }
  trimws(client_id)
}

# The secret is never shown: only that it is empty or NA, or its type.
check_client_secret <- function(client_secret, call = rlang::caller_env()) {
  if (!rlang::is_string(client_secret) || !nzchar(client_secret)) {
    shown <- if (rlang::is_string(client_secret) || identical(client_secret, NA_character_)) {
      supplied(client_secret)
    } else {
      cli::format_inline("{.obj_type_friendly {client_secret}}")
    }
    abort_credentials(
      "A client secret is needed for private projects.",
      "{.arg client_secret} must be a single non-empty string; you supplied {shown}.",
      call
    )
  }
  invisible()
}

abort_credentials <- function(what, why, call, .envir = parent.frame()) {
  ec5_abort(c(what, "x" = why, renviron_hint()), class = c("auth", "argument"), call = call, .envir = .envir)
}

#' @export
format.ec5_auth <- function(x, ...) {
  token <- if (is.null(x$expires_at)) {
    "none requested yet"
  } else if (token_forgotten(x)) {
    "forgotten (ec5_deauth())"
  } else if (x$expires_at <= Sys.time()) {
    "expired"
  } else {
    paste("valid until", format(x$expires_at, "%Y-%m-%d %H:%M:%S %Z"))
  }
  c(
    "<ec5_auth>",
    paste0("Client ID: ", x$client_id),
    paste0("Server:    ", x$base_url),
    paste0("Token:     ", token)
  )
}

#' @export
print.ec5_auth <- function(x, ...) {
  cat(format(x), sep = "\n")
  invisible(x)
}

# The auth to use for a request: the one given (checked against the server
# the request goes to, so a token never leaks to another host), else one from
# EC5_CLIENT_ID / EC5_CLIENT_SECRET when both are set, else NULL (public
# projects need nothing).
ec5_auth_default <- function(auth = NULL, base_url = ec5_base_url(),
                             call = rlang::caller_env()) {
  if (is.null(auth)) {
    if (nzchar(Sys.getenv("EC5_CLIENT_ID")) && nzchar(Sys.getenv("EC5_CLIENT_SECRET"))) {
      return(ec5_auth(base_url = base_url))
    }
    return(NULL)
  }
  if (!identical(auth$base_url, base_url)) {
    ec5_abort(
      c("{.arg auth} belongs to another server.",
        "x" = "It was made for {.url {auth$base_url}}, the request goes to {.url {base_url}}.",
        "i" = "Create it with {.code ec5_auth(base_url = \"{base_url}\")}."
      ),
      class = "argument",
      call = call
    )
  }
  auth
}

# A token is reused until this many seconds before it expires.
token_margin <- function(expires_in) min(300, expires_in / 2)

# The access token, requested only when there is no fresh one in memory or
# in the cache shared with other R processes.
ec5_token <- function(auth, call = rlang::caller_env()) {
  if (!is.null(auth$get_token()) && Sys.time() < auth$expires_at && !token_forgotten(auth)) {
    return(auth$get_token())
  }
  token_obtain(auth, stale = NULL, call = call)
}

# For the one re-authentication of the retry policy (R/retry.R) after a 404
# ec5_256 with a token believed valid: another process may have replaced it
# (adopt that one), or it was revoked (request a new one).
ec5_token_refresh <- function(auth, call = rlang::caller_env()) {
  stale <- auth$get_token()
  auth$set_token(NULL)
  auth$expires_at <- NULL
  token_obtain(auth, stale = stale, call = call)
}

# Under a lock on the cache file, so that two processes never both request a
# token: adopts a fresh cached token other than `stale`, or requests one. A
# cache that cannot be used stops here, before any token is requested: each
# process would otherwise request its own, and each new token revokes the
# others (API-NOTES.md §8).
token_obtain <- function(auth, stale, call) {
  paths <- token_cache_paths(auth, call)
  lock <- token_cache_lock(paths$lock, call)
  on.exit(filelock::unlock(lock), add = TRUE)
  cached <- token_cache_read(paths$file, auth, call)
  if (!is.null(cached) && !identical(cached$access_token, stale) &&
    Sys.time() < cached$expires_at) {
    token_adopt(auth, cached$access_token, cached$expires_at)
    return(cached$access_token)
  }
  # An expired record of a token's size proves the cache writable (or fails
  # here) before the server issues a token that would revoke the others.
  token_cache_write(paths$file, auth, token = strrep("0", 64), expires_at = Sys.time(), call = call)
  requested_at <- Sys.time()
  token <- token_request(auth, call = call)
  expires_at <- requested_at + token$expires_in - token_margin(token$expires_in)
  token_cache_write(paths$file, auth, token$access_token, expires_at, call = call)
  token_adopt(auth, token$access_token, expires_at)
  token$access_token
}

token_adopt <- function(auth, token, expires_at) {
  auth$set_token(token)
  auth$expires_at <- expires_at
  auth$deauth_count <- deauth_count(auth)
  invisible()
}

# A response cut short is requested again under the retry policy: the token
# it held never arrived, and the next one revokes it anyway.
token_request <- function(auth, call) {
  body <- cpp_check(auth_token_body_cpp(auth$client_id, auth$secret()), call = call)
  ec5_retrying(
    function() {
      http_transfer(
        paste0(auth$base_url, "/api/oauth/token"),
        method = "POST",
        headers = "Content-Type: application/json",
        body = body,
        pace = list(slug = NULL, class = "token"),
        call = call
      )
    },
    finish = function(resp) {
      ec5_response_check(resp, what = "token request", call = call)
      cpp_check(auth_token_parse_cpp(resp$body), call = call)
    },
    what = "token request",
    call = call
  )
}

# --- the token cache shared between R processes ------------------------------

# Tokens live in the package's cache folder (see ec5_cache_dir()), in a
# folder of their own readable by the user only.
token_cache_dir <- function() {
  file.path(ec5_cache_dir(), "tokens")
}

# One file per server and client id; the name is a hash, never the secret.
# The folder is made readable by the user only, also when it already exists.
token_cache_paths <- function(auth, call) {
  dir <- token_cache_dir()
  if (!dir.exists(dir)) {
    dir.create(dir, recursive = TRUE, showWarnings = FALSE, mode = "0700")
  }
  if (!dir.exists(dir)) {
    token_cache_abort(dir, "It is not a folder and cannot be created.", call)
  }
  if (!Sys.chmod(dir, "0700", use_umask = FALSE)) {
    token_cache_abort(dir, "Its permissions cannot be set to the user's only (0700).", call)
  }
  name <- paste0("token-", rlang::hash(list(auth$base_url, auth$client_id)))
  list(file = file.path(dir, paste0(name, ".rds")), lock = file.path(dir, paste0(name, ".lock")))
}

# What to do about a token cache that cannot be used; a token is never
# requested without it.
token_cache_abort <- function(path, problem, call) {
  ec5_abort(
    c("The token cache {.file {path}} cannot be used.",
      "x" = problem,
      "i" = "Tokens are shared between R processes through this cache, so none is requested without it.",
      "i" = "Remove or repair {.file {path}}, make its folder writable, free disk space, or point {.code options(epicollect5.cache_dir)} to a writable folder."
    ),
    class = "io",
    path = path,
    call = call
  )
}

token_cache_lock <- function(path, call) {
  if (dir.exists(path)) {
    token_cache_abort(path, "It is a folder, not a lock file.", call)
  }
  lock <- tryCatch(
    filelock::lock(path, exclusive = TRUE, timeout = 5 * 60 * 1000),
    error = function(e) token_cache_abort(path, paste("Its lock file cannot be opened:", conditionMessage(e)), call)
  )
  if (is.null(lock)) {
    ec5_abort(
      c("Another R process has been requesting a token for 5 minutes.",
        "i" = "If no other process is running, delete {.file {path}}."
      ),
      class = "io",
      path = path,
      call = call
    )
  }
  lock
}

# A check value of the credentials, so that a cached token is used only with
# the secret that obtained it.
token_owner <- function(auth) {
  rlang::hash(list("epicollect5 token", auth$base_url, auth$client_id, auth$secret()))
}

# NULL when there is no usable token in the cache (none yet, another
# client's, damaged); an error when the cache file cannot be read at all.
token_cache_read <- function(file, auth, call) {
  if (dir.exists(file)) {
    token_cache_abort(file, "It is a folder, not a file.", call)
  }
  if (file.exists(file) && file.access(file, 4) != 0) {
    token_cache_abort(file, "It cannot be read.", call)
  }
  cached <- tryCatch(readRDS(file), error = function(e) NULL, warning = function(w) NULL)
  valid <- is.list(cached) && identical(cached$owner, token_owner(auth)) &&
    is.character(cached$access_token) && inherits(cached$expires_at, "POSIXct")
  if (valid) cached
}

# Written with owner-only permissions, then renamed into place so that a
# reader never sees half a file.
token_cache_write <- function(file, auth, token, expires_at, call) {
  old <- Sys.umask("077")
  on.exit(Sys.umask(old), add = TRUE)
  record <- list(owner = token_owner(auth), access_token = token, expires_at = expires_at)
  tryCatch(
    {
      write_atomic(serialize(record, NULL), file)
      if (!Sys.chmod(file, "0600", use_umask = FALSE)) stop("Its permissions cannot be set to 0600.")
    },
    error = function(e) token_cache_abort(file, cli::ansi_strip(conditionMessage(e)), call)
  )
  invisible()
}

#' Forget the tokens of a client app
#'
#' Forgets the access tokens of a client app: those that [ec5_auth()]
#' objects of this R session hold (each requests a new token when it next
#' needs one) and the one cached for other R processes on this computer. Use
#' it after a client app's secret was changed or the app deleted, or before
#' handing the computer over. The server itself keeps a token valid until it
#' expires or the client requests a new one.
#'
#' @param client_id The client app's id, or an [ec5_auth()] object (whose
#'   server is then used).
#' @param base_url The server, see [ec5_base_url()].
#' @return Whether a cached token was removed, invisibly.
#' @seealso [ec5_auth()].
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE)
#' url <- ec5_demo_server()
#' auth <- ec5_auth("1001", "pYtH0nApiTestSecret0000000000000000001001", base_url = url)
#' x <- ec5_entries("proyecto-api-python", auth = auth, base_url = url, max_entries = 1)
#' ec5_deauth(auth)
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_deauth <- function(client_id = Sys.getenv("EC5_CLIENT_ID"), base_url = ec5_base_url()) {
  if (inherits(client_id, "ec5_auth")) {
    base_url <- client_id$base_url
    client_id <- client_id$client_id
  }
  client <- list(client_id = check_client_id(client_id), base_url = check_base_url(base_url))
  call <- rlang::current_env()
  key <- deauth_key(client)
  deauth_counts[[key]] <- deauth_count(client) + 1L
  paths <- token_cache_paths(client, call)
  lock <- token_cache_lock(paths$lock, call)
  on.exit(filelock::unlock(lock), add = TRUE)
  removed <- file.exists(paths$file) && unlink(paths$file) == 0L
  invisible(removed)
}

# How often the tokens of a client were forgotten in this session: a token
# held in memory since an earlier count is no longer used.
deauth_counts <- new.env(parent = emptyenv())

deauth_key <- function(client) paste(client$base_url, client$client_id, sep = "|")

deauth_count <- function(client) deauth_counts[[deauth_key(client)]] %||% 0L

token_forgotten <- function(auth) {
  !identical(auth$deauth_count, deauth_count(auth))
}
