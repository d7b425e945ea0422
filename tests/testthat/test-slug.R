check_slug <- epicollect5:::check_slug

test_that("check_slug() accepts slugs and suggests one for a project name", {
  expect_identical(check_slug("ec5-demo"), "ec5-demo")
  expect_identical(check_slug("a1-b2-c3"), "a1-b2-c3")
  for (bad in c("EC5 Demo", "-demo", "demo-", "de--mo", "d\u00e9mo", "a/b", "", NA)) {
    expect_error(check_slug(bad), class = "ec5_error_argument", label = bad)
  }
  expect_equal(epicollect5:::slugify("EC5 D\u00e9mo: \u00e9t\u00e9"), "ec5-demo-ete")
  expect_snapshot(error = TRUE, check_slug("D\u00e9mo Project 2"))
  expect_snapshot(error = TRUE, check_slug("!!!"))
})

test_that("a project URL gives its slug, from any page of the project or the API", {
  five <- "https://five.epicollect.net"
  urls <- c(
    "https://five.epicollect.net/project/ec5-demo",
    "https://five.epicollect.net/project/ec5-demo/",
    "https://five.epicollect.net/project/ec5-demo/data",
    "https://five.epicollect.net/project/ec5-demo/data?form_ref=x#top",
    "https://five.epicollect.net/project/ec5-demo?tab=details",
    "https://FIVE.epicollect.net:443/project/ec5-demo",
    "http://five.epicollect.net/project/ec5-demo",
    "five.epicollect.net/project/ec5-demo",
    "https://five.epicollect.net/api/export/entries/ec5-demo",
    "https://five.epicollect.net/api/export/entries/ec5-demo?form_ref=abc&per_page=50",
    "https://five.epicollect.net/api/export/project/ec5-demo",
    "https://five.epicollect.net/api/export/media/ec5-demo?type=photo&name=a_1.jpg",
    "https://five.epicollect.net/api/media/ec5-demo?type=photo&format=entry_original&name=a_1.jpg&v=1",
    "https://five.epicollect.net/api/project-version/ec5-demo",
    "https://five.epicollect.net/api/json/project/ec5-demo",
    "https://five.epicollect.net/api/entries/ec5-demo"
  )
  for (url in urls) {
    expect_identical(check_slug(url, five), "ec5-demo", label = url)
    # Without a server to compare with (ec5_cache_clear(), ec5_tbl()), any will do.
    expect_identical(check_slug(url), "ec5-demo", label = url)
  }
  expect_identical(check_slug("http://localhost:1234/project/x", "http://localhost:1234"), "x")
  expect_identical(check_slug("http://127.0.0.1:1234/project/x/", "http://127.0.0.1:1234/"), "x")
  # A self-hosted server in a folder of its host.
  expect_identical(
    check_slug("https://ec5.example.org/epicollect5/project/birds/data", "https://ec5.example.org/epicollect5"),
    "birds"
  )
  expect_identical(check_slug("https://ec5.example.org/epicollect5/api/export/project/birds"), "birds")
})

test_that("a URL on another server than base_url is refused, never followed", {
  err <- expect_error(
    check_slug("http://localhost:1234/project/x", "https://five.epicollect.net"),
    class = "ec5_error_argument"
  )
  expect_identical(err$server, "http://localhost:1234")
  expect_error(check_slug("http://localhost:1234/project/x", "http://localhost:5678"), class = "ec5_error_argument")
  expect_error(check_slug("https://ec5.example.org/a/project/x", "https://ec5.example.org/b"), class = "ec5_error_argument")
  expect_snapshot(error = TRUE, check_slug("http://localhost:1234/project/x", "https://five.epicollect.net"))
})

test_that("a URL that names no project, or a bad slug, is refused with what to do", {
  for (url in c("https://five.epicollect.net", "https://five.epicollect.net/about",
                "https://five.epicollect.net/project/", "https://five.epicollect.net/api/oauth/token")) {
    expect_error(check_slug(url, "https://five.epicollect.net"), class = "ec5_error_argument", label = url)
  }
  expect_snapshot(error = TRUE, check_slug("https://five.epicollect.net/about"))
  expect_snapshot(error = TRUE, check_slug("https://five.epicollect.net/project/EC5_Demo"))
})

test_that("functions that take a slug take a project URL and fetch that project", {
  srv <- local_client_server()
  slug_url <- paste0(srv$url, "/project/ec5-demo/data")
  expect_identical(ec5_project(slug_url, base_url = srv$url)$project$slug, "ec5-demo")
  from_url <- ec5_entries(paste0(srv$url, "/api/export/entries/ec5-demo?form_ref=x"), max_entries = 3, base_url = srv$url)
  from_slug <- ec5_entries("ec5-demo", max_entries = 3, base_url = srv$url)
  expect_identical(attr(from_url, "provenance")$slug, "ec5-demo")
  expect_identical(without_fetch_time(from_url), without_fetch_time(from_slug))
  expect_error(
    ec5_entries("https://five.epicollect.net/project/ec5-demo", base_url = srv$url),
    class = "ec5_error_argument"
  )
})
