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
#' projects: the uploader's e-mail; `NA` where the server sends its
#' placeholder `"n/a"` for an unknown uploader) and `title`. Then one column
#' per question, in the order of the form, named by the export name of the
#' mapping used.
#'
#' @section Column types:
#' Types come from the project definition alone, never from the values
#' fetched, so a table of no rows (an empty form, a window with no entries)
#' has the same column types as a full one:
#' * an integer question is an R integer when its `min` and `max` both bound
#'   it within 32 bits, and a double otherwise (no `max`, say; the server
#'   stores up to 64 bits), exact up to 2^53 and marked with attribute
#'   `ec5_type = "integer"` so that [ec5_write_csv()] writes it as digits. A
#'   value beyond 32 bits in a question bounded within them (the bounds
#'   changed after it was uploaded) is `NA` and a problem;
#' * decimals are doubles;
#' * a date is a `Date` when the question's format has day, month and year
#'   (attribute `ec5_format` holds the format), else character, as are
#'   times;
#' * radio and dropdown questions are factors whose levels are the possible
#'   answers; checkbox and search questions are list columns of character
#'   vectors;
#' * a location is six columns (`lat_`, `long_`, `accuracy_`,
#'   `UTM_Northing_`, `UTM_Easting_` doubles and `UTM_Zone_` character);
#' * a branch question is the number of its branch entries (integer);
#' * every other question is character.
#'
#' Character columns make their strings when they are first used, as
#' `vroom` does (ALTREP): printing makes only the rows it shows, and the
#' first whole read of a column (`x == "a"`, dplyr, a database write) makes
#' all of it once. They are plain character vectors in every other way, and
#' `saveRDS()` writes them as such.
#'
#' Each question column carries its question text as its `label` attribute
#' (see [ec5_labels()]). The server keeps HTML entities in question texts and
#' possible answers (`R&amp;D`); labels, levels and choice answers are
#' decoded (`R&D`), free-text answers are kept as typed (see
#' [ec5_project_from_json()]). Values that cannot be converted become `NA`
#' and are listed by [ec5_problems()].
#'
#' @section Column names:
#' With `col_names = "export"` (the default) columns have the names of the
#' website's CSV export, so scripts written for those files keep working:
#' `1_Name`, `20_Type_of_universit`, `lat_14_where`. With `col_names =
#' "clean"` they are syntactic names that need no backticks:
#' * system columns keep their names (`ec5_uuid`, `created_at`, `title`);
#' * a question column loses its number prefix and becomes lower snake case,
#'   ASCII letters, digits and `_` only: `1_Name` is `name`,
#'   `20_Type_of_universit` is `type_of_universit`; a name that would start
#'   with a digit gets an `x` in front (`3_2nd_visit` is `x2nd_visit`), a
#'   reserved word an `_` after it;
#' * a location's six columns are the question's clean name followed by the
#'   part: `where_lat`, `where_long`, `where_accuracy`, `where_utm_northing`,
#'   `where_utm_easting`, `where_utm_zone`;
#' * a name already taken, by an earlier column, a system column or a
#'   location's part, gets the suffix `_2` (then `_3`, ...): two questions
#'   `15_Heart_rate_bpm_me` and `19_Heart_rate_bpm_me` become
#'   `heart_rate_bpm_me` and `heart_rate_bpm_me_2`.
#'
#' Labels hold the question text under either naming, and a clean column
#' keeps its export name in its attribute `ec5_name`, so that
#' [ec5_write_csv()], [ec5_as_sf()], [ec5_media_download()] and the report
#' functions take tables of either naming. Set the naming for a session with
#' `options(epicollect5.col_names = "clean")`.
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
#' @param col_names The column names: `"export"`, those of the website's CSV
#'   export (`1_Name`, `lat_14_where`), or `"clean"`, syntactic lower snake
#'   case names without the number prefix (`name`, `where_lat`); see Column
#'   names. The default is the option `epicollect5.col_names`, else
#'   `"export"`.
#' @param tz The time zone date-times are shown in (their `tzone`
#'   attribute; the instants do not change), `"UTC"` by default; see
#'   [OlsonNames()].
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
                        col_names = getOption("epicollect5.col_names", "export"),
                        tz = "UTC",
                        auth = NULL, base_url = ec5_base_url()) {
  col_names <- check_col_names(col_names)
  check_tz(tz)
  args <- entries_args(
    slug, map_index, uuid, title, since, until, date_field, sort_by,
    sort_order, max_entries, per_page, base_url, created_by
  )
  slug <- args$slug
  check_form(form)
  check_uuid(parent_uuid)
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
  in_tz(name_columns(fetch_entries(slug, query, cs, args, auth), col_names), tz)
}

