#' Get the entries of a form
#'
#' Fetches every entry of one form of a project as a typed, labelled tibble:
#' all pages, at the largest page size the server allows, paced within the
#' server's rate limits, ascending by upload time and without duplicates.
#' Each page is flattened in C++ as it arrives; the pages are never held in
#' memory at once.
#'
#' @section A project that changes while it is read:
#' Field teams keep uploading while you read. Each request after the first
#' starts at the newest upload time already received (not at a page number),
#' so an entry edited, deleted or added between two requests cannot push
#' another one out of sight: every entry that exists from the start to the
#' end of the fetch is returned once, an edited one with its newest values.
#' An entry deleted during the fetch may still be in the result when it was
#' read before it was deleted. Entries that share one upload second (bulk
#' uploads) are read again from that second, and a second holding more than
#' a page is read in overlapping windows; if it keeps changing under the
#' reader, the fetch ends with an error of class `ec5_error_incomplete`.
#'
#' Each answer also says how many entries the server holds from that point
#' on. When those counts and the rows received disagree, one more one-entry
#' request counts the server's entries; if the server holds entries the
#' result lacks, they are read once more, and if entries are still missing a
#' warning of class `ec5_warning_incomplete` says how many.
#'
#' Requests: one per page, as before, except that each page starts with the
#' entries of the second the previous page ended with (usually one or two),
#' so a form whose entry count is close to a multiple of `per_page` can take
#' one request more.
#'
#' @section Columns:
#' System columns come first: `ec5_uuid`, `ec5_parent_uuid` (child forms),
#' `created_at` and `uploaded_at` (POSIXct, UTC), `created_by` (private
#' projects: the uploader's e-mail) and `title`. Then one column per question,
#' in the order of the form, named by the export name of the mapping used.
#' Types follow the definition: integers, decimals, dates (Date when the
#' question's format has day, month and year), times (character), choice
#' questions as factors whose levels are the possible answers, checkbox and
#' search questions as list columns, locations as six columns (`lat_`,
#' `long_`, `accuracy_`, `UTM_Northing_`, `UTM_Easting_`, `UTM_Zone_`), and a
#' branch question as the number of its branch entries. Each question column
#' carries its question text as its `label` attribute (see [ec5_labels()]).
#' Values that cannot be converted become `NA` and are listed by
#' [ec5_problems()].
#'
#' @inheritParams ec5_project
#' @param form The form: its name, slug or ref. The default is the top form.
#' @param map_index The mapping that names the columns (see the `mappings`
#'   of [ec5_project()]). The default is the project's default mapping.
#' @param parent_uuid Only the child entries of this parent entry (for a
#'   child form).
#' @param uuid Only this entry.
#' @param title Only entries whose title contains this text.
#' @param since,until Only entries uploaded (or created, see `date_field`)
#'   in this window, inclusive. A `Date`, a `POSIXct`, or an ISO 8601 string.
#'   A `Date` as `until` includes that whole day.
#' @param date_field The time the window applies to: `"uploaded_at"` (upload
#'   or last edit) or `"created_at"` (creation on the device).
#' @param sort_by,sort_order The order of the rows: by `"uploaded_at"`,
#'   `"created_at"` or `"title"` (the server's natural order: by length,
#'   then text), `"asc"` or `"desc"`. A fetch of more than one page reads in
#'   ascending order of `date_field` (the only order that is safe while the
#'   project changes) and orders the rows afterwards; entries tied in the
#'   order asked for keep their upload order.
#' @param max_entries The most entries to return: the first ones in the
#'   order asked for.
#' @param per_page Entries per request, at most 1000 (the server's limit).
#'   Larger pages mean fewer requests against the rate limit.
#' @param created_by What to do with the uploaders' e-mail addresses of a
#'   private project: `"keep"` them, `"hash"` them (a stable pseudonym per
#'   address, so entries of one person can still be grouped) or `"drop"` the
#'   column.
#' @return A tibble (see Columns) with attributes `problems` (see
#'   [ec5_problems()]) and `provenance` (slug, form, filters, time of fetch,
#'   server total and package version).
#' @seealso [ec5_branch_entries()] for branches, [ec5_project_data()] for a
#'   whole project.
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE)
#' url <- ec5_demo_server()
#' ec5_entries("ec5-demo", base_url = url)
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_entries <- function(slug, form = NULL, map_index = NULL,
                        parent_uuid = NULL, uuid = NULL, title = NULL,
                        since = NULL, until = NULL,
                        date_field = c("uploaded_at", "created_at"),
                        sort_by = c("uploaded_at", "created_at", "title"),
                        sort_order = c("asc", "desc"),
                        max_entries = Inf, per_page = 1000L,
                        created_by = c("keep", "hash", "drop"),
                        auth = NULL, base_url = ec5_base_url()) {
  args <- entries_args(
    slug, map_index, uuid, title, since, until,
    rlang::arg_match(date_field), rlang::arg_match(sort_by),
    rlang::arg_match(sort_order), max_entries, per_page, base_url,
    rlang::arg_match(created_by)
  )
  check_uuid(parent_uuid, "parent_uuid")
  auth <- resolve_auth(auth, args$base_url)
  project <- project_get(slug, auth, args$base_url)
  cs <- ec5_column_spec(project, form = form, map_index = map_index)
  query <- args$query
  query$form_ref <- cs$form_ref
  if (!is.null(parent_uuid)) {
    if (is.na(cs$parent_form_ref)) {
      ec5_abort(
        c("{.arg parent_uuid} only applies to a child form.",
          "x" = "Form {.val {cs$form_name}} is the top form of {.val {slug}}."),
        class = "argument"
      )
    }
    query$parent_uuid <- parent_uuid
    query$parent_form_ref <- cs$parent_form_ref
  }
  fetch_entries(slug, query, cs, args, auth)
}

