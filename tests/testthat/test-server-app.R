# The local server's app: routing, request log, admin API, runtime edits and
# fault injection.
srv <- local_ec5_server(limits = component$srv_limits("code"))
demo_entries <- function(...) srv_get(srv, "/api/export/entries/ec5-demo", ...)

test_that("unknown routes and wrong methods get 422 ec5_219", {
  for (r in list(srv_get(srv, "/api/nothing"),
                 srv_request(paste0(srv$url, "/api/export/entries/ec5-demo"), method = "POST", body = ""),
                 srv_get(srv, "/api/oauth/token"))) {
    expect_equal(r$status, 422L)
    expect_equal(srv_json(r)$errors[[1]],
                 list(code = "ec5_219", title = "Page not found.", source = "page not found exception"))
    expect_equal(r$headers[["content-type"]], "application/vnd.api+json; charset=utf-8")
  }
})

test_that("answers are dated, as a web server dates them", {
  before <- floor(as.numeric(Sys.time()))
  r <- demo_entries()
  date <- epicollect5:::response_date(list(headers = c(date = r$headers[["date"]])))
  expect_gte(date, before)
  expect_lte(date, as.numeric(Sys.time()))
})

test_that("trailing slashes are redirected away, as the Apache config does", {
  r <- srv_get(srv, "/api/export/entries/ec5-demo/", per_page = 2)
  expect_equal(r$status, 301L)
  expect_equal(r$headers[["location"]], paste0(srv$url, "/api/export/entries/ec5-demo?per_page=2"))
  token <- srv_request(paste0(srv$url, "/api/oauth/token/"), method = "POST", body = "")
  expect_equal(token$status, 301L)
})

test_that("the log records each API request, never admin calls", {
  srv$reset()
  demo_entries(per_page = 2)
  srv_get(srv, "/api/export/entries/ec5-demo", .headers = srv_bearer("abc"))
  srv_get(srv, "/api/nothing")
  log <- srv$log()
  expect_equal(nrow(log), 3)
  expect_equal(log$method, rep("GET", 3))
  expect_equal(log$path, c("/api/export/entries/ec5-demo", "/api/export/entries/ec5-demo", "/api/nothing"))
  expect_equal(log$query, c("per_page=2", "", ""))
  expect_equal(log$authorization, c(FALSE, TRUE, FALSE))
  expect_equal(log$status, c(200L, 200L, 422L))
  expect_equal(log$user_agent, rep("", 3))
  expect_equal(log$host[1], sub("^http://", "", srv$url))
  srv$reset()
  expect_equal(nrow(srv$log()), 0)
})

test_that("faults apply to matching paths, the given number of times", {
  srv$reset()
  srv$faults(type = "error", status = 503, path = "^/api/export/entries", times = 2)
  expect_equal(srv_get(srv, "/api/export/project/ec5-demo")$status, 200L)
  first <- demo_entries()
  expect_equal(first$status, 503L)
  expect_equal(first$headers[["content-type"]], "text/html; charset=UTF-8")
  expect_match(first$text, "<title>Service Unavailable</title>", fixed = TRUE)
  expect_equal(demo_entries()$status, 503L)
  expect_equal(demo_entries()$status, 200L)
  srv$faults(type = "error", status = 500)
  html <- srv_get(srv, "/api/projects/x")
  expect_match(html$text, "<!DOCTYPE html>", fixed = TRUE)
  srv$faults(type = "error", status = 502)
  expect_equal(srv_get(srv, "/api/projects/x")$status, 502L)
  expect_equal(srv$log()$fault, c("", "error", "error", "", "error", "error"))
  srv$faults(type = "error", times = 3)
  expect_equal(length(srv$clear_faults()), 0)
  expect_equal(srv_get(srv, "/api/projects/x")$status, 200L)
})

test_that("rate-limit and maintenance faults answer like the server", {
  srv$reset()
  srv$faults(type = "rate_limit", retry_after = 7)
  r <- demo_entries()
  expect_equal(r$status, 429L)
  expect_equal(srv_json(r)$errors[[1]]$code, "ec5_255")
  expect_equal(r$headers[["retry-after"]], "7")
  expect_equal(r$headers[["x-ratelimit-remaining"]], "0")
  expect_equal(r$headers[["x-ratelimit-limit"]], "60")
  srv$faults(type = "maintenance")
  expect_equal(srv_json(demo_entries())$errors[[1]]$code, "ec5_252")
  expect_equal(demo_entries()$status, 200L)
})

