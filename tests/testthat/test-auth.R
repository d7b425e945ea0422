# Credentials, tokens and the token cache shared between R processes. The
# token endpoint counts the tokens it issues, so a wasted or duplicated token
# request fails a test.

web <- local_http_app()
creds <- http_test_credentials

# A fresh cache folder and server state for each test.
local_auth_env <- function(.local_envir = parent.frame()) {
  dir <- withr::local_tempdir(.local_envir = .local_envir)
  withr::local_options(
    epicollect5.cache_dir = dir, epicollect5.verbose = FALSE,
    epicollect5.backoff = c(0.01, 0.05),
    .local_envir = .local_envir
  )
  cpp_check(limiter_reset_cpp())
  app_reset(web)
  dir
}

tokens_issued <- function() jsonlite::fromJSON(web$url("/__tokens"))$issued

test_auth <- function(id = creds$id, secret = creds$secret) {
  ec5_auth(id, secret, base_url = sub("/$", "", web$url("/")))
}

test_that("ec5_auth() reads the environment and requests nothing", {
  local_auth_env()
  withr::local_envvar(EC5_CLIENT_ID = creds$id, EC5_CLIENT_SECRET = creds$secret)
  auth <- ec5_auth(base_url = sub("/$", "", web$url("/")))
  expect_s3_class(auth, "ec5_auth")
  expect_identical(auth$client_id, creds$id)
  expect_identical(tokens_issued(), 0L)
  expect_identical(app_hits(web, "/api/oauth/token"), 0L)
})

test_that("a numeric client id is accepted", {
  expect_identical(ec5_auth(1234, "x", base_url = "https://a.org")$client_id, "1234")
})

test_that("missing credentials are auth errors that explain .Renviron", {
  withr::local_envvar(EC5_CLIENT_ID = NA, EC5_CLIENT_SECRET = NA)
  expect_error(ec5_auth(), class = "ec5_error_auth")
  expect_snapshot(ec5_auth(), error = TRUE)
  expect_snapshot(ec5_auth("1234", ""), error = TRUE)
  expect_error(ec5_auth(c("1", "2"), "s"), class = "ec5_error_auth")
  expect_error(ec5_auth("1", NA_character_), class = "ec5_error_auth")
  expect_error(ec5_auth("1", "s", base_url = "nope"), class = "ec5_error_argument")
})

test_that("printing shows the id, server and expiry, never the secret or token", {
  local_auth_env()
  auth <- test_auth()
  expect_snapshot(print(auth), transform = function(x) gsub("127\\.0\\.0\\.1:[0-9]+", "127.0.0.1:<port>", x))
  token <- ec5_token(auth)
  shown <- paste(c(
    capture.output(print(auth)), format(auth), capture.output(str(auth)),
    capture.output(str(as.list.environment(auth))),
    capture.output(print(as.list.environment(auth))),
    capture.output(ls.str(auth)), capture.output(print(mget(ls(auth), envir = auth)))
  ), collapse = "\n")
  expect_match(shown, "Client ID: 1234", fixed = TRUE)
  expect_match(shown, "valid until")
  expect_no_match(shown, creds$secret, fixed = TRUE)
  expect_no_match(shown, token, fixed = TRUE)
  expect_no_match(shown, "LEAKCHECK", fixed = TRUE)
})

test_that("a token is requested once, then reused", {
  local_auth_env()
  auth <- test_auth()
  token <- ec5_token(auth)
  expect_match(token, "^TOKEN-1-")
  expect_identical(ec5_token(auth), token)
  expect_identical(ec5_token(auth), token)
  expect_identical(tokens_issued(), 1L)
  expect_identical(app_hits(web, "/api/oauth/token"), 1L)
  expect_gt(as.numeric(auth$expires_at - Sys.time(), units = "secs"), 7200 - 300 - 60)
  # The token works on a private resource.
  resp <- ec5_request(web$url("/private"), token = token)
  expect_identical(resp$status, 200L)
})

