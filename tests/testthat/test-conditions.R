# Error classes and fields (R/conditions.R), redaction, and the secrets
# sweep: every exported function, error paths included, must never show the
# client secret or an access token, in any text it emits or any file it
# writes.

test_that("every class becomes ec5_error_<class> plus ec5_error", {
  classes <- c("argument", "auth", "not_found", "rate_limited", "bad_request",
               "server", "parse", "transport", "io", "timeout")
  for (class in classes) {
    err <- expect_error(epicollect5:::ec5_abort("Something.", class), class = paste0("ec5_error_", class))
    expect_s3_class(err, "ec5_error")
    expect_s3_class(err, "rlang_error")
  }
  err <- expect_error(epicollect5:::ec5_abort("Something.", "io", path = "a/b"), class = "ec5_error_io")
  expect_equal(err$path, "a/b")
  expect_equal(class(expect_error(epicollect5:::ec5_abort("Plain."))), c("ec5_error", "rlang_error", "error", "condition"))
})

test_that("C++ failures become classed errors; a time-out is also a transport error", {
  failure <- function(kind, message, fields = character()) {
    structure(list(kind = kind, message = message, fields = fields), class = "ec5_cpp_failure")
  }
  err <- expect_error(epicollect5:::cpp_check(failure("timeout", "Too slow.", c(hint = "timeout"))),
                      class = "ec5_error_timeout")
  expect_s3_class(err, "ec5_error_transport")
  expect_identical(epicollect5:::cpp_check(list(a = 1)), list(a = 1))
  # Fields other than the hint become fields of the condition.
  err <- expect_error(
    epicollect5:::cpp_check(failure("parse", "An error body.", c(code = "ec5_11", title = "No."))),
    class = "ec5_error_parse"
  )
  expect_identical(err$code, "ec5_11")
  expect_identical(err$title, "No.")
  expect_null(err$hint)
  # Hint texts live in R; braces in C++ text are shown, never interpreted.
  expect_snapshot(error = TRUE, {
    epicollect5:::cpp_check(failure("timeout", "Too slow.", c(hint = "timeout")))
    epicollect5:::cpp_check(failure("parse", "Invalid JSON near {x} and {.code y}"))
  })
})

test_that("HTTP statuses and ec5 codes map to classes", {
  class_of <- function(status, code) epicollect5:::http_error_class(status, code)
  expect_equal(class_of(404L, "ec5_252"), "server")
  expect_equal(class_of(400L, "ec5_253"), "auth")
  expect_equal(class_of(400L, "ec5_254"), "auth")
  expect_equal(class_of(404L, "ec5_256"), "auth")
  expect_equal(class_of(404L, "ec5_257"), "auth")
  expect_equal(class_of(400L, "ec5_261"), "auth")
  expect_equal(class_of(429L, "ec5_255"), "rate_limited")
  expect_equal(class_of(429L, ""), "rate_limited")
  expect_equal(class_of(404L, "ec5_11"), "not_found")
  expect_equal(class_of(400L, "ec5_15"), "not_found")
  expect_equal(class_of(400L, "ec5_99"), "not_found")
  expect_equal(class_of(400L, "ec5_322"), "not_found")
  expect_equal(class_of(404L, "ec5_69"), "not_found")
  expect_equal(class_of(500L, ""), "server")
  expect_equal(class_of(503L, ""), "server")
  expect_equal(class_of(400L, "ec5_335"), "bad_request")
  expect_equal(class_of(422L, "ec5_219"), "bad_request")
})

test_that("HTTP errors carry status, code, title, source, URL and tries", {
  errors <- data.frame(code = "ec5_255", title = "Too many requests. Try again later.", source = "rate-limiter")
  err <- expect_error(
    epicollect5:::ec5_http_abort(429L, "https://x.org/api/export/entries/p?page=2&access_token=abc",
                                 errors = errors, what = "entries request", retry_after = 12, tries = 4),
    class = "ec5_error_rate_limited"
  )
  expect_equal(err$status, 429L)
  expect_equal(err$code, "ec5_255")
  expect_equal(err$title, "Too many requests. Try again later.")
  expect_equal(err$source, "rate-limiter")
  expect_equal(err$url, "https://x.org/api/export/entries/p?page=2&access_token=<redacted>")
  expect_equal(err$tries, 4)
  expect_snapshot(error = TRUE, {
    epicollect5:::ec5_http_abort(429L, "https://x.org/api/export/entries/p?page=2",
                                 errors = errors, what = "entries request", retry_after = 12, tries = 4)
    epicollect5:::ec5_http_abort(502L, "https://x.org/api/export/project/p", html = TRUE,
                                 what = "project definition request")
    epicollect5:::ec5_http_abort(418L, "https://x.org/api/x")
  })
  # Without an ec5 body the title is the status text.
  err <- expect_error(epicollect5:::ec5_http_abort(502L, "https://x.org/"), class = "ec5_error_server")
  expect_equal(err$title, "Bad Gateway")
  expect_equal(err$code, "")
})

