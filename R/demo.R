#' Try the package on the built-in demo
#'
#' Starts the bundled local Epicollect5-compatible server (see
#' [ec5_demo_server()]) with its demo project, fetches the whole project with
#' the ordinary functions and prints what came back: the project, the linked
#' tables and the first rows of the top form. Nothing leaves your computer.
#'
#' @param slug The demo project to fetch.
#' @return The [ec5_project_data()] of the demo project, invisibly.
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE)
#' ec5_demo()
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_demo <- function(slug = "ec5-demo") {
  slug <- check_slug(slug)
  url <- ec5_demo_server()
  cli::cli_h1("epicollect5 demo")
  project <- ec5_project(slug, base_url = url)
  print(project)
  cli::cli_h2("The whole project as linked tables")
  cli::cli_code(sprintf('ec5_project_data("%s", base_url = "%s")', slug, url))
  data <- ec5_project_data(slug, base_url = url)
  print(data)
  cli::cli_h2("The top form")
  print(data[[1]], n = 5, width = 100)
  cli::cli_h2("Next")
  cli::cli_ul(c(
    "Column labels: {.code ec5_labels(data[[1]])}",
    "A child table with its parent's columns: {.code ec5_join(data, \"{names(data)[2]}\")}",
    "Photos, audio and video: {.code ec5_media_download(data, tempfile())}",
    "Use the demo server with any function: {.code options(epicollect5.base_url = ec5_demo_server())}"
  ))
  invisible(data)
}