# Checks the arguments shared by every entries function and turns them into
# the query of API-NOTES.md §3.1. Nothing is sent before all of them pass.
entries_args <- function(slug, map_index, uuid, title, since, until,
                         date_field, sort_by, sort_order, max_entries,
                         per_page, base_url, created_by,
                         call = rlang::caller_env()) {
  check_slug(slug, call = call)
  base_url <- check_base_url(base_url, call = call)
  check_count(max_entries, "max_entries", min = 1, allow_inf = TRUE, call = call)
  check_count(per_page, "per_page", min = 1, max = 1000, call = call)
  if (!is.null(map_index)) check_count(map_index, "map_index", min = 0, call = call)
  check_uuid(uuid, "uuid", call = call)
  if (!is.null(title) && !rlang::is_string(title)) {
    ec5_abort("{.arg title} must be a single string.", class = "argument", call = call)
  }
  since <- as_filter_time(since, "since", end_of_day = FALSE, call = call)
  until <- as_filter_time(until, "until", end_of_day = TRUE, call = call)
  if (!is.null(since) && !is.null(until) && since > until) {
    ec5_abort(
      c("{.arg since} must not be after {.arg until}.",
        "x" = "{.arg since} is {format_time(since)}, {.arg until} is {format_time(until)}."),
      class = "argument", call = call
    )
  }
  query <- list(
    map_index = map_index,
    per_page = as.integer(min(per_page, max_entries)),
    sort_by = sort_by,
    sort_order = sort_order,
    title = title,
    uuid = uuid
  )
  # Both bounds together make the server widen the window to whole days
  # (API-NOTES.md §3.1), so `until` is then applied to the rows instead.
  if (!is.null(since) || !is.null(until)) {
    query$filter_by <- date_field
    if (!is.null(since)) {
      query$filter_from <- format_time(since)
    } else {
      query$filter_to <- format_time(until)
    }
  }
  list(
    query = query, base_url = base_url, max_entries = max_entries,
    since = since, until = until, date_field = date_field,
    sort_by = sort_by, sort_order = sort_order, created_by = created_by
  )
}

# One request when the whole answer fits in one page (a uuid, or at most
# one page of entries without an `until` to apply), in the order asked for;
# otherwise paging that notices a project changing under it (R/paging.R) and
# the order asked for applied to the rows.
fetch_entries <- function(slug, query, cs, args, auth,
                          call = rlang::caller_env()) {
  parser <- entries_parser(cs)
  pager <- new_pager(slug, query, cs, args, auth, parser, call)
  one_page <- isTRUE(args$one_page) || !is.null(query$uuid) ||
    (args$max_entries <= pager$per_page && is.null(args$until))
  if (one_page) {
    total <- fetch_one_page(pager, query)
  } else {
    fetched <- fetch_paged(pager, args$since)
    total <- fetched$total
  }
  pager$progress$done()
  table <- entries_table(
    parser_finish(parser), cs,
    provenance = entries_provenance(slug, cs, query, args, total)
  )
  if (!one_page) {
    table <- entries_order(table, args, resort = fetched$repaired)
  }
  table <- entries_window(table, args)
  personal_data(table, args$created_by)
}

# The query as asked for, page 1; its total.
fetch_one_page <- function(pager, query) {
  query$per_page <- pager$per_page
  query$page <- 1L
  fetch_page(pager$parser, pager$base_url, pager$path, query, pager$auth, pager$slug, pager$call)$total
}