test_that("transfer faults damage the real response", {
  srv$reset()
  full <- demo_entries(per_page = 20)
  srv$faults(type = "drop")
  dropped <- demo_entries(per_page = 20)
  expect_equal(dropped$status, 200L)
  expect_false(dropped$complete)
  expect_equal(as.numeric(dropped$headers[["content-length"]]), length(full$body))
  expect_equal(length(dropped$body), length(full$body) %/% 2)
  srv$faults(type = "drop", bytes = 10)
  expect_equal(length(demo_entries(per_page = 20)$body), 10)
  srv$faults(type = "truncate")
  truncated <- demo_entries(per_page = 20)
  expect_true(truncated$complete)
  expect_equal(truncated$body, full$body[seq_len(length(full$body) %/% 2)])
  expect_error(srv_json(truncated))
  srv$faults(type = "invalid_json")
  invalid <- demo_entries(per_page = 20)
  expect_equal(invalid$headers[["content-type"]], "application/vnd.api+json; charset=utf-8")
  expect_error(srv_json(invalid))
  expect_equal(length(invalid$body), length(full$body))
  # A PHP warning page under the real headers, as a photo served as HTML.
  srv$faults(type = "html_body")
  html <- demo_entries(per_page = 20)
  expect_equal(html$status, 200L)
  expect_equal(html$headers[["content-type"]], "application/vnd.api+json; charset=utf-8")
  expect_match(rawToChar(html$body), "^<br />\n<b>Warning</b>")
  expect_equal(as.numeric(html$headers[["content-length"]]), length(html$body))
})

test_that("slow faults: a stalled first byte and a trickling body", {
  srv$reset()
  srv$faults(type = "stall", delay = 1.5)
  stalled <- demo_entries(per_page = 5)
  expect_equal(stalled$status, 200L)
  expect_true(stalled$complete)
  expect_gte(stalled$elapsed, 1.4)
  srv$faults(type = "stall", delay = 3)
  gave_up <- srv_request(paste0(srv$url, "/api/export/entries/ec5-demo"), timeout = 1)
  expect_true(is.na(gave_up$status))
  srv$faults(type = "trickle", chunk = 2000, delay = 0.3)
  trickled <- demo_entries(per_page = 5)
  expect_true(trickled$complete)
  expect_gte(trickled$elapsed, 0.3 * (ceiling(length(trickled$body) / 2000) - 1) - 0.1)
  # Other requests are served while one stalls.
  srv$faults(type = "stall", delay = 2, path = "^/api/export/project")
  expect_equal(srv_get(srv, "/api/projects/x")$status, 200L)
})

test_that("a revoked-token fault invalidates the token in use", {
  srv$reset()
  token <- srv_token(srv, "proyecto-api-python")
  private <- function() srv_get(srv, "/api/export/entries/proyecto-api-python", .headers = srv_bearer(token))
  expect_equal(private()$status, 200L)
  srv$faults(type = "revoke_token")
  r <- private()
  expect_equal(srv_json(r)$errors[[1]]$code, "ec5_256")
  expect_equal(private()$status, 404L)
})

test_that("a media redirect goes to the other host name, without the token there", {
  srv$reset()
  srv$faults(type = "redirect", path = "^/api/export/media")
  rows <- srv_json(demo_entries(per_page = 100,
    form_ref = "ec5de3000b3c4c34a00243e3b5b68a3b_5720cf256d11b"))$data$entries
  urls <- Filter(nzchar, vapply(rows, `[[`, "", "34_Profile_picture"))
  name <- sub("^.*name=([^&]+).*$", "\\1", urls[1])
  r <- srv_get(srv, "/api/export/media/ec5-demo", type = "photo", format = "entry_original",
               name = name, .headers = srv_bearer("tok"))
  expect_equal(r$status, 302L)
  expect_equal(r$headers[["cache-control"]], "no-store")
  location <- r$headers[["location"]]
  expect_match(location, paste0("^http://localhost:", sub("^.*:", "", srv$url), "/_s3/ec5-demo\\?"))
  followed <- srv_request(location)
  expect_equal(followed$status, 200L)
  expect_equal(followed$headers[["content-type"]], "image/jpeg")
  log <- srv$log()
  expect_equal(log$authorization, c(FALSE, TRUE, FALSE))
  expect_equal(log$host[3], paste0("localhost:", sub("^.*:", "", srv$url)))
  expect_equal(log$fault[2], "redirect")
})

test_that("a drop_entry fault leaves one entry out of a page, and meta still counts it", {
  srv$reset()
  full <- srv_json(demo_entries(per_page = 10))
  srv$faults(type = "drop_entry", path = "^/api/export/entries/", times = 1)
  dropped <- srv_json(demo_entries(per_page = 10))
  expect_length(dropped$data$entries, 9)
  expect_equal(dropped$meta, full$meta)
  uuids <- function(x) vapply(x$data$entries, `[[`, "", "ec5_uuid")
  expect_equal(setdiff(uuids(full), uuids(dropped)), uuids(full)[5])
  expect_equal(srv$log()$fault, c("", "drop_entry"))
  expect_length(srv_json(demo_entries(per_page = 10))$data$entries, 10)
})
