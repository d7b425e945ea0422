# Paging of the entries export on a project that changes while it is read.
# An edit moves an entry to the end of the upload order and a delete removes
# one, so every entry behind it moves one place forward: when pages are
# requested by number, the first entry of a page not yet read slides into a
# page already read and is lost (API-NOTES.md §3.5). Every fetch of more
# than one page reads ascending by the date field, the one order in which a
# change can only move an entry to the end; the order asked for is applied to
# the rows afterwards (R/entries.R).
#
# Pages by number first (numbered_pass()), under the query's own filters:
# a quiet project costs ceiling(n / per_page) requests. Whether anything
# changed between the first answer and the last is then read from the
# answers themselves. When every `meta.total` equals the first and no entry
# of the last page (which holds the newest) is stamped at or after the first
# answer, every page saw the same list: the list the last page saw holds
# only entries older than the fetch, as many as at first, so none was
# deleted or edited; and each earlier list had the same count, so no entry
# had been added to it either. Edits and uploads are stamped with the
# server's clock; the first answer is dated by its `Date` header, less the
# time the request took (the server read the entries before it wrote the
# header) and a margin for its clocks. An entry read twice, or a page less
# full than its total promises, also means the pages moved.
#
# When anything moved, everything is read again in the shift-proof keyset
# order, from the start of the query: keyset_pass() asks for page 1, then
# each next request starts at the newest second received so far
# (`filter_from` alone, inclusive; API-NOTES.md §3.5, the query of
# keyset_query()). Page 1 is read again too: no entry of it can be lost, but
# a change after it may have deleted some, which only a new read shows.
# Entries read twice are kept once, as their last copy, by the C++ parser
# (src/table.cpp). A row read by number that the keyset pass did not return
# although it read past the row's second was deleted during the fetch (or
# left the query, as an edited title can): unread_rows() names it, and the
# table leaves it out (R/entries.R), so the result holds the server's
# entries as the keyset pass saw them. An edited entry is never among those:
# its newer copy stands later in the order, where the pass reads it. A fetch
# that stops before the end (`max_entries` in this order, or `since` with
# `until`, which cannot both be sent) never sees the newest entries, so it
# cannot tell a quiet project from a changed one: it pages by keyset from
# the start.
#
# A full page that ends in the second it started with cannot move the cursor
# (bulk uploads stamp hundreds of entries with one second): that second is
# then read in page-numbered windows that overlap the rows already held
# (tie_block()); a window whose first row is not one of them means the second
# shifted under us, and the second is read again from its start.
#
# Each keyset response's `meta.total` counts the entries from its cursor on.
# In a quiet project the totals of successive cursors differ by exactly the
# rows held between them; when they do not (live changes, or a server that
# lost an entry), one cheap request counts the window again and the rows the
# server has beyond the copy are fetched by one more pass, or reported by a
# warning of class `ec5_warning_incomplete`.

# A fetch's state: the request plumbing, every key and date received (in
# order), and the first total seen for each cursor of the current pass.
new_pager <- function(slug, query, cs, args, auth, parser, call) {
  pager <- new.env(parent = emptyenv())
  pager$slug <- slug
  pager$cs <- cs
  pager$base_url <- args$base_url
  pager$path <- paste0("/api/export/entries/", slug)
  pager$auth <- auth
  pager$call <- call
  pager$parser <- parser
  pager$query <- query
  pager$per_page <- min(query$per_page, per_page_limit(args$base_url))
  pager$field <- args$date_field
  pager$key <- table_layout()$keys[[if (is.na(cs$branch_ref)) "form" else "branch"]]
  pager$until <- if (is.null(args$until)) Inf else as.numeric(args$until)
  # max_entries stops a fetch early only when the rows come in the order asked for.
  pager$max_entries <- if (safe_order(args)) args$max_entries else Inf
  pager$keys <- character()
  pager$times <- numeric()
  pager$filters <- numeric()
  pager$totals <- numeric()
  pager$suspect <- FALSE
  # How many of the rows received were read by page number, and those of
  # them the keyset pass found deleted.
  pager$numbered <- 0L
  pager$gone <- character()
  pager$requests <- 0L
  pager$total <- NA_integer_
  pager$progress <- entries_progress(slug, cs, args$base_url)
  pager
}