test_that("secrets in URLs are blanked, in R as in C++", {
  redact <- epicollect5:::redact_url
  expect_equal(redact("https://x.org/a?client_secret=s3cr3t&b=1"), "https://x.org/a?client_secret=<redacted>&b=1")
  expect_equal(redact("https://x.org/a?b=1&access_token=eyJabc.def&c=2"), "https://x.org/a?b=1&access_token=<redacted>&c=2")
  expect_equal(redact("https://x.org/a?token=t&secret=s"), "https://x.org/a?token=<redacted>&secret=<redacted>")
  expect_equal(redact("https://x.org/a?Client_Secret=S"), "https://x.org/a?Client_Secret=<redacted>")
  expect_equal(redact("https://x.org/a?mytoken=keep&title=token"), "https://x.org/a?mytoken=keep&title=token")
  expect_equal(redact("https://x.org/secret/token"), "https://x.org/secret/token")
  expect_equal(redact(c("https://x.org/?token=1", "https://y.org/")), c("https://x.org/?token=<redacted>", "https://y.org/"))
})

# --- the sweep ------------------------------------------------------------------

# Everything an expression shows: its output, messages, warnings (with their
# fields and traces), an error (likewise), and its value printed, str()-ed and
# format()-ed.
sweep_capture <- function(expr) {
  notes <- character()
  note <- function(...) notes <<- c(notes, ...)
  show <- function(x) {
    c(
      utils::capture.output(print(x)),
      utils::capture.output(utils::str(x)),
      utils::capture.output(utils::str(if (is.environment(x)) as.list.environment(x) else unclass(x))),
      tryCatch(format(x), error = function(e) character())
    )
  }
  show_condition <- function(cnd) {
    cnd <- rlang::cnd_entrace(cnd)
    c(conditionMessage(cnd), show(cnd), format(cnd$trace))
  }
  text <- utils::capture.output(type = "message", {
    out <- utils::capture.output({
      value <- tryCatch(
        withCallingHandlers(
          expr,
          error = function(e) note(show_condition(e)),
          warning = function(w) {
            note(show_condition(w))
            invokeRestart("muffleWarning")
          },
          message = function(m) {
            note(conditionMessage(m), utils::capture.output(utils::str(unclass(m))))
            invokeRestart("muffleMessage")
          }
        ),
        error = function(e) NULL
      )
      if (!is.null(value)) note(show(value))
    })
  })
  c(out, text, notes)
}

# The bytes of a written file; an RDS is read and serialized uncompressed,
# so that what it holds can be searched.
file_bytes <- function(path) {
  if (grepl("[.]rds$", path)) {
    return(serialize(readRDS(path), NULL))
  }
  readBin(path, "raw", file.size(path))
}

