#' Turn a table's locations into an sf object
#'
#' Makes point geometries (WGS 84, EPSG:4326) from the latitude and
#' longitude columns of a location question: `lat_<name>` and `long_<name>`
#' under export names, `<name>_lat` and `<name>_long` under clean names (see
#' the section Column names of [ec5_entries()]). Requires the sf package.
#'
#' @param x A table with location columns, from [ec5_entries()],
#'   [ec5_branch_entries()] or [ec5_read_csv()], with export or clean names.
#' @param location The location question: its export name (the part after
#'   `lat_`, `14_where`) or, in a table with clean names, its clean name
#'   (the part before `_lat`, `where`). The default is the first location of
#'   the table.
#' @param na_rm Whether to drop rows without a location (`TRUE`), or keep
#'   them with an empty point (`FALSE`).
#' @return An `sf` tibble (class `c("sf", "tbl_df", "tbl", "data.frame")`):
#'   the rows of `x` with a `geometry` column; the columns keep their
#'   labels.
#' @export
#' @examplesIf requireNamespace("sf", quietly = TRUE)
#' x <- data.frame(ec5_uuid = c("a", "b"), lat_where = c(51.5, NA),
#'                 long_where = c(-0.12, NA))
#' ec5_as_sf(x)
ec5_as_sf <- function(x, location = NULL, na_rm = TRUE) {
  check_data_frame(x)
  check_string(location, allow_null = TRUE, must = "the name of a location question, or {.code NULL}")
  check_bool(na_rm)
  locations <- table_locations(x)
  found <- locations$location
  location <- location %||% found[1]
  if (!length(found)) {
    abort_argument(
      x, "x", "a table with location columns",
      shown = "It has no latitude and longitude columns.", call = rlang::current_env()
    )
  }
  if (!location %in% found) {
    abort_argument(
      location, "location", "the name of a location question of {.arg x}",
      bullets = c("i" = "Its locations are {.val {found}}."), call = rlang::current_env()
    )
  }
  at <- match(location, found)
  coords <- c(locations$long[at], locations$lat[at])
  missing <- is.na(x[[coords[1]]]) | is.na(x[[coords[2]]])
  if (na_rm) {
    x <- x[!missing, , drop = FALSE]
  }
  rlang::check_installed("sf", reason = "to make maps of locations.")
  sf::st_as_sf(
    tibble::as_tibble(x),
    coords = coords,
    crs = 4326,
    remove = FALSE,
    na.fail = FALSE
  )
}