# The order of keyset_query(), which is also the order rows arrive in.
safe_order <- function(args) {
  args$sort_by == args$date_field && args$sort_order == "asc"
}

# The user's query (its filters) in the keyset order, `page` last.
ordered_query <- function(pager, page, per_page) {
  query <- pager$query
  query$per_page <- as.integer(per_page)
  query$sort_by <- pager$field
  query$sort_order <- "asc"
  query$page <- NULL
  query$page <- as.integer(page)
  query
}

# The query in the keyset order with the cursor `from` (seconds, -Inf for
# none) in place of the user's dates.
keyset_query <- function(pager, from, page, per_page) {
  query <- ordered_query(pager, page, per_page)
  query$filter_to <- NULL
  query$filter_by <- if (is.finite(from)) pager$field
  query$filter_from <- if (is.finite(from)) format_time(.POSIXct(from, tz = "UTC"))
  query[c(setdiff(names(query), "page"), "page")]
}

# One request. Its rows are flattened into the parser; their keys and dates
# are remembered. Returns its meta with the page size the server took
# (`size`) and the number of rows its total promised (`expected`).
pager_request <- function(pager, query, page) {
  meta <- fetch_page(
    pager$parser, pager$base_url, pager$path, query,
    pager$auth, pager$slug, pager$call, fields = c(pager$key, pager$field)
  )
  # A server that caps the page size (ec5_335) made fetch_page() ask again
  # with a smaller one: later pages are planned with it, and a page asked
  # for by number then covered other rows, which the checks notice.
  meta$size <- min(query$per_page, per_page_limit(pager$base_url))
  pager$per_page <- min(pager$per_page, per_page_limit(pager$base_url))
  times <- as.numeric(meta$rows[[pager$field]])
  if (anyNA(times)) {
    ec5_abort(
      c("The server sent entries without {.field {pager$field}}.",
        "i" = "An older server: try {.code date_field = \"created_at\"}."),
      class = "parse", call = pager$call
    )
  }
  meta$keys <- meta$rows[[pager$key]]
  meta$seconds <- floor(times)
  meta$expected <- page_rows(meta$total, page, query$per_page)
  pager$keys <- c(pager$keys, meta$keys)
  pager$times <- c(pager$times, times)
  pager_progress(pager, meta)
  meta
}

# One keyset request: `from` (seconds, -Inf for none), a page number and a
# page size. The response is checked against its own total: a page that is
# not as full as `meta.total` says marks the fetch as suspect.
pager_get <- function(pager, from, page = 1L, per_page = pager$per_page) {
  meta <- pager_request(pager, keyset_query(pager, from, page, per_page), page)
  if (!from %in% pager$filters) {
    pager$filters <- c(pager$filters, from)
    pager$totals <- c(pager$totals, meta$total)
  }
  if (is.na(meta$expected) || meta$n != meta$expected) pager$suspect <- TRUE
  list(
    n = meta$n, per_page = per_page, keys = meta$keys, seconds = meta$seconds,
    # Fewer rows than the page holds and than its total promises: not the end.
    last = meta$n < per_page &&
      !isTRUE(meta$n < meta$expected && length(unique(meta$seconds)) > 1L)
  )
}

pager_progress <- function(pager, meta) {
  pager$requests <- pager$requests + 1L
  if (is.na(pager$total)) pager$total <- meta$total
  seen <- sum(!duplicated(pager$keys))
  left <- max(0, pager$total - seen, na.rm = TRUE)
  pager$progress$update(pager$requests, pager$requests + ceiling(left / pager$per_page), seen, pager$total)
}

# Reads from `since` (seconds, -Inf for none) to the end, or until a stop
# condition holds. TRUE when the end was reached.
keyset_pass <- function(pager, since) {
  pager$filters <- numeric()
  pager$totals <- numeric()
  cursor <- since
  repeat {
    page <- pager_get(pager, cursor)
    if (page$last) {
      return(TRUE)
    }
    if (pager_stop(pager)) {
      return(FALSE)
    }
    seconds <- range(page$seconds)
    if (seconds[1] < seconds[2]) {
      cursor <- seconds[2]
      next
    }
    tie <- tie_block(pager, seconds[1], page)
    if (tie$last) {
      return(TRUE)
    }
    if (pager_stop(pager)) {
      return(FALSE)
    }
    cursor <- max(tie$seconds)
  }
}

