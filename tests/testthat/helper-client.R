# The local server with rate limits scaled down to one-second windows, and
# the client's limits set to match, so that tests exercise pacing without
# waiting minutes. Progress bars and messages are silenced.
local_client_server <- function(..., .local_envir = parent.frame()) {
  limits <- list(entries = c(20, 1), project = c(20, 1), media = c(30, 1))
  srv <- local_ec5_server(
    limits = do.call(component$srv_limits, c(list("code"), limits)),
    ...,
    .local_envir = .local_envir
  )
  withr::local_options(
    epicollect5.rate_limits = limits,
    epicollect5.verbose = FALSE,
    .local_envir = .local_envir
  )
  srv
}

# The ec5_auth of the client app the local server knows for `slug`.
server_auth <- function(srv, slug) {
  i <- match(slug, srv$clients$slug)
  ec5_auth(srv$clients$client_id[i], srv$clients$client_secret[i], base_url = srv$url)
}

# A raw page from the server (parsed with jsonlite), to compare the client's
# tables with what the server sent.
server_page <- function(srv, slug, query = list(), auth = NULL) {
  resp <- epicollect5:::ec5_request(
    paste0(srv$url, "/api/export/entries/", slug),
    query = query,
    token = if (!is.null(auth)) epicollect5:::ec5_token(auth)
  )
  jsonlite::fromJSON(rawToChar(resp$body), simplifyVector = FALSE)
}

server_total <- function(srv, slug, query = list(), auth = NULL) {
  server_page(srv, slug, c(query, list(per_page = 1)), auth)$meta$total
}

# Requests of the log whose path starts with `prefix`.
count_requests <- function(log, prefix) {
  sum(startsWith(log$path, prefix))
}

# An independent, slow, plain-R reading of raw export entries (jsonlite
# lists) under the table contract, to check the C++ flattener's output value
# by value. `spec` is the column spec of the table.
expected_column <- function(entries, key, type, format, levels) {
  values <- lapply(entries, function(e) e[[key]])
  # The server maps choices to their stored text, entities and all; the
  # client decodes them as it decodes the definition's labels.
  if (type %in% c("radio", "dropdown", "checkbox", "searchsingle", "searchmultiple")) {
    values <- lapply(values, unescape_html)
  }
  blank <- vapply(values, function(v) is.null(v) || identical(v, ""), logical(1))
  scalar <- function(f, na) {
    out <- rep(na, length(values))
    out[!blank] <- vapply(values[!blank], function(v) f(v), na)
    out
  }
  date_formats <- c("dd/MM/YYYY" = "%d/%m/%Y", "MM/dd/YYYY" = "%m/%d/%Y", "YYYY/MM/dd" = "%Y/%m/%d")
  switch(type,
    integer = , decimal = , branch = scalar(function(v) as.numeric(v), NA_real_),
    date = if (!is.na(format) && format %in% names(date_formats)) {
      as.Date(scalar(as.character, NA_character_), format = date_formats[[format]])
    } else {
      scalar(as.character, NA_character_)
    },
    radio = , dropdown = factor(scalar(as.character, NA_character_), levels = levels),
    # "" becomes NA everywhere, also inside the answers of a multi-answer question.
    checkbox = , searchsingle = , searchmultiple = lapply(values, function(v) {
      v <- as.character(unlist(v))
      v[v == ""] <- NA_character_
      v
    }),
    scalar(function(v) format(v, scientific = FALSE), NA_character_)
  )
}

# The entities the local server's definitions hold, decoded (`&amp;` last).
unescape_html <- function(x) {
  if (!is.character(x) && !is.list(x)) {
    return(x)
  }
  entities <- c("&lt;" = "<", "&gt;" = ">", "&quot;" = "\"", "&amp;" = "&")
  decode <- function(v) {
    for (e in names(entities)) v <- gsub(e, entities[[e]], v, fixed = TRUE)
    v
  }
  if (is.list(x)) lapply(x, decode) else decode(x)
}

expected_location <- function(entries, key, part) {
  vapply(entries, function(e) {
    v <- e[[key]][[part]]
    if (is.null(v) || identical(v, "")) NA_real_ else as.numeric(v)
  }, numeric(1))
}