# The choices of the entries functions' arguments, as in their formals.
entries_choices <- list(
  date_field = c("uploaded_at", "created_at"),
  sort_by = c("uploaded_at", "created_at", "title"),
  sort_order = c("asc", "desc"),
  created_by = c("keep", "hash", "drop")
)

# Checks the arguments shared by every entries function and turns them into
# the query of API-NOTES.md §3.1. Nothing is sent before all of them pass.
entries_args <- function(slug, map_index, uuid, title, since, until,
                         date_field, sort_by, sort_order, max_entries,
                         per_page, base_url, created_by,
                         call = rlang::caller_env()) {
  base_url <- check_base_url(base_url, call = call)
  slug <- check_slug(slug, base_url, call = call)
  date_field <- check_choice(date_field, values = entries_choices$date_field, call = call)
  sort_by <- check_choice(sort_by, values = entries_choices$sort_by, call = call)
  sort_order <- check_choice(sort_order, values = entries_choices$sort_order, call = call)
  created_by <- check_choice(created_by, values = entries_choices$created_by, call = call)
  check_count(max_entries, min = 1, allow_inf = TRUE, call = call)
  check_count(per_page, min = 1, max = 1000, call = call)
  check_count(map_index, min = 0, allow_null = TRUE, call = call)
  check_uuid(uuid, call = call)
  check_string(title, allow_null = TRUE, allow_empty = TRUE, must = "a single string, or {.code NULL}", call = call)
  since <- check_time(since, end_of_day = FALSE, call = call)
  until <- check_time(until, end_of_day = TRUE, call = call)
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
    slug = slug, query = query, base_url = base_url, max_entries = max_entries,
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
  on.exit(pager$progress$done())
  one_page <- isTRUE(args$one_page) || !is.null(query$uuid) ||
    (args$max_entries <= pager$per_page && is.null(args$until))
  fetched <- if (one_page) {
    list(total = fetch_one_page(pager, query), gone = character())
  } else {
    fetch_paged(pager, args$since)
  }
  table <- entries_table(
    parser_finish(parser), cs,
    provenance = entries_provenance(slug, cs, query, args, fetched$total)
  )
  if (!one_page) {
    table <- entries_order(table, args, resort = fetched$repaired)
  }
  table <- entries_window(table, args, fetched$gone)
  personal_data(table, args$created_by)
}

# The query as asked for, page 1; its total.
fetch_one_page <- function(pager, query) {
  query$per_page <- pager$per_page
  query$page <- 1L
  meta <- fetch_page(pager$parser, pager$base_url, pager$path, query, pager$auth, pager$slug, pager$call)
  pager$progress$update(1L, 1L, meta$n, meta$total)
  meta$total
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
  table_rows(table, rows)
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

# Leaves out the entries the fetch found deleted (`gone`, their keys; see
# R/paging.R), applies `until` to the rows (keyset paging never sends
# `filter_to`) and cuts to max_entries. Vectorised subsetting, not a loop
# over rows.
entries_window <- function(table, args, gone) {
  keep <- rep(TRUE, nrow(table))
  if (length(gone)) keep <- !table[[entry_key(names(table))]] %in% gone
  if (!is.null(args$until)) {
    times <- table[[args$date_field]]
    keep <- keep & !is.na(times) & times <= args$until
  }
  if (sum(keep) > args$max_entries) {
    keep[keep][-seq_len(args$max_entries)] <- FALSE
  }
  if (all(keep)) {
    return(table)
  }
  table_rows(table, which(keep))
}

restore_table_attributes <- function(new, old) {
  for (a in c("problems", "provenance")) attr(new, a) <- attr(old, a)
  new
}

# The rows `rows` (indices, in that order) of a table of entries, with its
# provenance, and its problems renumbered to the rows they now sit in.
table_rows <- function(table, rows) {
  new <- restore_table_attributes(table[rows, ], table)
  attr(new, "problems") <- problems_rows(attr(table, "problems", exact = TRUE), rows)
  new
}

# API-NOTES.md §3.1: "YYYY-MM-DD HH:MM:SS" in UTC is what the server's MySQL
# compares reliably.
format_time <- function(x) format(x, "%Y-%m-%d %H:%M:%S", tz = "UTC")

# The fetch's progress (R/progress.R): pages, entries and the time left,
# with the waits for the entries rate limit.
entries_progress <- function(slug, cs, base_url) {
  task <- progress_start(
    paste0(slug, " / ", cs$branch_name %|NA|% cs$form_name), "page",
    pace = list(base_url = base_url, slug = slug, class = "entries")
  )
  list(
    update = function(page, last_page, seen, total) {
      detail <- sprintf("%s of %s entries", format(seen, big.mark = ","), format(total, big.mark = ","))
      progress_step(task, page, last_page, detail = detail)
    },
    done = function() progress_end(task)
  )
}

`%|NA|%` <- function(x, y) if (is.null(x) || is.na(x)) y else x
