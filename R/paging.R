# Shift-proof paging of the entries export. A field project changes while it
# is read: an edit moves an entry to the end of the upload order and a delete
# removes one, so pages requested by number slide under the reader and
# entries are lost. Every fetch that needs more than one page therefore reads
# in the one order in which a change can only move an entry forward (API-NOTES.md
# §3.5, kept in the package as the query of keyset_query()): ascending
# by the date field, each next request starting at the newest second received
# so far (`filter_from` alone, inclusive), always page 1. Entries read twice
# are kept once, as their last copy, by the C++ parser (src/columns.cpp,
# Table::finish).
#
# A full page that ends in the second it started with cannot move the cursor
# (bulk uploads stamp hundreds of entries with one second): that second is
# then read in page-numbered windows that overlap the rows already held
# (tie_block()); a window whose first row is not one of them means the second
# shifted under us, and the second is read again from its start.
#
# Each response's `meta.total` counts the entries from its cursor on. In a
# quiet project the totals of successive cursors differ by exactly the rows
# held between them; when they do not (live changes, or a server that lost an
# entry), one cheap request counts the window again and the rows the server
# has beyond the copy are fetched by one more pass, or reported by a warning
# of class `ec5_warning_incomplete`.

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
  pager$requests <- 0L
  pager$total <- NA_integer_
  pager$progress <- entries_progress(slug, cs, args$base_url)
  pager
}

# The order of keyset_query(), which is also the order rows arrive in.
safe_order <- function(args) {
  args$sort_by == args$date_field && args$sort_order == "asc"
}

# The user's query (its filters, in its order) with the keyset order, cursor
# and window in place of the user's order and dates; `page` last.
keyset_query <- function(pager, from, page, per_page) {
  query <- pager$query
  query$per_page <- as.integer(per_page)
  query$sort_by <- pager$field
  query$sort_order <- "asc"
  query$filter_to <- NULL
  query$filter_by <- if (is.finite(from)) pager$field
  query$filter_from <- if (is.finite(from)) format_time(.POSIXct(from, tz = "UTC"))
  query$page <- NULL
  query$page <- as.integer(page)
  query
}

# One keyset request: `from` (seconds, -Inf for none), a page number and a
# page size. Its rows are flattened into the parser; their keys and dates are
# remembered. The response is checked against its own total: a page that is
# not as full as `meta.total` says marks the fetch as suspect.
pager_get <- function(pager, from, page = 1L, per_page = pager$per_page) {
  meta <- fetch_page(
    pager$parser, pager$base_url, pager$path, keyset_query(pager, from, page, per_page),
    pager$auth, pager$slug, pager$call, fields = c(pager$key, pager$field)
  )
  # A server that caps the page size (ec5_335) made fetch_page() ask again
  # with a smaller one: later windows are planned with it. A window asked
  # for with a page number then covered other rows, which the overlap check
  # of tie_block() notices.
  pager$per_page <- min(pager$per_page, per_page_limit(pager$base_url))
  times <- as.numeric(meta$rows[[pager$field]])
  if (anyNA(times)) {
    ec5_abort(
      c("The server sent entries without {.field {pager$field}}.",
        "i" = "An older server: try {.code date_field = \"created_at\"}."),
      class = "parse", call = pager$call
    )
  }
  keys <- meta$rows[[pager$key]]
  pager$keys <- c(pager$keys, keys)
  pager$times <- c(pager$times, times)
  if (!from %in% pager$filters) {
    pager$filters <- c(pager$filters, from)
    pager$totals <- c(pager$totals, meta$total)
  }
  expected <- min(per_page, max(0, meta$total - (page - 1) * per_page))
  if (is.na(expected) || meta$n != expected) pager$suspect <- TRUE
  pager_progress(pager, meta)
  list(
    n = meta$n, per_page = per_page, keys = keys, seconds = floor(times),
    # Fewer rows than the page holds and than its total promises: not the end.
    last = meta$n < per_page && !isTRUE(meta$n < expected && length(unique(floor(times))) > 1L)
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

# The keys and dates of the rows held, each entry once (its last copy).
held_rows <- function(pager) {
  last <- !duplicated(pager$keys, fromLast = TRUE)
  list(keys = pager$keys[last], times = pager$times[last])
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

# The whole keyset fetch: a pass, and when its totals do not add up and the
# server counts more than the copy holds, one more pass merged into it.
# Returns the server's count when one was made (else the first total).
fetch_keyset <- function(pager, since) {
  since <- if (is.null(since)) -Inf else as.numeric(since)
  reached <- keyset_pass(pager, since)
  if (!(pager$suspect || chain_broken(pager, reached))) {
    return(list(total = pager$total, repaired = FALSE))
  }
  missing <- pager_missing(pager, since, reached)
  if (missing <= 0) {
    return(list(total = pager$total, repaired = FALSE))
  }
  reached <- keyset_pass(pager, since)
  missing <- pager_missing(pager, since, reached)
  if (missing > 0) warn_incomplete(missing, pager)
  list(total = pager$total, repaired = TRUE)
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
