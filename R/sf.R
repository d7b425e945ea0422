#' Turn a table's locations into an sf object
#'
#' Makes point geometries (WGS 84, EPSG:4326) from the `lat_<name>` and
#' `long_<name>` columns of a location question. Requires the sf package.
#'
#' @param x A table with location columns, from [ec5_entries()],
#'   [ec5_branch_entries()] or [ec5_read_csv()].
#' @param location The location question's export name (the part after
#'   `lat_`). The default is the first location of the table.
#' @param na_rm Whether to drop rows without a location (`TRUE`), or keep
#'   them with an empty point (`FALSE`).
#' @return An `sf` object: the rows of `x` with a `geometry` column.
#' @export
#' @examplesIf requireNamespace("sf", quietly = TRUE)
#' x <- data.frame(ec5_uuid = c("a", "b"), lat_where = c(51.5, NA),
#'                 long_where = c(-0.12, NA))
#' ec5_as_sf(x)
ec5_as_sf <- function(x, location = NULL, na_rm = TRUE) {
  check_data_frame(x)
  check_string(location, allow_null = TRUE, must = "the export name of a location question, or {.code NULL}")
  check_bool(na_rm)
  prefix <- location_prefixes()
  lat <- names(x)[startsWith(names(x), prefix[["latitude"]])]
  found <- substring(lat, nchar(prefix[["latitude"]]) + 1L)
  found <- found[paste0(prefix[["longitude"]], found) %in% names(x)]
  location <- location %||% found[1]
  if (!length(found)) {
    ec5_abort(
      c("{.arg x} must have location columns.", "x" = "It has no {.field lat_} and {.field long_} columns."),
      class = "argument", argument = "x"
    )
  }
  if (!location %in% found) {
    abort_argument(
      location, "location", "the export name of a location question of {.arg x}",
      bullets = c("i" = "Its locations are {.val {found}}."), call = rlang::current_env()
    )
  }
  coords <- paste0(prefix[c("longitude", "latitude")], location)
  long <- x[[coords[1]]]
  lat <- x[[coords[2]]]
  missing <- is.na(lat) | is.na(long)
  if (na_rm) {
    x <- x[!missing, , drop = FALSE]
  }
  rlang::check_installed("sf", reason = "to make maps of locations.")
  sf::st_as_sf(
    as.data.frame(x),
    coords = coords,
    crs = 4326,
    remove = FALSE,
    na.fail = FALSE
  )
}