test_that("no secret or token appears in any output, condition or written file", {
  skip_on_cran()
  srv <- local_client_server()
  local_fast_retries()
  root <- withr::local_tempdir()
  withr::local_options(
    epicollect5.cache_dir = file.path(root, "cache"),
    epicollect5.verbose = TRUE,
    epicollect5.http_verbose = TRUE,
    cli.progress_show_after = 0
  )
  slug <- "proyecto-api-python"
  client <- srv$clients[srv$clients$slug == slug, ]
  other <- srv$clients[srv$clients$slug == "cronus-sept17", ]
  wrong_secret <- "WrongSecretKnownToTheSecretsSweep00000001"
  secrets <- c(client$client_secret, other$client_secret, wrong_secret)
  withr::local_envvar(EC5_CLIENT_ID = client$client_id, EC5_CLIENT_SECRET = client$client_secret)
  auth <- ec5_auth(client$client_id, client$client_secret, base_url = srv$url)
  other_auth <- ec5_auth(other$client_id, other$client_secret, base_url = srv$url)
  wrong_auth <- ec5_auth(client$client_id, wrong_secret, base_url = srv$url)
  tokens <- character()
  keep_tokens <- function() {
    for (a in list(auth, other_auth)) tokens <<- unique(c(tokens, a$get_token()))
  }
  text <- character()
  sweep <- function(expr) {
    text <<- c(text, sweep_capture(expr))
    keep_tokens()
    invisible()
  }
  url <- srv$url
  store <- file.path(root, "store")
  media <- file.path(root, "media")
  csv <- file.path(root, "csv")
  dir.create(csv)
  temp_before <- list.files(tempdir(), recursive = TRUE, all.files = TRUE)

  # Credentials and the project.
  sweep(auth)
  sweep(ec5_auth(base_url = url))
  sweep(ec5_base_url())
  sweep(ec5_cache_dir())
  sweep(ec5_sitrep(base_url = url))
  sweep(p <- ec5_project(slug, auth = auth, base_url = url))
  sweep(auth)
  sweep(ec5_sitrep(base_url = url))
  # Entries, branches, whole projects (several pages: progress shown).
  sweep(x <- ec5_entries(slug, per_page = 10, auth = auth, base_url = url))
  sweep(ec5_entries(slug, per_page = 10, created_by = "hash", auth = auth, base_url = url))
  branch <- p$inputs$ref[p$inputs$type == "branch"][1]
  sweep(ec5_branch_entries(slug, branch = branch, auth = auth, base_url = url))
  sweep(data <- ec5_project_data(slug, auth = auth, base_url = url))
  sweep(ec5_project_data(slug, base_url = url))
  sweep(ec5_labels(x))
  sweep(ec5_problems(x))
  sweep(ec5_join(data, names(data)[2]))
  sweep(ec5_as_sf(x))
  # Local copies and media.
  sweep(ec5_sync(slug, path = store, auth = auth, base_url = url))
  srv$entries(slug, action = "add")
  sweep(ec5_sync(slug, path = store, auth = auth, base_url = url))
  sweep(ec5_cache_info(store))
  sweep(ec5_cache_info())
  sweep(ec5_media_download(data, media, auth = auth, base_url = url))
  photo <- list.files(media)[1]
  sweep(ec5_media(slug, photo, auth = auth, base_url = url))
  sweep(ec5_media(slug, photo, path = file.path(media, "copy.jpg"), auth = auth, base_url = url))
  srv$faults(type = "redirect", path = "^/api/export/media/", times = 1)
  sweep(ec5_media(slug, photo, auth = auth, base_url = url))
  # CSV out and in, JSON parsing offline.
  for (table in names(data)) {
    path <- file.path(csv, paste0(epicollect5:::slugify(table), ".csv"))
    sweep(ec5_write_csv(data[[table]], path))
    sweep(ec5_read_csv(path, project = p, form = if (table %in% p$forms$name) table,
                       branch = if (!table %in% p$forms$name) table))
  }
  bearer <- srv_bearer(auth$get_token())
  definition <- srv_get(srv, paste0("/api/export/project/", slug), .headers = bearer)$text
  page <- srv_get(srv, paste0("/api/export/entries/", slug), .headers = bearer)$text
  sweep(ec5_project_from_json(definition))
  sweep(ec5_parse_entries(page, definition))
  sweep(ec5_search_projects("proyecto", base_url = url))

  # Error paths.
  sweep(ec5_entries(slug, auth = wrong_auth, base_url = url))
  sweep(ec5_entries(slug, auth = other_auth, base_url = url))
  withr::with_envvar(c(EC5_CLIENT_ID = "", EC5_CLIENT_SECRET = ""), sweep(ec5_entries(slug, base_url = url)))
  srv$faults(type = "revoke_token", path = "^/api/export/entries/", times = 1)
  sweep(ec5_entries(slug, auth = auth, base_url = url))
  srv$faults(type = "revoke_token", path = "^/api/export/entries/", times = 10)
  sweep(ec5_entries(slug, auth = auth, base_url = url))
  srv$clear_faults()
  srv$expire_tokens()
  sweep(ec5_entries(slug, auth = auth, base_url = url))
  for (fault in list(list(type = "error", status = 500), list(type = "truncate"),
                     list(type = "invalid_json"), list(type = "drop"))) {
    # The token endpoint fails: the request body holds the secret, a
    # damaged answer part of a token.
    srv$expire_tokens()
    epicollect5:::ec5_token_refresh(auth)
    keep_tokens()
    srv$expire_tokens()
    do.call(srv$faults, c(fault, list(path = "^/api/oauth/token$", times = 10)))
    # One try each: the token budget (10 an hour) must last the whole sweep.
    withr::with_options(list(epicollect5.max_tries = 1), sweep(ec5_entries(slug, auth = auth, base_url = url)))
    srv$clear_faults()
  }
  srv$faults(type = "error", status = 503, path = "^/api/export/entries/", times = 10)
  sweep(ec5_sync(slug, path = store, auth = auth, base_url = url))
  sweep(ec5_entries(slug, auth = auth, base_url = url))
  srv$clear_faults()
  srv$faults(type = "drop", path = "^/api/export/media/", times = 10)
  sweep(ec5_media_download(data, file.path(root, "media2"), auth = auth, base_url = url))
  srv$clear_faults()
  srv$faults(type = "stall", delay = 3, path = "^/api/export/project/", times = 10)
  epicollect5:::project_cache_clear()
  sweep(ec5_project(slug, auth = auth, base_url = url))
  srv$clear_faults()
  srv$faults(type = "rate_limit", retry_after = 30, path = "^/api/export/entries/", times = 1)
  sweep(ec5_entries(slug, auth = auth, base_url = url))
  sweep(ec5_entries(slug, auth = auth, base_url = url))
  epicollect5:::limiter_reset_cpp()
  srv$clear_faults()
  closed <- "http://127.0.0.1:9"
  sweep(ec5_entries(slug, auth = ec5_auth(client$client_id, client$client_secret, base_url = closed), base_url = closed))
  sweep(ec5_sitrep(base_url = closed))
  sweep(ec5_demo())
  sweep(ec5_demo_server(stop = TRUE))
  keep_tokens()

  # The capture saw what it should: the verbose HTTP log, progress, errors.
  all <- paste(text, collapse = "\n")
  expect_match(all, "Authorization: <redacted>", fixed = TRUE)
  expect_match(all, "Client ID", fixed = TRUE)
  expect_match(all, " pages in ", fixed = TRUE)
  expect_match(all, "ec5_253", fixed = TRUE)
  expect_match(all, "ec5_257", fixed = TRUE)
  expect_match(all, "refused a fresh access token", fixed = TRUE)
  expect_gte(length(tokens), 3)
  expect_true(all(nchar(tokens) > 100))
  for (secret in c(secrets, tokens)) {
    expect_false(grepl(secret, all, fixed = TRUE), label = paste("a secret of", nchar(secret), "characters in the output"))
  }
  # Nor any part of any token (also ones the client never kept): a JWT
  # begins with the base64 of '{"typ"'.
  expect_false(grepl("eyJ0eXAi", all, fixed = TRUE))
  expect_false(grepl("Bearer [A-Za-z0-9]", all))

  # Every file written, except the token cache.
  files <- list.files(root, recursive = TRUE, all.files = TRUE, full.names = TRUE)
  token_files <- startsWith(files, file.path(root, "cache", "tokens"))
  expect_true(any(token_files))
  files <- files[!token_files]
  expect_true(any(grepl("[.]sqlite$", files)))
  expect_true(any(grepl("[.]csv$", files)))
  expect_true(any(grepl("[.]jpg$", files)))
  for (file in files) {
    bytes <- file_bytes(file)
    for (secret in c(secrets, tokens, "eyJ0eXAi")) {
      expect_length(grepRaw(secret, bytes, fixed = TRUE), 0)
    }
  }
  # Clearing the copy shows nothing either.
  cleared <- paste(sweep_capture(ec5_cache_clear(slug, path = store)), collapse = "\n")
  expect_match(cleared, slug, fixed = TRUE)
  for (secret in c(secrets, tokens, "eyJ0eXAi")) {
    expect_false(grepl(secret, cleared, fixed = TRUE))
  }
  # Nothing was left in the session's temporary folder.
  temp_after <- list.files(tempdir(), recursive = TRUE, all.files = TRUE)
  new <- setdiff(temp_after, temp_before)
  new <- new[!startsWith(file.path(tempdir(), new), root)]
  for (file in file.path(tempdir(), new)) {
    if (file.exists(file) && !dir.exists(file)) {
      expect_length(grepRaw("eyJ0eXAi", file_bytes(file), fixed = TRUE), 0)
    }
  }
})