test_that("the token request sends JSON client credentials", {
  body <- rawToChar(cpp_check(auth_token_body_cpp("12", "a\"b\\c")))
  expect_identical(
    jsonlite::fromJSON(body),
    list(grant_type = "client_credentials", client_id = "12", client_secret = "a\"b\\c")
  )
})

test_that("a token is replaced when it nears its expiry", {
  local_auth_env()
  # This token lives 2 s, so it is renewed after 1 s.
  auth <- test_auth(id = "short")
  first <- ec5_token(auth)
  left <- as.numeric(auth$expires_at - Sys.time(), units = "secs")
  expect_gt(left, 0)
  expect_lte(left, 1)
  expect_identical(ec5_token(auth), first)
  Sys.sleep(left + 0.05)
  second <- ec5_token(auth)
  expect_false(identical(first, second))
  expect_identical(tokens_issued(), 2L)
})

test_that("another auth object for the same client reuses the cached token", {
  local_auth_env()
  token <- ec5_token(test_auth())
  expect_identical(ec5_token(test_auth()), token)
  expect_identical(tokens_issued(), 1L)
})

test_that("a cached token is not handed to a different secret", {
  local_auth_env()
  ec5_token(test_auth())
  expect_error(ec5_token(test_auth(secret = "wrong-secret-value")), class = "ec5_error_auth")
  expect_identical(app_hits(web, "/api/oauth/token"), 2L)
})

test_that("the cache file is private and named by a hash", {
  dir <- local_auth_env()
  ec5_token(test_auth())
  files <- list.files(file.path(dir, "tokens"), full.names = TRUE)
  rds <- files[grepl("\\.rds$", files)]
  expect_length(rds, 1)
  expect_no_match(basename(rds), creds$id, fixed = TRUE)
  expect_no_match(basename(rds), creds$secret, fixed = TRUE)
  skip_on_os("windows")
  expect_identical(format(file.mode(rds)), "600")
  expect_identical(format(file.mode(file.path(dir, "tokens"))), "700")
})

test_that("modes are enforced on every write, also on an existing file and folder", {
  skip_on_os("windows")
  dir <- local_auth_env()
  auth <- test_auth()
  paths <- token_cache_paths(auth, NULL)
  Sys.chmod(dirname(paths$file), "0755", use_umask = FALSE)
  writeLines("old", paths$file)
  Sys.chmod(paths$file, "0644", use_umask = FALSE)
  ec5_token(auth)
  expect_identical(format(file.mode(paths$file)), "600")
  expect_identical(format(file.mode(dirname(paths$file))), "700")
})

# The first call fails with a classed error that names the path, and no
# token is requested.
expect_cache_unusable <- function(auth, path, problem) {
  err <- expect_error(ec5_token(auth), class = "ec5_error_io")
  expect_identical(err$path, path)
  expect_match(conditionMessage(err), problem)
  expect_match(conditionMessage(err), "epicollect5.cache_dir", fixed = TRUE)
  expect_identical(app_hits(web, "/api/oauth/token"), 0L)
}

test_that("a token cache that cannot be used stops the first call before any token request", {
  local_auth_env()
  auth <- test_auth()
  paths <- token_cache_paths(auth, NULL)
  # A folder where the token file goes.
  dir.create(paths$file)
  expect_cache_unusable(auth, paths$file, "is a folder")
  expect_snapshot(ec5_token(auth), error = TRUE, transform = function(x) {
    gsub(dirname(dirname(paths$file)), "<cache>", gsub("token-[0-9a-f]+", "<name>", x), fixed = TRUE)
  })
  unlink(c(paths$file, paths$lock), recursive = TRUE)
  # A folder where the lock file goes.
  dir.create(paths$lock)
  expect_cache_unusable(auth, paths$lock, "not a lock file")
  unlink(paths$lock, recursive = TRUE)
  # A file where the tokens folder goes.
  unlink(dirname(paths$file), recursive = TRUE)
  writeLines("not a folder", dirname(paths$file))
  expect_cache_unusable(auth, dirname(paths$file), "not a folder")
})

