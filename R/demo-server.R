# ec5_demo_server(), and server_component(), the one loader of the local
# Epicollect5 server (inst/server/), which lives outside the namespace.

# The demo server of this session: the webfakes process and its URL. It is
# kept here, not in an option, so that starting it changes nothing global.
demo_server <- new.env(parent = emptyenv())

#' Run a local Epicollect5 server with demo projects
#'
#' Starts a server that speaks the Epicollect5 API, in a background R
#' process, so that you can try the package without an internet connection
#' or an Epicollect5 account. It hosts the public project `ec5-demo` (four
#' linked forms, branches, groups, every question type) and copies of other
#' real project definitions, filled with generated entries and media. The
#' server keeps running until you stop it or the R session ends.
#'
#' Private demo projects need the client credentials of their client app:
#' client id `"1001"` with secret `"pYtH0nApiTestSecret0000000000000000001001"`
#' opens `proyecto-api-python`.
#'
#' @param stop If `TRUE`, stop the running demo server instead of starting
#'   one.
#' @param rate_limits `"relaxed"` (the default) allows 60 entry and project
#'   requests a minute per project; `"production"` has the limits of
#'   five.epicollect.net (5 a minute), to see how the package paces requests.
#' @param set_base_url If `TRUE`, also point the package at the server by
#'   setting `options(epicollect5.base_url)` for the session; stopping the
#'   server restores the previous value.
#' @return The server's base URL (such as `"http://127.0.0.1:38017"`),
#'   invisibly; `NULL` when stopping. Calling it again while the server runs
#'   returns the same URL (stop it first to change `rate_limits`).
#' @examples
#' if (requireNamespace("webfakes", quietly = TRUE) &&
#'     requireNamespace("jsonlite", quietly = TRUE)) {
#'   url <- ec5_demo_server()
#'   # The API answers as five.epicollect.net does:
#'   version <- readLines(paste0(url, "/api/project-version/ec5-demo"), warn = FALSE)
#'   jsonlite::fromJSON(version)$data$attributes$structure_last_updated
#'   ec5_demo_server(stop = TRUE)
#' }
#' @export
ec5_demo_server <- function(stop = FALSE, rate_limits = c("relaxed", "production"),
                            set_base_url = FALSE) {
  check_bool(stop)
  check_bool(set_base_url)
  rate_limits <- check_choice(rate_limits)
  if (stop) {
    return(demo_server_stop())
  }
  rlang::check_installed(c("webfakes", "jsonlite"), reason = "to run the demo server.")
  if (!demo_server_running()) {
    demo_server_start(rate_limits)
  }
  if (set_base_url && is.null(demo_server$old_options)) {
    demo_server$old_options <- options(epicollect5.base_url = demo_server$url)
  }
  invisible(demo_server$url)
}

demo_server_running <- function() {
  !is.null(demo_server$process) && identical(demo_server$process$get_state(), "live")
}

demo_server_start <- function(rate_limits) {
  server <- server_component()
  limits <- server$srv_limits(if (rate_limits == "production") "production" else "code")
  process <- webfakes::new_app_process(
    server$srv_app(limits = limits),
    # Several threads, so that one slow download does not block the others.
    opts = webfakes::server_opts(num_threads = 4)
  )
  demo_server$process <- process
  demo_server$url <- sub("/$", "", process$url())
  if (!isFALSE(getOption("epicollect5.verbose"))) {
    cli::cli_inform(c(
      "v" = "Epicollect5 demo server running at {.url {demo_server$url}}.",
      "i" = "Stop it with {.code ec5_demo_server(stop = TRUE)}."
    ))
  }
}

demo_server_stop <- function() {
  if (!is.null(demo_server$process)) {
    demo_server$process$stop()
  }
  if (!is.null(demo_server$old_options)) {
    options(demo_server$old_options)
  }
  rm(list = ls(demo_server), envir = demo_server)
  invisible(NULL)
}

#' The local Epicollect5 server, loaded from inst/server/
#'
#' The server is a component of its own, not part of the package namespace:
#' its files are sourced into a fresh environment whose parent is the base
#' environment, so it cannot reach the client's internals and the webfakes app
#' carries its functions with it into the server subprocess. The environment's
#' entry point is `srv_app()`; inst/server/app.R describes the rest.
#' @return An environment of `srv_` functions.
#' @noRd
server_component <- function() {
  dir <- system.file("server", package = "epicollect5", mustWork = TRUE)
  server <- new.env(parent = baseenv())
  for (file in sort(list.files(dir, "[.]R$", full.names = TRUE))) {
    sys.source(file, envir = server, keep.source = FALSE)
  }
  server
}