test_that("no argument or option turns certificate checks off", {
  exports <- getNamespaceExports("epicollect5")
  arguments <- unlist(lapply(exports, function(f) names(formals(getExportedValue("epicollect5", f)))))
  expect_false(any(grepl("ssl|tls|verif|insecure|cert|peer", arguments, ignore.case = TRUE)))
  ns <- asNamespace("epicollect5")
  code <- unlist(lapply(ls(ns, all.names = TRUE), function(f) {
    value <- get(f, envir = ns)
    if (is.function(value)) deparse(value) else character()
  }))
  options <- unique(unlist(regmatches(code, gregexpr("epicollect5\\.[A-Za-z_.]+", code))))
  expect_true("epicollect5.timeout" %in% options)
  expect_false(any(grepl("ssl|tls|verif|insecure|cert|peer", options, ignore.case = TRUE)))
  expect_false(any(grepl("ssl|tls|verif|insecure|cert|peer", names(epicollect5:::http_options()), ignore.case = TRUE)))
  # The C++ transport sets the checks unconditionally.
  source <- test_path("..", "..", "src", "http_transfer.cpp")
  skip_if_not(file.exists(source))
  lines <- readLines(source)
  expect_true(any(grepl("CURLOPT_SSL_VERIFYPEER, 1L", lines, fixed = TRUE)))
  expect_true(any(grepl("CURLOPT_SSL_VERIFYHOST, 2L", lines, fixed = TRUE)))
  expect_false(any(grepl("VERIFY(PEER|HOST), 0", lines)))
  expect_false(any(grepl("UNRESTRICTED_AUTH", lines[!grepl("^\\s*//", lines)])))
})