test_that("a write that fails (a full disk) stops the first call before any token request", {
  skip_on_os("windows")
  skip_if_not_installed("processx")
  dir <- local_auth_env()
  # A file size limit of 0 makes every write fail as a full disk does
  # (EFBIG instead of ENOSPC); the signal it would raise is ignored.
  script <- sprintf(
    "options(epicollect5.cache_dir = '%s', epicollect5.verbose = FALSE)
    auth <- epicollect5::ec5_auth('%s', '%s', base_url = '%s')
    e <- tryCatch(epicollect5:::ec5_token(auth), error = identity)
    cat(class(e)[1], e$path, conditionMessage(e), sep = '\n')",
    dir, creds$id, creds$secret, sub("/$", "", web$url("/"))
  )
  file <- withr::local_tempfile(fileext = ".R")
  writeLines(script, file)
  shell <- "trap '' XFSZ; ulimit -f 0; exec \"$0\" \"$1\""
  lines <- suppressWarnings(system2(
    "bash", shQuote(c("-c", shell, file.path(R.home("bin"), "Rscript"), file)),
    stdout = TRUE, stderr = FALSE,
    env = paste0("R_LIBS=", paste(.libPaths(), collapse = .Platform$path.sep))
  ))
  expect_identical(lines[1], "ec5_error_io")
  expect_identical(lines[2], token_cache_paths(test_auth(), NULL)$file)
  expect_match(paste(lines, collapse = "\n"), "File too large|written only in part")
  expect_identical(app_hits(web, "/api/oauth/token"), 0L)
})

test_that("a token cache without permission stops the first call", {
  skip_on_os(c("windows", "mac", "solaris"))
  skip_if_not(dir.exists("/proc/self/fdinfo"))
  dir <- local_auth_env()
  # A folder nobody may write into or change, not even root.
  file.symlink("/proc/self/fdinfo", file.path(dir, "tokens"))
  expect_cache_unusable(test_auth(), file.path(dir, "tokens"), "permissions")
})

test_that("processes that cannot use the cache request no token at all", {
  skip_if_not_installed("callr")
  dir <- local_auth_env()
  auth <- test_auth()
  dir.create(token_cache_paths(auth, NULL)$file)
  base <- sub("/$", "", web$url("/"))
  fetch <- function(dir, base, id, secret) {
    options(epicollect5.cache_dir = dir, epicollect5.verbose = FALSE)
    auth <- epicollect5::ec5_auth(id, secret, base_url = base)
    tryCatch(epicollect5:::ec5_token(auth), error = function(e) class(e))
  }
  args <- list(dir = dir, base = base, id = creds$id, secret = creds$secret)
  procs <- lapply(1:4, function(i) callr::r_bg(fetch, args = args))
  for (p in procs) p$wait(30000)
  for (p in procs) expect_true("ec5_error_io" %in% p$get_result())
  expect_identical(tokens_issued(), 0L)
  expect_identical(app_hits(web, "/api/oauth/token"), 0L)
})

test_that("a corrupt cache file is ignored", {
  dir <- local_auth_env()
  auth <- test_auth()
  ec5_token(auth)
  rds <- list.files(file.path(dir, "tokens"), pattern = "rds$", full.names = TRUE)
  writeLines("garbage", rds)
  expect_match(ec5_token(test_auth()), "^TOKEN-2-")
})

