# Tokens (API-NOTES.md §8), access to private projects, and rate limits
# (§11).
limits <- component$srv_limits(
  "production", entries = c(5, 2), project = c(3, 2), media = c(3, 2), token = c(6, 3),
  global = c(4, 2), public_media = c(10, 2), public_media_burst = c(2, 1)
)
srv <- local_ec5_server(limits = limits, token_lifetime = 60)
client <- srv$clients[srv$clients$slug == "proyecto-api-python", ]

token_request <- function(...) {
  srv_request(paste0(srv$url, "/api/oauth/token"), method = "POST", ...)
}
credentials <- function(secret = client$client_secret, id = client$client_id) {
  list(grant_type = "client_credentials", client_id = id, client_secret = secret)
}
private_entries <- function(token = NULL, slug = "proyecto-api-python") {
  srv_get(srv, paste0("/api/export/entries/", slug),
          .headers = if (!is.null(token)) srv_bearer(token) else character())
}
code_of <- function(response) srv_json(response)$errors[[1]]$code
# Waits for the next window of every bucket (the longest here lasts 3 s).
next_window <- function() {
  Sys.sleep(3.1)
}

test_that("tokens come from JSON, form and multipart bodies", {
  srv$reset()
  json <- token_request(json = credentials())
  expect_equal(json$status, 200L)
  body <- srv_json(json)
  expect_equal(names(body), c("token_type", "expires_in", "access_token"))
  expect_equal(body[1:2], list(token_type = "Bearer", expires_in = 60L))
  parts <- strsplit(body$access_token, ".", fixed = TRUE)[[1]]
  expect_length(parts, 3)
  payload <- jsonlite::fromJSON(rawToChar(jsonlite::base64_dec(chartr("-_", "+/", paste0(parts[2], "==")))))
  expect_equal(payload$aud, "1001")
  expect_equal(payload$exp - payload$iat, 60)
  form <- token_request(form = credentials())
  expect_equal(form$status, 200L)
  boundary <- "ec5boundary"
  fields <- credentials()
  multipart <- paste0(paste0("--", boundary, "\r\nContent-Disposition: form-data; name=\"", names(fields),
                             "\"\r\n\r\n", unlist(fields), "\r\n", collapse = ""), "--", boundary, "--\r\n")
  mp <- token_request(body = multipart,
                      headers = c("Content-Type" = paste0("multipart/form-data; boundary=", boundary)))
  expect_equal(mp$status, 200L)
  # A numeric client id works too.
  numeric <- token_request(json = list(grant_type = "client_credentials", client_id = 1001,
                                       client_secret = client$client_secret))
  expect_equal(numeric$status, 200L)
})

test_that("token errors: 253 bad credentials, 254 no client, 261 grant", {
  srv$reset()
  expect_equal(code_of(token_request(json = credentials("wrong"))), "ec5_253")
  expect_equal(code_of(token_request(json = credentials(id = "9999"))), "ec5_253")
  expect_equal(srv_json(token_request(json = credentials("wrong")))$errors[[1]]$source, "token issue")
  expect_equal(code_of(token_request(json = list(grant_type = "client_credentials"))), "ec5_254")
  expect_equal(code_of(token_request(json = list(grant_type = "password", client_id = "1001"))), "ec5_261")
  missing <- token_request(json = list(client_id = "1001", client_secret = client$client_secret))
  expect_equal(missing$status, 400L)
  expect_equal(code_of(missing), "ec5_261")
})

test_that("a private project needs a live token of its own client", {
  srv$reset()
  expect_equal(code_of(private_entries()), "ec5_256")
  expect_equal(private_entries()$status, 404L)
  expect_equal(code_of(private_entries("not-a-token")), "ec5_256")
  token <- srv_token(srv, "proyecto-api-python")
  expect_equal(private_entries(token)$status, 200L)
  other <- srv_token(srv, "cronus-sept17")
  expect_equal(code_of(private_entries(other)), "ec5_257")
  # Public projects ignore the header.
  expect_equal(srv_get(srv, "/api/export/project/ec5-demo", .headers = srv_bearer("junk"))$status, 200L)
  srv$expire_tokens()
  next_window()
  expect_equal(code_of(private_entries(token)), "ec5_256")
})

test_that("issuing a token revokes the client's others, even when it fails", {
  srv$reset()
  first <- srv_token(srv, "proyecto-api-python")
  second <- srv_token(srv, "proyecto-api-python")
  expect_equal(code_of(private_entries(first)), "ec5_256")
  expect_equal(private_entries(second)$status, 200L)
  token_request(json = credentials("wrong"))
  expect_equal(code_of(private_entries(second)), "ec5_256")
  # Another client's token survives.
  cronus <- srv_token(srv, "cronus-sept17")
  srv_token(srv, "proyecto-api-python")
  expect_equal(srv_get(srv, "/api/export/project/cronus-sept17", .headers = srv_bearer(cronus))$status, 200L)
})