# Checks every value of `table` against the raw `entries`, matched by key.
expect_values_match <- function(table, entries, spec) {
  key <- if ("ec5_branch_uuid" %in% names(table)) "ec5_branch_uuid" else "ec5_uuid"
  raw_keys <- vapply(entries, function(e) e[[key]], "")
  entries <- entries[match(table[[key]], raw_keys)]
  testthat::expect_false(anyNA(match(table[[key]], raw_keys)))
  created <- vapply(entries, function(e) e$created_at, "")
  testthat::expect_equal(
    as.numeric(table$created_at),
    as.numeric(as.POSIXct(strptime(sub("Z$", "", created), "%Y-%m-%dT%H:%M:%OS", tz = "UTC"))),
    tolerance = 1e-3
  )
  for (i in seq_len(nrow(spec))) {
    name <- spec$name[i]
    if (spec$type[i] == "location") {
      for (part in c("latitude", "longitude", "accuracy")) {
        col <- paste0(c(latitude = "lat_", longitude = "long_", accuracy = "accuracy_")[[part]], name)
        testthat::expect_equal(as.numeric(table[[col]]), expected_location(entries, name, part), label = col)
      }
      next
    }
    expected <- expected_column(entries, name, spec$type[i], spec$format[i], spec$levels[[i]])
    actual <- table[[name]]
    if (is.numeric(actual)) actual <- as.numeric(actual)
    attributes(actual) <- attributes(actual)[intersect(names(attributes(actual)), c("levels", "class"))]
    testthat::expect_equal(actual, expected, label = paste0("column ", name))
  }
}

# Every raw entry of a form or branch, one page of up to 1000.
server_entries <- function(srv, slug, query = list(), auth = NULL) {
  server_page(srv, slug, c(query, list(per_page = 1000)), auth)$data$entries
}

# The issue's live scenario, scaled: `edited` entries edited (new titles)
# once `edit_after` entries requests of the project were answered, and
# `deleted` entries deleted plus `added` entries added once `change_after`
# were. `add` is the body of one added entry (form, branch, owner).
schedule_live <- function(srv, slug, edited, deleted, added = 5, edit_after = 1,
                          change_after = 3, add = list()) {
  edits <- lapply(seq_along(edited), function(i) {
    list(action = "edit", uuid = edited[i], title = paste("Edited", i))
  })
  srv$schedule(slug, edit_after, edits)
  deletes <- lapply(deleted, function(uuid) list(action = "delete", uuid = uuid))
  adds <- rep(list(c(list(action = "add"), add)), added)
  srv$schedule(slug, change_after, c(deletes, adds))
}

# Every entry that existed from the start to the end of a fetch is in `x`
# once, edited ones with their newest titles; nothing else is.
expect_lasting <- function(x, before, after, key = "ec5_uuid") {
  lasting <- intersect(before[[key]], after[[key]])
  testthat::expect_true(all(lasting %in% x[[key]]), label = "every lasting entry is returned")
  testthat::expect_equal(anyDuplicated(x[[key]]), 0)
  testthat::expect_true(all(x[[key]] %in% c(before[[key]], after[[key]])))
  now <- after$title[match(x[[key]], after[[key]])]
  testthat::expect_equal(x$title[!is.na(now)], now[!is.na(now)])
}

# The stored entries of a form or branch now (the top form by default), as
# a data frame of key, uploaded_at and title in the server's upload order.
server_rows <- function(srv, slug, form_ref = NULL, branch_ref = NULL) {
  query <- Filter(Negate(is.null), list(form_ref = form_ref, branch_ref = branch_ref))
  raw <- do.call(srv$raw_entries, c(list(slug), query))
  type <- if (is.null(branch_ref)) "entry" else "branch_entry"
  body <- lapply(raw, `[[`, type)
  rows <- data.frame(
    key = vapply(body, `[[`, "", "entry_uuid"),
    uploaded_at = vapply(body, `[[`, "", "uploaded_at"),
    title = vapply(body, `[[`, "", "title")
  )
  names(rows)[1] <- if (is.null(branch_ref)) "ec5_uuid" else "ec5_branch_uuid"
  rows <- rows[order(rows$uploaded_at, method = "radix"), ]
  rownames(rows) <- NULL
  rows
}

# The numbers (1 for the first) of the entries requests in `log` whose query
# matches `pattern` (entries_queries(): helper-faults.R).
entries_requests <- function(log, pattern) {
  grep(pattern, entries_queries(log))
}
