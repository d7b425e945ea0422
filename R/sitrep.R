#' Report on the package's set-up
#'
#' Shows what the package would use for a request: its version, libcurl's
#' version and SSL backend, the proxy, the server, whether credentials were
#' found (never their values), the age of the stored token, the rate-limit
#' budget last seen per project, and the size of the local cache. Useful
#' when asking for help.
#'
#' @inheritParams ec5_project
#' @return A list with the same information, invisibly.
#' @export
#' @examples
#' ec5_sitrep()
ec5_sitrep <- function(base_url = ec5_base_url()) {
  base_url <- check_base_url(base_url)
  curl <- cpp_check(libcurl_info_cpp())
  id <- Sys.getenv("EC5_CLIENT_ID")
  secret <- Sys.getenv("EC5_CLIENT_SECRET")
  proxy <- Sys.getenv(c("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "ALL_PROXY"))
  proxy <- proxy[nzchar(proxy)]
  cache <- ec5_cache_info()
  info <- list(
    version = as.character(utils::packageVersion("epicollect5")),
    libcurl = curl$version,
    ssl = curl$ssl,
    proxy = if (length(proxy)) redact_url(proxy[[1]]) else NA_character_,
    base_url = base_url,
    client_id_set = nzchar(id),
    client_secret_set = nzchar(secret),
    token = token_status(base_url),
    rate_limits = ec5_pacing_state(),
    cache_dir = ec5_cache_dir(),
    cache_bytes = sum(cache$bytes)
  )
  sitrep_print(info)
  invisible(info)
}

sitrep_print <- function(info) {
  yes_no <- function(x) if (x) "set" else "not set"
  cli::cli_h2("epicollect5 {info$version}")
  cli::cli_ul(c(
    "libcurl {info$libcurl} ({info$ssl})",
    "Proxy: {if (is.na(info$proxy)) 'none' else info$proxy}",
    "Server: {.url {info$base_url}}",
    "{.envvar EC5_CLIENT_ID}: {yes_no(info$client_id_set)}; {.envvar EC5_CLIENT_SECRET}: {yes_no(info$client_secret_set)}",
    "Token: {info$token}",
    "Local cache: {.file {info$cache_dir}} ({prettyNum(info$cache_bytes, big.mark = ',')} bytes)"
  ))
  limits <- info$rate_limits
  if (NROW(limits)) {
    cli::cli_text("Rate-limit budget last seen:")
    print(limits)
  }
}

# The stored token of EC5_CLIENT_ID on this server, described without
# revealing it.
token_status <- function(base_url) {
  if (!nzchar(Sys.getenv("EC5_CLIENT_ID")) || !nzchar(Sys.getenv("EC5_CLIENT_SECRET"))) {
    return("no credentials set")
  }
  auth <- ec5_auth(base_url = base_url)
  cached <- tryCatch(
    token_cache_read(token_cache_paths(auth, NULL)$file, auth, NULL),
    ec5_error_io = function(e) e
  )
  if (inherits(cached, "ec5_error_io")) {
    return(paste("the token cache", cached$path, "cannot be used"))
  }
  if (is.null(cached)) {
    return("none stored")
  }
  left <- as.numeric(difftime(cached$expires_at, Sys.time(), units = "mins"))
  if (left <= 0) {
    return("expired")
  }
  sprintf("stored, about %d minutes old, valid for %d more", round(120 - left), round(left))
}