# In the order asked for, the rows after `until` or after the first
# `max_entries` are not needed.
pager_stop <- function(pager) {
  any(pager$times > pager$until) ||
    sum(!duplicated(pager$keys)) >= pager$max_entries
}

# Reads every entry of one second (`second`) after a full page of them
# (`first`), in windows under `filter_from = second` that overlap the rows
# already held: the k-th window overlaps by at least k rows, so that an edit
# or delete inside the second shifts it by less than the overlap. Returns the
# window that ended the second (it is short, or holds later rows too).
tie_block <- function(pager, second, first) {
  block <- first$keys
  end <- first$n
  restarts <- 0L
  window <- 0L
  repeat {
    window <- window + 1L
    w <- tie_window(end, pager$per_page, window)
    page <- pager_get(pager, second, w$page, w$per_page)
    if (page$n == 0L || !page$keys[1] %in% block) {
      restarts <- restarts + 1L
      check_restarts(restarts, second, pager$call)
      page <- pager_get(pager, second)
      block <- character()
      w <- list(page = 1L, per_page = page$per_page)
      window <- 0L
    }
    block <- c(block, page$keys[page$seconds == second])
    end <- w$page * w$per_page
    if (page$n < page$per_page || any(page$seconds > second)) {
      return(page)
    }
  }
}

# The window (page number and size) that reaches farthest past `end` rows
# while starting at least `margin` rows (else one row) before it. Windows
# hold up to `per_page` entries, or 20 when pages are smaller: windows of a
# few entries cannot always overlap and move forward.
tie_window <- function(end, per_page, margin) {
  sizes <- seq_len(max(per_page, 20L))
  for (m in unique(c(min(margin, end), 1L))) {
    pages <- (end - m) %/% sizes + 1L
    ends <- pages * sizes
    if (max(ends) > end) {
      i <- max(which(ends == max(ends)))
      return(list(page = pages[i], per_page = sizes[i]))
    }
  }
}

check_restarts <- function(restarts, second, call) {
  if (restarts <= 3L) {
    return(invisible())
  }
  ec5_abort(
    c("The entries uploaded at {format_time(.POSIXct(second, tz = 'UTC'))} kept changing while they were read.",
      "i" = "More entries share that second than one page holds, and they were edited or deleted during the fetch. Try again in a minute."),
    class = "incomplete", call = call
  )
}

# The keys and dates of the rows held, each entry once (its last copy),
# without those found deleted.
held_rows <- function(pager) {
  last <- !duplicated(pager$keys, fromLast = TRUE) & !pager$keys %in% pager$gone
  list(keys = pager$keys[last], times = pager$times[last])
}

# The rows read by page number whose second the keyset passes read past
# (to the end when `reached_end`, else up to the newest second they
# received, which a page may have cut) but that they did not return.
unread_rows <- function(pager, reached_end) {
  numbered <- seq_along(pager$keys) <= pager$numbered
  reread <- pager$keys[!numbered]
  upper <- if (reached_end) Inf else max(floor(pager$times[!numbered]), -Inf)
  setdiff(pager$keys[numbered & floor(pager$times) < upper], reread)
}

# Whether the totals of the pass disagree with the rows held: in a quiet
# project the total at one cursor minus the total at the next is the number
# of entries between them, and the last total is what is left.
chain_broken <- function(pager, reached_end) {
  if (!length(pager$filters)) {
    return(FALSE)
  }
  held <- held_rows(pager)
  counts <- tabulate(findInterval(held$times, pager$filters), length(pager$filters))
  expected <- c(-diff(pager$totals), pager$totals[length(pager$totals)])
  checked <- seq_len(length(pager$filters) - !reached_end)
  anyNA(expected) || any(counts[checked] != expected[checked])
}

# How many entries the server has in the window read (from `since` to the
# end, or to the last cursor when the pass stopped early) that the copy does
# not: one request per bound, one row each, flattened into a scratch parser.
pager_missing <- function(pager, since, reached_end) {
  upper <- if (reached_end) Inf else max(pager$filters)
  if (upper <= since) {
    return(0)
  }
  on_server <- window_count(pager, since) - if (is.finite(upper)) window_count(pager, upper) else 0
  held <- held_rows(pager)
  on_server - sum(held$times >= since & held$times < upper)
}