test_that("refresh adopts a newer token from another process, else requests one", {
  local_auth_env()
  auth <- test_auth()
  other <- test_auth()
  first <- ec5_token(auth)
  expect_identical(ec5_token(other), first)
  # The other process found its token refused and replaced it, revoking ours.
  second <- ec5_token_refresh(other)
  expect_false(identical(second, first))
  expect_identical(tokens_issued(), 2L)
  expect_identical(ec5_request(web$url("/private"), token = first)$status, 404L)
  # Our caller gets 404 ec5_256 and refreshes: the newer cached token is adopted.
  expect_identical(ec5_token_refresh(auth), second)
  expect_identical(tokens_issued(), 2L)
  expect_identical(ec5_request(web$url("/private"), token = second)$status, 200L)
  # Refreshing again (the token was revoked in the web UI): a new one.
  third <- ec5_token_refresh(auth)
  expect_false(identical(third, second))
  expect_identical(tokens_issued(), 3L)
})

test_that("two processes never both request a token", {
  dir <- local_auth_env()
  base <- sub("/$", "", web$url("/"))
  fetch <- function(dir, base, secret) {
    options(epicollect5.cache_dir = dir, epicollect5.verbose = FALSE)
    auth <- epicollect5::ec5_auth("slow", secret, base_url = base)
    epicollect5:::ec5_token(auth)
  }
  args <- list(dir = dir, base = base, secret = creds$secret)
  p1 <- callr::r_bg(fetch, args = args)
  p2 <- callr::r_bg(fetch, args = args)
  p1$wait(30000)
  p2$wait(30000)
  t1 <- p1$get_result()
  t2 <- p2$get_result()
  expect_identical(t1, t2)
  expect_identical(tokens_issued(), 1L)
  expect_identical(app_hits(web, "/api/oauth/token"), 1L)
})

test_that("token errors are classed, and no secret appears in any output", {
  local_auth_env()
  wrong <- test_auth(secret = "WRONG-secret-never-shown")
  out <- capture_everything(ec5_token(wrong))
  expect_error(ec5_token(wrong), class = "ec5_error_auth")
  expect_match(out, "ec5_253")
  expect_match(out, "EC5_CLIENT_SECRET")
  expect_no_match(out, "WRONG-secret-never-shown", fixed = TRUE)

  expect_error(ec5_token(test_auth(id = "254")), class = "ec5_error_auth")
  out <- capture_everything(ec5_token(test_auth(id = "254")))
  expect_no_match(out, creds$secret, fixed = TRUE)

  withr::local_options(epicollect5.retry_after_cap = 5)
  limited <- test_auth(id = "429")
  err <- expect_error(ec5_token(limited), class = "ec5_error_rate_limited")
  expect_match(conditionMessage(err), "3000 seconds")
  out <- capture_everything(ec5_token(limited))
  expect_no_match(out, creds$secret, fixed = TRUE)
  # The 429 blocks the token bucket of this server for every client.
  expect_error(ec5_token(wrong), class = "ec5_error_rate_limited")
  cpp_check(limiter_reset_cpp())
  expect_snapshot(ec5_token(wrong),
    error = TRUE,
    transform = function(x) gsub("127\\.0\\.0\\.1:[0-9]+", "127.0.0.1:<port>", x)
  )
})

test_that("a malformed token response is a parse error that shows no content", {
  body <- charToRaw('{"access_token": "", "expires_in": 7200, "x": "LEAKCHECK"}')
  err <- expect_error(cpp_check(auth_token_parse_cpp(body)), class = "ec5_error_parse")
  expect_no_match(conditionMessage(err), "LEAKCHECK")
  body <- charToRaw('{"access_token": "LEAKCHECK-token"}')
  err <- expect_error(cpp_check(auth_token_parse_cpp(body)), class = "ec5_error_parse")
  expect_no_match(conditionMessage(err), "LEAKCHECK")
  expect_error(cpp_check(auth_token_parse_cpp(charToRaw("LEAKCHECK"))), class = "ec5_error_parse")
  # A token with a line break would inject a header into every request.
  body <- charToRaw('{"access_token": "LEAKCHECK\\nX-Evil: 1", "expires_in": 7200}')
  err <- expect_error(cpp_check(auth_token_parse_cpp(body)), class = "ec5_error_parse")
  expect_no_match(conditionMessage(err), "LEAKCHECK")
  ok <- cpp_check(auth_token_parse_cpp(charToRaw('{"access_token":"t","expires_in":"7200"}')))
  expect_identical(ok, list(access_token = "t", token_type = "Bearer", expires_in = 7200))
})

