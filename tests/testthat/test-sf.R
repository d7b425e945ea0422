test_that("locations become points, rows without one dropped or kept", {
  skip_if_not_installed("sf")
  x <- tibble::tibble(
    ec5_uuid = c("a", "b", "c"),
    lat_where = c(51.5, NA, -33.9), long_where = c(-0.12, NA, 18.4),
    lat_other = c(1, 2, 3), long_other = c(4, 5, 6)
  )
  pts <- ec5_as_sf(x)
  expect_s3_class(pts, "sf")
  expect_equal(nrow(pts), 2)
  expect_equal(sf::st_crs(pts)$epsg, 4326L)
  expect_equal(unname(sf::st_coordinates(pts)[1, ]), c(-0.12, 51.5))
  expect_equal(nrow(ec5_as_sf(x, na_rm = FALSE)), 3)
  expect_equal(unname(sf::st_coordinates(ec5_as_sf(x, "other"))[3, ]), c(6, 3))
  expect_snapshot(error = TRUE, {
    ec5_as_sf(x, "nowhere")
    ec5_as_sf(tibble::tibble(a = 1))
    ec5_as_sf("x")
  })
})

test_that("a fetched table maps", {
  skip_if_not_installed("sf")
  srv <- local_client_server()
  x <- ec5_entries("ec5-demo", base_url = srv$url)
  pts <- ec5_as_sf(x)
  expect_equal(nrow(pts), sum(!is.na(x$lat_14_where) & !is.na(x$long_14_where)))
})

test_that("the points are an sf tibble that keeps the labels", {
  skip_if_not_installed("sf")
  x <- tibble::tibble(ec5_uuid = c("a", "b"), lat_where = c(51.5, 1), long_where = c(-0.12, 2))
  attr(x$lat_where, "label") <- "where: latitude"
  pts <- ec5_as_sf(x)
  expect_identical(class(pts), c("sf", "tbl_df", "tbl", "data.frame"))
  expect_identical(attr(pts$lat_where, "label"), "where: latitude")
  expect_identical(class(ec5_as_sf(as.data.frame(x))), c("sf", "tbl_df", "tbl", "data.frame"))
})

test_that("a table with clean names maps by the location's clean name", {
  skip_if_not_installed("sf")
  srv <- local_client_server()
  x <- ec5_entries("ec5-demo", base_url = srv$url)
  clean <- ec5_entries("ec5-demo", base_url = srv$url, col_names = "clean")
  pts <- ec5_as_sf(clean)
  expect_identical(sf::st_coordinates(pts), sf::st_coordinates(ec5_as_sf(x)))
  expect_identical(sf::st_coordinates(ec5_as_sf(clean, "where")), sf::st_coordinates(pts))
  expect_error(ec5_as_sf(clean, "14_where"), class = "ec5_error_argument")
  expect_true("where_lat" %in% names(pts))
})