test_that("tokens expire after their lifetime", {
  srv2 <- local_ec5_server(token_lifetime = 3)
  token <- srv_token(srv2, "proyecto-api-python")
  expect_equal(srv_get(srv2, "/api/export/entries/proyecto-api-python", .headers = srv_bearer(token))$status, 200L)
  Sys.sleep(3.2)
  r <- srv_get(srv2, "/api/export/entries/proyecto-api-python", .headers = srv_bearer(token))
  expect_equal(code_of(r), "ec5_256")
})

test_that("entries are limited per slug in fixed windows, with headers", {
  srv$reset()
  responses <- lapply(1:6, function(i) srv_get(srv, "/api/export/entries/ec5-demo", per_page = 1))
  expect_equal(vapply(responses, `[[`, 0L, "status"), c(rep(200L, 5), 429L))
  remaining <- vapply(responses[1:5], function(r) r$headers[["x-ratelimit-remaining"]], "")
  expect_equal(remaining, as.character(4:0))
  expect_equal(responses[[1]]$headers[["x-ratelimit-limit"]], "5")
  limited <- responses[[6]]
  expect_equal(srv_json(limited)$errors[[1]],
               list(code = "ec5_255", title = "Too many requests. Try again later.", source = "rate-limiter"))
  expect_true(as.numeric(limited$headers[["retry-after"]]) %in% 1:2)
  expect_equal(limited$headers[["x-ratelimit-remaining"]], "0")
  reset <- as.numeric(limited$headers[["x-ratelimit-reset"]])
  expect_true(reset >= floor(as.numeric(Sys.time())) && reset <= as.numeric(Sys.time()) + 3)
  # Other slugs and other endpoint classes have their own buckets.
  expect_equal(srv_get(srv, "/api/export/entries/test-cleaning")$status, 200L)
  expect_equal(srv_get(srv, "/api/export/project/ec5-demo")$status, 200L)
  Sys.sleep(as.numeric(limited$headers[["retry-after"]]) + 0.1)
  expect_equal(srv_get(srv, "/api/export/entries/ec5-demo")$status, 200L)
})

test_that("Google Apps Script agents meet an extra entries bucket", {
  srv2 <- local_ec5_server(limits = component$srv_limits(
    "production", entries = c(10, 60), entries_google = c(2, 60)
  ))
  google <- c("User-Agent" = "Mozilla/5.0 (compatible; Google-Apps-Script)")
  statuses <- vapply(1:3, function(i) {
    srv_get(srv2, "/api/export/entries/ec5-demo", .headers = google)$status
  }, 0L)
  expect_equal(statuses, c(200L, 200L, 429L))
  expect_equal(srv_get(srv2, "/api/export/entries/ec5-demo", .headers = c("User-Agent" = "epicollect5"))$status,
               200L)
  expect_equal(tail(srv2$log()$user_agent, 1), "epicollect5")
})

test_that("throttling runs before project and permission checks", {
  srv$reset()
  denied <- lapply(1:3, function(i) srv_get(srv, "/api/export/project/proyecto-api-python"))
  expect_equal(vapply(denied, `[[`, 0L, "status"), rep(404L, 3))
  expect_equal(denied[[3]]$headers[["x-ratelimit-remaining"]], "0")
  expect_equal(srv_get(srv, "/api/export/project/proyecto-api-python")$status, 429L)
  unknown <- lapply(1:4, function(i) srv_get(srv, "/api/export/media/no-such-project"))
  expect_equal(vapply(unknown, `[[`, 0L, "status"), c(404L, 404L, 404L, 429L))
})

test_that("token requests count per address, failures included", {
  srv$reset()
  statuses <- vapply(1:7, function(i) token_request(json = credentials("wrong"))$status, 0L)
  expect_equal(statuses, c(rep(400L, 6), 429L))
  expect_equal(code_of(token_request(json = credentials())), "ec5_255")
})

test_that("search and version share the global bucket; E7 has a burst limit", {
  srv$reset()
  statuses <- c(
    srv_get(srv, "/api/projects/ec5")$status,
    srv_get(srv, "/api/project-version/ec5-demo")$status,
    srv_get(srv, "/api/projects/test")$status,
    srv_get(srv, "/api/project-version/test")$status,
    srv_get(srv, "/api/projects/test")$status
  )
  expect_equal(statuses, c(200L, 200L, 200L, 200L, 429L))
  next_window()
  burst <- vapply(1:3, function(i) {
    srv_get(srv, "/api/media/ec5-demo", type = "photo", format = "project_thumb", name = "logo.jpg")$status
  }, 0L)
  expect_equal(burst, c(200L, 200L, 429L))
})

test_that("maintenance mode answers 404 ec5_252 before anything else", {
  srv$reset()
  srv$maintenance(TRUE)
  on.exit(srv$maintenance(FALSE))
  for (path in c("/api/export/entries/ec5-demo", "/api/export/project/nope", "/api/projects/x")) {
    r <- srv_get(srv, path)
    expect_equal(r$status, 404L)
    expect_equal(srv_json(r)$errors[[1]],
                 list(code = "ec5_252", title = "The website is currently undergoing maintenance. Please try again later.",
                      source = "maintenance.mode"))
  }
  srv$maintenance(FALSE)
  expect_equal(srv_get(srv, "/api/export/entries/ec5-demo")$headers[["x-ratelimit-remaining"]], "4")
})
