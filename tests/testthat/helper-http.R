# Small local servers for the HTTP layer, independent of the full Epicollect5
# fake server: a webfakes app for statuses, retries, redirects, rate limits
# and the token endpoint, and a raw socket server for broken transfers.

http_test_credentials <- list(
  id = "1234",
  secret = "S3CRET-known-client-secret-for-tests-0001"
)

# The webfakes app. Every request is counted per path (GET /__hits), so tests
# can tell a retry storm or a wasted request.
http_test_app <- function() {
  app <- webfakes::new_app()
  app$locals$hits <- list()
  app$locals$tokens <- 0L
  app$locals$valid_token <- ""
  app$locals$windows <- list()
  app$use(function(req, res) {
    if (!startsWith(req$path, "/__")) {
      n <- res$app$locals$hits[[req$path]]
      res$app$locals$hits[[req$path]] <- if (is.null(n)) 1L else n + 1L
    }
    "next"
  })
  ec5_error <- function(res, status, code, title = "Error.") {
    res$set_status(status)$send_json(
      list(errors = list(list(code = code, title = title, source = "test"))),
      auto_unbox = TRUE
    )
  }
  hits_of <- function(res, path) {
    n <- res$app$locals$hits[[path]]
    if (is.null(n)) 0L else n
  }

  app$get("/__hits", function(req, res) {
    res$send_json(res$app$locals$hits, auto_unbox = TRUE)
  })
  app$get("/__tokens", function(req, res) {
    res$send_json(list(issued = res$app$locals$tokens), auto_unbox = TRUE)
  })
  app$get("/__reset", function(req, res) {
    res$app$locals$hits <- list()
    res$app$locals$tokens <- 0L
    res$app$locals$valid_token <- ""
    res$app$locals$windows <- list()
    res$send_json(list(ok = TRUE), auto_unbox = TRUE)
  })

  echo <- function(req, res) {
    h <- function(name) {
      v <- req$get_header(name)
      if (is.null(v)) "" else v
    }
    res$send_json(list(
      method = req$method,
      path = req$path,
      query = req$query_string,
      authorization = h("Authorization"),
      user_agent = h("User-Agent"),
      accept = h("Accept"),
      accept_encoding = h("Accept-Encoding"),
      content_type = h("Content-Type"),
      expect = h("Expect"),
      body = if (length(req$.body)) rawToChar(req$.body) else ""
    ), auto_unbox = TRUE)
  }
  app$get("/echo", echo)
  app$post("/echo", echo)
  app$get("/trailing", echo)

  # An ec5 error: /status/404?code=ec5_11
  app$get("/status/:status", function(req, res) {
    code <- req$query$code
    ec5_error(res, as.integer(req$params$status), if (is.null(code)) "ec5_999" else code)
  })
  app$get("/html/:status", function(req, res) {
    res$set_status(as.integer(req$params$status))$set_type("text/html")$send(
      "<html><body>Bad gateway</body></html>"
    )
  })
  app$get("/text", function(req, res) res$set_type("application/json")$send("not json"))

  # Fails with 503 the first :n times, then answers 200.
  app$get("/flaky/:n/:id", function(req, res) {
    if (hits_of(res, req$path) <= as.integer(req$params$n)) {
      return(ec5_error(res, 503, "ec5_503"))
    }
    res$send_json(list(ok = TRUE), auto_unbox = TRUE)
  })
  # A 429 with Retry-After :secs ("none": no header) the first time.
  app$get("/429/:secs/:id", function(req, res) {
    if (hits_of(res, req$path) <= 1L) {
      if (req$params$secs != "none") res$set_header("Retry-After", req$params$secs)
      res$set_header("X-RateLimit-Limit", "5")
      res$set_header("X-RateLimit-Remaining", "0")
      return(ec5_error(res, 429, "ec5_255", "Too many requests. Try again later."))
    }
    res$send_json(list(ok = TRUE), auto_unbox = TRUE)
  })
  app$get("/slow/:secs", function(req, res) {
    if (is.null(res$locals$waited)) {
      res$locals$waited <- TRUE
      return(res$delay(as.numeric(req$params$secs)))
    }
    res$send_json(list(ok = TRUE), auto_unbox = TRUE)
  })
  app$get("/deflate", function(req, res) {
    body <- memCompress(charToRaw(strrep("{\"a\":1}", 1)), type = "gzip")
    res$set_header("Content-Encoding", "deflate")$set_type("application/json")$send(body)
  })
  app$get("/bytes/:n", function(req, res) {
    n <- as.integer(req$params$n)
    res$set_type("application/octet-stream")$send(as.raw(seq_len(n) %% 256L))
  })

  # Redirects: to the same host, to another host name for the same server,
  # and forever.
  app$get("/redirect/same", function(req, res) res$redirect("/echo", 302))
  app$get("/redirect/cross", function(req, res) {
    host <- sub("127.0.0.1", "localhost", req$get_header("Host"), fixed = TRUE)
    res$redirect(paste0("http://", host, "/echo"), 302)
  })
  app$get("/redirect/loop", function(req, res) res$redirect("/redirect/loop", 302))

  # A fixed-window rate limit like Laravel's: the window opens at the first
  # hit and lasts :seconds; at most :requests hits fit in it.
  app$get("/limited/:requests/:seconds", function(req, res) {
    limit <- as.integer(req$params$requests)
    seconds <- as.numeric(req$params$seconds)
    now <- as.numeric(Sys.time())
    w <- res$app$locals$windows[[req$path]]
    if (is.null(w) || now >= w$end) w <- list(end = now + seconds, count = 0L)
    res$set_header("X-RateLimit-Limit", as.character(limit))
    if (w$count >= limit) {
      res$app$locals$windows[[req$path]] <- w
      res$set_header("Retry-After", as.character(ceiling(w$end - now)))
      res$set_header("X-RateLimit-Remaining", "0")
      res$app$locals$hits[["429"]] <- hits_of(res, "429") + 1L
      return(ec5_error(res, 429, "ec5_255"))
    }
    w$count <- w$count + 1L
    res$app$locals$windows[[req$path]] <- w
    res$set_header("X-RateLimit-Remaining", as.character(limit - w$count))
    res$send_json(list(ok = TRUE), auto_unbox = TRUE)
  })

  # The token endpoint (API-NOTES.md §8). Issuing a token revokes the others.
  # Client id "slow" answers after 1 s; "429" and "254" fail.
  app$post("/api/oauth/token", function(req, res) {
    body <- tryCatch(jsonlite::fromJSON(rawToChar(req$.body)), error = function(e) list())
    id <- as.character(body$client_id)
    if (identical(id, "429")) {
      res$set_header("Retry-After", "3000")
      return(ec5_error(res, 429, "ec5_255", "Too many requests. Try again later."))
    }
    if (identical(id, "254")) return(ec5_error(res, 400, "ec5_254", "Could not generate access token."))
    if (!identical(body$grant_type, "client_credentials")) {
      return(ec5_error(res, 400, "ec5_261", "Unsupported grant type."))
    }
    if (!identical(body$client_secret, "S3CRET-known-client-secret-for-tests-0001")) {
      return(ec5_error(res, 400, "ec5_253", "Invalid client credentials."))
    }
    if (identical(id, "slow") && is.null(res$locals$waited)) {
      res$locals$waited <- TRUE
      return(res$delay(1))
    }
    res$app$locals$tokens <- res$app$locals$tokens + 1L
    token <- paste0("TOKEN-", res$app$locals$tokens, "-eyJhbGciOiJSUzI1NiJ9-LEAKCHECK")
    res$app$locals$valid_token <- token
    expires <- if (identical(id, "short")) 2L else 7200L
    res$send_json(
      list(token_type = "Bearer", expires_in = expires, access_token = token),
      auto_unbox = TRUE
    )
  })
  # A private resource: 404 ec5_256 unless the latest token is presented.
  app$get("/private", function(req, res) {
    auth <- req$get_header("Authorization")
    if (!identical(auth, paste("Bearer", res$app$locals$valid_token))) {
      return(ec5_error(res, 404, "ec5_256", "Access denied."))
    }
    res$send_json(list(ok = TRUE), auto_unbox = TRUE)
  })
  app
}