# The rows arrive ascending by the date field (upload order within a
# second), each entry once; another order asked for is applied here, with
# `title` in the server's natural order (length, then text). A repair pass
# can leave rows of the first pass out of order, hence `resort`.
entries_order <- function(table, args, resort = FALSE) {
  if (safe_order(args) && !resort) {
    return(table)
  }
  desc <- args$sort_order == "desc"
  by <- if (resort && safe_order(args)) args$date_field else args$sort_by
  rows <- if (by == "title") {
    title <- table$title
    order(nchar(title, type = "bytes"), tolower(title), decreasing = c(desc, desc), method = "radix")
  } else {
    order(table[[by]], decreasing = desc, method = "radix")
  }
  restore_table_attributes(table[rows, ], table)
}

# E-mail addresses are personal data; reports that are shared often need
# them gone, or replaced by a pseudonym that still groups one person's rows.
personal_data <- function(table, created_by) {
  if (!"created_by" %in% names(table) || created_by == "keep") {
    return(table)
  }
  column <- table$created_by
  table$created_by <- if (created_by == "drop") {
    NULL
  } else {
    # Hashed once per address (a project has few uploaders), then matched.
    people <- unique(column[!is.na(column)])
    pseudonyms <- vapply(people, function(x) substr(rlang::hash(x), 1, 12), "")
    structure(unname(pseudonyms[match(column, people)]), label = attr(column, "label", exact = TRUE))
  }
  table
}

# One page, flattened into the parser; its meta (see parser_feed()), with
# `rows`: the columns `fields` of the page's rows (keys and dates for paging,
# R/paging.R), and `served`: the server's clock when it answered
# (response_date()). A server that caps per_page lower answers 400 ec5_335:
# the retry policy (R/retry.R) then asks again with a smaller page size,
# within the page's tries, and the size is remembered per server for the
# pages after (per_page_limit()).
fetch_page <- function(parser, base_url, path, query, auth, slug, call, fields = character()) {
  query$per_page <- min(query$per_page, per_page_limit(base_url))
  served <- NA_real_
  ec5_api_get(
    base_url, path, query, auth = auth,
    pace = list(slug = slug, class = "entries"),
    # Sees every answer that stands, before its body is read.
    check = function(resp) served <<- response_date(resp),
    parse = function(body) {
      meta <- parser_feed(parser, body, call = call)
      meta$rows <- parser_last_rows(parser, fields)
      meta$served <- served
      meta
    },
    page_size = function(per_page) {
      smaller <- per_page_fallback(per_page)
      if (!is.na(smaller)) per_page_limits[[base_url]] <- smaller
      smaller
    },
    what = "entries request", call = call
  )
}

per_page_limits <- new.env(parent = emptyenv())

per_page_limit <- function(base_url) {
  per_page_limits[[base_url]] %||% 1000L
}

per_page_fallback <- function(per_page) {
  steps <- c(500L, 250L, 100L, 50L)
  steps[steps < per_page][1]
}

entries_provenance <- function(slug, cs, query, args, total) {
  provenance(
    slug, cs, "api",
    filters = query[intersect(
      names(query),
      c("uuid", "parent_uuid", "title", "filter_by", "filter_from", "filter_to", "sort_by", "sort_order")
    )],
    until = args$until,
    base_url = args$base_url,
    fetched_at = Sys.time(),
    total = total
  )
}

# Applies `until` to the rows (keyset paging never sends `filter_to`, see
# R/paging.R) and cuts to max_entries. Vectorised subsetting, not a loop
# over rows.
entries_window <- function(table, args) {
  keep <- rep(TRUE, nrow(table))
  if (!is.null(args$until)) {
    times <- table[[args$date_field]]
    keep <- !is.na(times) & times <= args$until
  }
  if (sum(keep) > args$max_entries) {
    keep[keep][-seq_len(args$max_entries)] <- FALSE
  }
  if (all(keep)) {
    return(table)
  }
  restore_table_attributes(table[keep, ], table)
}

restore_table_attributes <- function(new, old) {
  for (a in c("problems", "provenance")) attr(new, a) <- attr(old, a)
  new
}