test_that("strings declared \"bytes\" reach no C++ entry point as an R error", {
  # R refuses to translate "bytes" to UTF-8: that R error would long-jump over
  # live C++ objects. Every entry point gets one in every argument, and must
  # answer with a value or a classed error.
  as_bytes <- function(x) {
    Encoding(x) <- "bytes"
    x
  }
  bytes <- as_bytes("caf\xe9 {x}")
  ns <- asNamespace("epicollect5")
  withr::defer(limiter_set_clock_cpp(NA_real_))
  withr::defer(limiter_reset_cpp())
  rcpp_typed <- c(
    "csv_open_cpp", "csv_infer_cpp", "csv_convert_cpp", "csv_finish_cpp", "csv_write_cpp"
  )
  entry_points <- Filter(function(f) is.function(ns[[f]]), grep("_cpp$", ls(ns), value = TRUE))
  expect_gt(length(entry_points), 10)
  for (name in entry_points) {
    f <- get(name, envir = ns)
    args <- rep(list(bytes), length(formals(f)))
    outcome <- tryCatch(
      {
        cpp_check(do.call(f, args))
        "value"
      },
      ec5_error = function(e) "classed",
      # Typed arguments (Rcpp::List, Rcpp::RawVector) are checked by Rcpp
      # before the function runs: an R error, not an ec5 one.
      "Rcpp::not_compatible" = function(e) if (name %in% rcpp_typed) "typed" else stop(e)
    )
    expect_true(outcome %in% c("value", "classed", "typed"), label = name)
  }
  # Strings inside the lists of a request and a limiter.
  limiter <- list(key = bytes, class = bytes, requests = 1, seconds = 1)
  expect_identical(cpp_check(limiter_delay_cpp(limiter)), 0)
  options <- http_options()
  options$user_agent <- bytes
  resp <- cpp_check(http_perform_cpp(list(
    url = as_bytes("http://127.0.0.1:9/caf\xe9"), headers = as_bytes("X-Test: caf\xe9"),
    dest = as_bytes(paste0(withr::local_tempdir(), "/caf\xe9")), options = options
  )))
  expect_identical(resp$status, 0L)
  expect_identical(resp$failure$kind, "transport")
  body <- cpp_check(auth_token_body_cpp(bytes, bytes))
  expect_true(is.raw(body))
  expect_error(cpp_check(json_parse_cpp(bytes)), class = "ec5_error_parse")
  expect_identical(redact_url(as_bytes("http://x/?secret=caf\xe9")), "http://x/?secret=<redacted>")
})