# Starts the app in a subprocess for the calling test file (or test).
local_http_app <- function(.local_envir = parent.frame()) {
  skip_if_not_installed("webfakes")
  webfakes::local_app_process(
    http_test_app(),
    opts = webfakes::server_opts(num_threads = 4),
    .local_envir = .local_envir
  )
}

app_hits <- function(web, path) {
  hits <- jsonlite::fromJSON(web$url("/__hits"))
  n <- hits[[path]]
  if (is.null(n)) 0L else n
}

app_reset <- function(web) invisible(jsonlite::fromJSON(web$url("/__reset")))

# Fast, short settings for tests: retries without real back-off.
local_fast_http <- function(..., .local_envir = parent.frame()) {
  withr::local_options(
    list(
      epicollect5.backoff = c(0.01, 0.05),
      epicollect5.connect_timeout = 2,
      epicollect5.max_tries = 3,
      epicollect5.verbose = FALSE,
      ...
    ),
    .local_envir = .local_envir
  )
}

# A raw socket server for what webfakes cannot do: responses that break
# mid-body. Paths: /truncated (Content-Length 1000, 10 bytes, close),
# /truncated-once (like /truncated on the first connection, then a full
# body), /stall (headers, then silence for 6 s), /empty (closes without a
# response), /nul-header (a header holding a NUL byte). Returns list(url,
# connections = function()).
local_raw_server <- function(.local_envir = parent.frame()) {
  skip_if_not_installed("callr")
  dir <- withr::local_tempdir(.local_envir = .local_envir)
  port_file <- file.path(dir, "port")
  count_file <- file.path(dir, "count")
  proc <- callr::r_bg(function(port_file, count_file) {
    server <- NULL
    while (is.null(server)) {
      port <- sample(20000:60000, 1)
      server <- tryCatch(serverSocket(port), error = function(e) NULL)
    }
    writeLines(as.character(port), port_file)
    n <- 0L
    seen <- list()
    repeat {
      con <- socketAccept(server, blocking = TRUE, open = "r+b")
      n <- n + 1L
      writeLines(as.character(n), count_file)
      request <- readLines(con, n = 1)
      repeat {
        line <- readLines(con, n = 1)
        if (!length(line) || !nzchar(line)) break
      }
      path <- strsplit(request, " ")[[1]][[2]]
      seen[[path]] <- if (is.null(seen[[path]])) 1L else seen[[path]] + 1L
      head <- "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
      if (path == "/truncated" || (path == "/truncated-once" && seen[[path]] == 1L)) {
        writeBin(charToRaw(paste0(sprintf(head, 1000L), "{\"a\": 1234")), con)
      } else if (path == "/truncated-once") {
        writeBin(charToRaw(paste0(sprintf(head, 8L), "{\"a\":12}")), con)
      } else if (path == "/nul-header") {
        writeBin(c(charToRaw("HTTP/1.1 200 OK\r\nX-Odd: a"), as.raw(0),
                   charToRaw(paste0("b\r\n", substring(sprintf(head, 2L), 18), "{}"))), con)
      } else if (path == "/stall") {
        writeBin(charToRaw(sprintf(head, 1000L)), con)
        flush(con)
        Sys.sleep(6)
      }
      flush(con)
      close(con)
    }
  }, args = list(port_file = port_file, count_file = count_file))
  withr::defer(proc$kill(), envir = .local_envir)
  deadline <- Sys.time() + 10
  while (!file.exists(port_file) && Sys.time() < deadline) Sys.sleep(0.05)
  Sys.sleep(0.1)
  port <- readLines(port_file)
  list(
    url = function(path) sprintf("http://127.0.0.1:%s%s", port, path),
    connections = function() {
      if (file.exists(count_file)) as.integer(readLines(count_file)) else 0L
    }
  )
}

# The body of a response as parsed JSON.
resp_json <- function(resp) jsonlite::fromJSON(rawToChar(resp$body))

# Every line a piece of code prints, messages and errors included.
capture_everything <- function(code) {
  out <- utils::capture.output(
    result <- tryCatch(
      withCallingHandlers(code, message = function(m) {
        cat(conditionMessage(m), "\n")
        invokeRestart("muffleMessage")
      }),
      error = function(e) e
    ),
    type = "output"
  )
  err <- if (inherits(result, "error")) {
    c(conditionMessage(result), format(result), unlist(lapply(unclass(result), format)))
  }
  paste(c(out, err), collapse = "\n")
}