as_filter_time <- function(x, arg, end_of_day, call) {
  if (is.null(x)) {
    return(NULL)
  }
  # A date without a time means the whole day, whichever way it is written.
  if (rlang::is_string(x) && grepl("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", x)) {
    x <- as.Date(x, optional = TRUE)
  }
  time <- if (inherits(x, "Date")) {
    as.POSIXct(format(x), tz = "UTC") + if (end_of_day) 86399 else 0
  } else if (inherits(x, "POSIXt")) {
    as.POSIXct(x, tz = "UTC")
  } else if (rlang::is_string(x)) {
    parse_iso_time(x)
  }
  if (length(time) != 1L || is.na(time)) {
    ec5_abort(
      c("{.arg {arg}} must be a date or time.",
        "x" = "You supplied {.val {format(x)}}.",
        "i" = "Use a {.cls Date}, a {.cls POSIXct} or an ISO 8601 string such as {.val 2024-05-01} or {.val 2024-05-01T12:00:00Z}."),
      class = "argument", call = call
    )
  }
  time
}

parse_iso_time <- function(x) {
  x <- sub("Z$", "", x)
  formats <- c("%Y-%m-%dT%H:%M:%OS", "%Y-%m-%d %H:%M:%OS", "%Y-%m-%d")
  for (f in formats) {
    time <- as.POSIXct(strptime(x, f, tz = "UTC"))
    if (!is.na(time)) return(time)
  }
  as.POSIXct(NA)
}

# API-NOTES.md §3.1: "YYYY-MM-DD HH:MM:SS" in UTC is what the server's MySQL
# compares reliably.
format_time <- function(x) format(x, "%Y-%m-%d %H:%M:%S", tz = "UTC")

check_count <- function(x, arg, min = 0, max = Inf, allow_inf = FALSE,
                        call = rlang::caller_env()) {
  ok <- is.numeric(x) && length(x) == 1L && !is.na(x) &&
    (x == trunc(x) || (allow_inf && is.infinite(x))) && x >= min && x <= max
  if (!ok) {
    range <- if (is.finite(max)) "between {min} and {max}" else "of at least {min}"
    ec5_abort(
      c(paste0("{.arg {arg}} must be a whole number ", range, "."),
        "x" = "You supplied {.val {format(x)}}."),
      class = "argument", call = call
    )
  }
  invisible(x)
}

check_uuid <- function(x, arg, call = rlang::caller_env()) {
  if (is.null(x)) {
    return(invisible())
  }
  if (!rlang::is_string(x) || nchar(x) < 36L) {
    ec5_abort(
      c("{.arg {arg}} must be an entry UUID (36 characters).",
        "x" = "You supplied {.val {format(x)}}."),
      class = "argument", call = call
    )
  }
  invisible(x)
}

# A cli progress bar over pages, shown once a fetch needs more than one page.
# The same progress is published in `fetch_status` so that a paced wait
# between pages (wait_reporter() in R/http.R) can show it too.
entries_progress <- function(slug, cs) {
  env <- new.env()
  env$bar <- NULL
  started <- Sys.time()
  label <- paste0(slug, " / ", cs$branch_name %|NA|% cs$form_name)
  list(
    update = function(page, last_page, seen, total) {
      fetch_status$text <- fetch_status_text(label, page, last_page, seen, total, started)
      if (!ec5_is_verbose() || last_page <= 1L) {
        return(invisible())
      }
      if (is.null(env$bar)) {
        env$bar <- cli::cli_progress_bar(
          format = paste0(
            "{cli::pb_spin} ", label, " {cli::pb_current}/{cli::pb_total} pages, ",
            "{env$seen} of {env$total} entries {cli::pb_bar} {cli::pb_eta}"
          ),
          total = last_page, .envir = env, clear = TRUE
        )
      }
      env$seen <- seen
      env$total <- total
      cli::cli_progress_update(set = page, total = last_page, id = env$bar, .envir = env)
    },
    done = function() {
      fetch_status$text <- NULL
      if (!is.null(env$bar)) cli::cli_progress_done(id = env$bar, .envir = env)
    }
  )
}

fetch_status <- new.env(parent = emptyenv())

# "ec5-demo / Form: page 3 of 20, 3,000 of 20,000 entries, about 3m left",
# the time left extrapolated from the pace so far (waits included).
fetch_status_text <- function(label, page, last_page, seen, total, started) {
  elapsed <- as.numeric(difftime(Sys.time(), started, units = "secs"))
  left <- elapsed / page * (last_page - page)
  sprintf(
    "%s: page %d of %d, %s of %s entries%s",
    label, page, last_page, format(seen, big.mark = ","), format(total, big.mark = ","),
    if (page < last_page) paste0(", about ", format_duration(left), " left") else ""
  )
}

format_duration <- function(seconds) {
  if (seconds < 90) {
    return(paste0(ceiling(seconds), "s"))
  }
  if (seconds < 5400) {
    return(paste0(ceiling(seconds / 60), "m"))
  }
  paste0(round(seconds / 3600, 1), "h")
}

`%|NA|%` <- function(x, y) if (is.null(x) || is.na(x)) y else x