test_that("a deeply nested token response is a parse error, not a stack overflow", {
  deep <- charToRaw(paste0(strrep("[", 1e6), strrep("]", 1e6)))
  expect_error(cpp_check(auth_token_parse_cpp(deep)), class = "ec5_error_parse")
})

test_that("ec5_auth_default() builds from the environment, or returns NULL", {
  withr::local_envvar(EC5_CLIENT_ID = NA, EC5_CLIENT_SECRET = NA)
  expect_null(ec5_auth_default(NULL, "https://a.org"))
  withr::local_envvar(EC5_CLIENT_ID = "7", EC5_CLIENT_SECRET = "s")
  auth <- ec5_auth_default(NULL, "https://a.org")
  expect_identical(auth$client_id, "7")
  expect_identical(auth$base_url, "https://a.org")
  expect_identical(ec5_auth_default(auth, "https://a.org"), auth)
  expect_error(ec5_auth_default(auth, "https://b.org"), class = "ec5_error_argument")
})

test_that("the cache lives in a temporary folder while testing", {
  withr::local_options(epicollect5.cache_dir = NULL)
  withr::local_envvar(TESTTHAT = "true")
  expect_true(startsWith(token_cache_dir(), tempdir()))
  withr::local_envvar(TESTTHAT = NA, `_R_CHECK_PACKAGE_NAME_` = NA)
  expect_true(startsWith(token_cache_dir(), tools::R_user_dir("epicollect5", "cache")))
})

test_that("a token response cut short is requested again within the budget", {
  srv <- local_client_server()
  local_fast_retries()
  withr::local_options(epicollect5.cache_dir = withr::local_tempdir())
  mark <- log_marker(srv)
  srv$faults(type = "truncate", path = "^/api/oauth/token", times = 1)
  token <- ec5_token(server_auth(srv, "proyecto-api-python"))
  expect_match(token, ".")
  expect_equal(count_matching(mark(), "/api/oauth/token"), 2)
  # Every time: a parse error after the budget, showing nothing of the body.
  srv$faults(type = "truncate", path = "^/api/oauth/token", times = 100)
  withr::local_options(epicollect5.cache_dir = withr::local_tempdir())
  err <- expect_error(ec5_token(server_auth(srv, "proyecto-api-python")), class = "ec5_error_parse")
  expect_equal(err$tries, 3)
  expect_equal(count_matching(mark(), "/api/oauth/token"), 3)
  expect_no_match(conditionMessage(err), "access_token\\W+[A-Za-z0-9]")
})

test_that("ec5_deauth() forgets the session's and the cached tokens of one client only", {
  dir <- local_auth_env()
  auth <- test_auth()
  other <- test_auth(id = "short")
  first <- ec5_token(auth)
  kept <- ec5_token(other)
  expect_length(list.files(file.path(dir, "tokens"), "\\.rds$"), 2)
  expect_true(ec5_deauth(creds$id, base_url = auth$base_url))
  expect_length(list.files(file.path(dir, "tokens"), "\\.rds$"), 1)
  expect_match(format(auth)[4], "forgotten", fixed = TRUE)
  expect_match(format(other)[4], "valid until", fixed = TRUE)
  # The auth object and a new one for the client both request a new token.
  second <- ec5_token(auth)
  expect_false(identical(first, second))
  expect_identical(ec5_token(test_auth()), second)
  expect_identical(ec5_token(other), kept)
  expect_identical(tokens_issued(), 3L)
  # An auth object names its client and server; nothing cached is no error.
  expect_true(ec5_deauth(auth))
  expect_false(ec5_deauth(auth))
  expect_false(identical(ec5_token(auth), second))
  expect_error(ec5_deauth(""), class = "ec5_error_auth")
})