window_count <- function(pager, from) {
  meta <- fetch_page(
    entries_parser(pager$cs), pager$base_url, pager$path, keyset_query(pager, from, 1L, 1L),
    pager$auth, pager$slug, pager$call
  )
  meta$total %|NA|% 0
}

# Seconds between the server's clock that dates the answers and the one that
# stamps uploads, allowed for.
clock_margin <- 5

# The whole fetch: pages by number, and when they show a change, all of it
# read again by keyset. Returns the first total, whether rows may be out of
# order, and the keys of the rows found deleted (`gone`).
fetch_paged <- function(pager, since) {
  since <- if (is.null(since)) -Inf else as.numeric(since)
  if (is.finite(pager$max_entries) || (is.finite(since) && is.finite(pager$until))) {
    return(fetch_keyset(pager, since))
  }
  if (!numbered_pass(pager)) {
    return(fetch_result(pager, repaired = FALSE))
  }
  pager$numbered <- length(pager$keys)
  fetched <- fetch_keyset(pager, since)
  # Rows read by number past the end of a pass stopped early come first.
  fetched$repaired <- TRUE
  fetched
}

# Reads the pages by number under the query's filters (see the header).
# Returns whether they moved, or may have.
numbered_pass <- function(pager) {
  started <- Sys.time()
  first <- pager_request(pager, ordered_query(pager, 1L, pager$per_page), 1L)
  took <- as.numeric(difftime(Sys.time(), started, units = "secs"))
  changed_from <- floor(first$served - took) - clock_margin
  if (is.na(first$total) || !page_full(first, 1L, first$size)) {
    return(TRUE)
  }
  pages <- ceiling(first$total / first$size)
  for (page in seq_len(pages)[-1]) {
    meta <- pager_request(pager, ordered_query(pager, page, first$size), page)
    moved <- !identical(meta$total, first$total) || meta$size != first$size ||
      !page_full(meta, page, first$size) || anyDuplicated(pager$keys) > 0
    if (moved) {
      return(TRUE)
    }
  }
  pages > 1 && !isTRUE(max(pager$times) < changed_from)
}

# Whether page `page` of pages of `size` holds as many rows as its total
# promises (the page size the server took, which a cap may have lowered).
page_full <- function(meta, page, size) {
  meta$n == page_rows(meta$total, page, size)
}

# The rows page `page` of pages of `size` holds when `total` entries match.
page_rows <- function(total, page, size) {
  min(size, max(0, total - (page - 1) * size))
}

# The whole keyset fetch: a pass, and when its totals do not add up and the
# server counts more than the copy holds, one more pass merged into it.
# Returns the first total seen, whether a second pass was made and the rows
# read by number found deleted.
fetch_keyset <- function(pager, since) {
  reached <- keyset_pass(pager, since)
  pager$gone <- unread_rows(pager, reached)
  if (!(pager$suspect || chain_broken(pager, reached))) {
    return(fetch_result(pager, repaired = FALSE))
  }
  missing <- pager_missing(pager, since, reached)
  if (missing <= 0) {
    return(fetch_result(pager, repaired = FALSE))
  }
  reached <- keyset_pass(pager, since)
  pager$gone <- unread_rows(pager, reached)
  missing <- pager_missing(pager, since, reached)
  if (missing > 0) warn_incomplete(missing, pager)
  fetch_result(pager, repaired = TRUE)
}

fetch_result <- function(pager, repaired) {
  list(total = pager$total, repaired = repaired, gone = pager$gone)
}

warn_incomplete <- function(missing, pager) {
  label <- pager$cs$branch_name %|NA|% pager$cs$form_name
  cli::cli_warn(
    c("{missing} entr{?y/ies} of {.val {label}} that the server counts {cli::qty(missing)}{?is/are} missing from the result.",
      "i" = "Entries were changed during the fetch, or the server left some out of its pages.",
      "i" = "Fetch again; if entries are still missing, tell the project's administrators."),
    class = "ec5_warning_incomplete", call = pager$call
  )
}
