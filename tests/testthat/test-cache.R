# The default store's files (R/cache.R): ec5_cache_info(), ec5_cache_clear(),
# no stray files, and a damaged copy that the advice given repairs.

test_that("ec5_cache_info() lists local copies and ec5_cache_clear() removes them", {
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  info <- ec5_cache_info(dir)
  expect_equal(nrow(info), 0)
  expect_named(info, c("server", "slug", "tables", "rows", "bytes", "synced_at", "path"))
  a <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  b <- ec5_sync("test-cleaning", path = dir, base_url = srv$url)
  dir.create(file.path(dir, "tokens"))
  writeLines("x", file.path(dir, "tokens", "token-x.rds"))
  info <- ec5_cache_info(dir)
  expect_setequal(info$slug, c("ec5-demo", "test-cleaning"))
  expect_equal(info$tables[info$slug == "ec5-demo"], length(a))
  expect_equal(info$rows[info$slug == "ec5-demo"], sum(vapply(a, nrow, 1L)))
  expect_equal(info$rows[info$slug == "test-cleaning"], sum(vapply(b, nrow, 1L)))
  expect_equal(info$bytes, unname(file.size(info$path)))
  expect_equal(info$synced_at[info$slug == "ec5-demo"], attr(a, "synced_at"))
  expect_equal(unique(info$server), epicollect5:::server_key(srv$url))
  # A copy is one file: no temporary or journal file is left beside it.
  expect_setequal(list.files(dir, recursive = TRUE),
                  c(sub(paste0(dir, "/"), "", info$path, fixed = TRUE), "tokens/token-x.rds"))
  removed <- ec5_cache_clear("test-cleaning", path = dir)
  expect_length(removed, 1)
  expect_equal(ec5_cache_info(dir)$slug, "ec5-demo")
  ec5_cache_clear(path = dir)
  expect_equal(nrow(ec5_cache_info(dir)), 0)
  # The token cache is not a local copy.
  expect_true(file.exists(file.path(dir, "tokens", "token-x.rds")))
  # After clearing, the next sync is full again.
  x <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  expect_true(all(attr(x, "changes")$full))
})

test_that("a damaged copy is an ec5_error_store whose advice works", {
  srv <- local_client_server()
  dir <- withr::local_tempdir()
  ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  path <- ec5_cache_info(dir)$path
  writeBin(as.raw(rep(0x41, 4096)), path)
  expect_error(ec5_local("ec5-demo", path = dir, base_url = srv$url), class = "ec5_error_store")
  err <- expect_error(ec5_sync("ec5-demo", path = dir, base_url = srv$url), class = "ec5_error_store")
  expect_match(conditionMessage(err), "ec5_cache_clear")
  expect_snapshot(ec5_sync("ec5-demo", path = dir, base_url = srv$url), error = TRUE, transform = function(x) {
    gsub("127-0-0-1-[0-9]+", "<server>", gsub(dir, "<dir>", x, fixed = TRUE))
  })
  ec5_cache_clear("ec5-demo", path = dir)
  x <- ec5_sync("ec5-demo", path = dir, base_url = srv$url)
  expect_identical(without_times(x), without_times(ec5_project_data("ec5-demo", base_url = srv$url)))
})
