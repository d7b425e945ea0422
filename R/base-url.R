#' The Epicollect5 server to talk to
#'
#' Every request is built from one base URL. It comes from the option
#' `epicollect5.base_url`, else the environment variable `EC5_BASE_URL`, else
#' the public server `https://five.epicollect.net`. Set it to use a
#' self-hosted Epicollect5 server.
#'
#' @return The base URL, a single string without a trailing slash.
#' @examples
#' ec5_base_url()
#' withr::with_options(
#'   list(epicollect5.base_url = "https://ec5.example.org/"),
#'   ec5_base_url()
#' )
#' @export
ec5_base_url <- function() {
  url <- getOption("epicollect5.base_url")
  from <- "option {.code epicollect5.base_url}"
  if (is.null(url)) {
    url <- Sys.getenv("EC5_BASE_URL")
    from <- "environment variable {.envvar EC5_BASE_URL}"
  }
  if (identical(url, "")) {
    return("https://five.epicollect.net")
  }
  check_base_url(url, from)
}

# Validates a base URL and drops trailing slashes; `from` says where it was
# set, for the error message.
check_base_url <- function(url, from = "{.arg base_url}", call = rlang::caller_env()) {
  ok <- is.character(url) && length(url) == 1 && !is.na(url) &&
    grepl("^https?://[^/?#[:space:]]+(/[^?#[:space:]]*)?$", url)
  if (!ok) {
    shown <- supplied(url)
    ec5_abort(
      c(
        paste0("The server address in ", from, " is not a valid URL."),
        "x" = "You supplied {shown}.",
        "i" = "Use an address such as {.url https://five.epicollect.net}."
      ),
      class = "argument",
      call = call
    )
  }
  sub("/+$", "", url)
}
