#' Summaries of a project for reports
#'
#' The pieces of the report template (`rmarkdown::draft(file, template =
#' "epicollect5-report", package = "epicollect5")`), for reports of your own.
#' Each takes the linked tables of [ec5_project_data()] and returns a tibble
#' that prints, or goes to `knitr::kable()`, as it is:
#'
#' * `ec5_counts()`: one row per form and branch (`table`, `kind`, `parent`,
#'   `entries`, `located`: entries with a location, `last_upload`);
#' * `ec5_uploads()`: entries per table and `unit` of upload time
#'   (`table`, `period`: the first day of the period, `entries`, `total`: the
#'   running total);
#' * `ec5_completeness()`: how many entries answered each question (`table`,
#'   `column`, `question`, `answered`, `entries`, `percent`);
#' * `ec5_choices()`: how often each answer of each choice question was
#'   chosen, unchosen answers included (`table`, `column`, `question`,
#'   `answer`, `entries`, `percent` of the table's entries);
#' * `ec5_newest()`: the newest entries of one table as text for display:
#'   line breaks and runs of spaces become one space, long answers are cut to
#'   `width` characters, check boxes are joined with commas, and at most
#'   `columns` questions are shown, so a rendered table neither splits a row
#'   nor runs off the page;
#' * `ec5_dictionary()`: the data dictionary, one row per question (`table`,
#'   `column`: a location by its name, `question`, `type`, `required`,
#'   `answers` with their codes, `"1=Red; 2=Blue"`), from the definition
#'   alone: a short view of [ec5_codebook()].
#'
#' Columns are named as the tables of `x` name them (see the section Column
#' names of [ec5_entries()]); a location is named as [ec5_as_sf()] takes it.
#' A location counts as answered when it has a latitude; a branch question
#' (whose column counts the branch entries of a row) is left out of
#' `ec5_completeness()`, as its entries have a table of their own.
#'
#' @param x An `ec5_project_data` object from [ec5_project_data()]
#'   (`ec5_dictionary()` also takes an [ec5_project()]).
#' @param unit The period `ec5_uploads()` counts by: `"day"`, `"week"`
#'   (starting on Monday) or `"month"`.
#' @param table The name of the table `ec5_newest()` shows; the default is
#'   the top form.
#' @param n The number of entries `ec5_newest()` shows.
#' @param columns The most question columns `ec5_newest()` shows.
#' @param width The most characters `ec5_newest()` shows of an answer.
#' @return A tibble.
#' @seealso [ec5_uploads_plot()] and [ec5_map_plot()] draw the uploads and
#'   the locations.
#' @name ec5_report
#' @examplesIf requireNamespace("webfakes", quietly = TRUE)
#' url <- ec5_demo_server()
#' x <- ec5_project_data("ec5-demo", base_url = url)
#' ec5_counts(x)
#' ec5_uploads(x, "month")
#' ec5_completeness(x)
#' ec5_choices(x)
#' ec5_newest(x, n = 3)
#' ec5_dictionary(x)
#' \dontshow{ec5_demo_server(stop = TRUE)}
NULL

#' @rdname ec5_report
#' @export
ec5_counts <- function(x) {
  check_project_data(x)
  h <- attr(x, "hierarchy")
  located <- vapply(h$table, function(t) {
    lat <- first_latitude(x[[t]], report_questions(x, t))
    if (is.null(lat)) NA_integer_ else sum(!is.na(lat))
  }, integer(1))
  last <- lapply(h$table, function(t) max_or_na(x[[t]]$uploaded_at))
  tibble::tibble(
    table = h$table,
    kind = h$kind,
    parent = h$parent,
    entries = h$rows,
    located = unname(located),
    last_upload = do.call(c, last)
  )
}

#' @rdname ec5_report
#' @export
ec5_uploads <- function(x, unit = c("week", "day", "month")) {
  check_project_data(x)
  unit <- check_choice(unit)
  parts <- lapply(names(x), function(t) {
    day <- as.Date(x[[t]]$uploaded_at)
    period <- period_start(day[!is.na(day)], unit)
    counts <- table(period)
    tibble::tibble(
      table = rep(t, length(counts)),
      period = as.Date(names(counts)),
      entries = as.integer(counts),
      total = cumsum(as.integer(counts))
    )
  })
  do.call(rbind, c(list(empty_uploads()), parts))
}

#' @rdname ec5_report
#' @export
ec5_completeness <- function(x) {
  check_project_data(x)
  parts <- lapply(names(x), function(t) {
    q <- report_questions(x, t)
    q <- q[q$type != "branch", ]
    answered <- vapply(seq_len(nrow(q)), function(i) {
      sum(is_answered(x[[t]][[q$answer[i]]]))
    }, integer(1))
    entries <- rep(nrow(x[[t]]), nrow(q))
    tibble::tibble(
      table = rep(t, nrow(q)),
      column = q$column,
      question = q$question,
      answered = answered,
      entries = entries,
      percent = share(answered, entries)
    )
  })
  do.call(rbind, c(list(empty_completeness()), parts))
}

#' @rdname ec5_report
#' @export
ec5_choices <- function(x) {
  check_project_data(x)
  parts <- lapply(names(x), function(t) {
    q <- report_questions(x, t)
    q <- q[q$type %in% choice_types, ]
    rows <- lapply(seq_len(nrow(q)), function(i) {
      chosen <- factor(unlist(x[[t]][[q$answer[i]]]), levels = q$levels[[i]])
      counts <- tabulate(chosen, nbins = length(q$levels[[i]]))
      k <- length(counts)
      tibble::tibble(
        table = rep(t, k),
        column = rep(q$column[i], k),
        question = rep(q$question[i], k),
        answer = q$levels[[i]],
        entries = counts,
        percent = share(counts, rep(nrow(x[[t]]), k))
      )
    })
    do.call(rbind, rows)
  })
  do.call(rbind, c(list(empty_choices()), parts))
}

#' @rdname ec5_report
#' @export
ec5_newest <- function(x, table = names(x)[1], n = 10, columns = 6, width = 40) {
  check_project_data(x)
  check_table_name(table, names(x))
  check_count(n, min = 1)
  check_count(columns, min = 1)
  check_count(width, min = 5)
  t <- x[[table]]
  t <- t[order(t$uploaded_at, decreasing = TRUE, na.last = TRUE), ]
  t <- utils::head(t, n)
  q <- report_questions(x, table)
  q <- utils::head(q[!q$type %in% c("branch", "location"), ], columns)
  shown <- c("uploaded_at", "title", q$column)
  shown <- shown[shown %in% names(t)]
  out <- lapply(t[shown], display_text, width = width)
  tibble::as_tibble(out)
}

#' @rdname ec5_report
#' @export
ec5_dictionary <- function(x) {
  check_class(
    x, c("ec5_project_data", "ec5_project"),
    "an {.cls ec5_project_data} object from {.fn ec5_project_data} or an {.cls ec5_project} from {.fn ec5_project}"
  )
  book <- ec5_codebook(x)
  book <- book[book$type != "system" & !duplicated(book[c("table", "ref")]), ]
  # Project data names its columns as its tables do (export or clean); a
  # location (its first row: the latitude) by its name.
  column <- if (project_data_naming(x) == "clean") book$clean else book$column
  location <- book$type == "location"
  column[location] <- location_names(column[location], book$column[location])
  tibble::tibble(
    table = book$table,
    column = column,
    question = book$question,
    type = book$type,
    required = book$required,
    answers = book$choices
  )
}

#' Plot a project's uploads over time
#'
#' Draws, for each form and branch, the running total of its entries by
#' upload time, on one time axis, with a legend. `uploaded_at` is the time
#' of the last upload: an entry edited later counts at its edit.
#'
#' @inheritParams ec5_report
#' @param tables The tables to draw; the default is every table with entries.
#' @return `x`, invisibly.
#' @seealso [ec5_uploads()] for the counts as a table.
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE)
#' url <- ec5_demo_server()
#' x <- ec5_project_data("ec5-demo", base_url = url)
#' ec5_uploads_plot(x)
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_uploads_plot <- function(x, tables = NULL) {
  check_project_data(x)
  check_strings(tables, allow_null = TRUE, must = "the names of tables of {.arg x}, or {.code NULL}")
  for (t in tables) check_table_name(t, names(x), "tables")
  tables <- tables %||% names(x)[vapply(x, function(t) any(!is.na(t$uploaded_at)), logical(1))]
  if (!length(tables)) {
    ec5_abort("No table of {.arg x} has entries to draw.", class = "argument")
  }
  times <- lapply(x[tables], function(t) sort(t$uploaded_at[!is.na(t$uploaded_at)]))
  style <- table_style(x, tables)
  op <- graphics::par(las = 1, mar = c(4, 4.5, 1, 1))
  on.exit(graphics::par(op))
  graphics::plot(
    range(do.call(c, times)), c(0, max(lengths(times))),
    type = "n", xlab = "Upload time (UTC)", ylab = "Entries (running total)"
  )
  graphics::grid(col = "grey90", lty = 1)
  for (i in seq_along(times)) {
    graphics::lines(times[[i]], seq_along(times[[i]]), type = "s", col = style$col[i], lwd = 2)
  }
  graphics::legend("topleft", tables, col = style$col, lwd = 2, bg = "white", cex = 0.85)
  invisible(x)
}

#' Map every located table of a project
#'
#' Draws the locations of every form and branch that has a location question
#' (its first one), a colour and symbol per table, over a land outline from
#' the maps package, which needs no internet. Requires sf and maps.
#'
#' @inheritParams ec5_report
#' @param main The title of the map.
#' @return The points drawn, invisibly: an `sf` object with a column `table`.
#' @seealso [ec5_as_sf()] for the points of one table.
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE) && requireNamespace("sf", quietly = TRUE) && requireNamespace("maps", quietly = TRUE)
#' url <- ec5_demo_server()
#' x <- ec5_project_data("ec5-demo", base_url = url)
#' ec5_map_plot(x)
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_map_plot <- function(x, main = NULL) {
  check_project_data(x)
  check_string(main, allow_null = TRUE, allow_empty = TRUE, must = "a single string, or {.code NULL}")
  rlang::check_installed(c("sf", "maps"), reason = "to draw maps of locations.")
  points <- located_points(x)
  if (is.null(points)) {
    ec5_abort("No table of {.arg x} has a location to draw.", class = "argument")
  }
  tables <- unique(points$table)
  style <- table_style(x, tables)
  k <- match(points$table, tables)
  land <- sf::st_as_sf(maps::map("world", plot = FALSE, fill = TRUE))
  view <- map_view(sf::st_bbox(points))
  op <- graphics::par(mar = c(2.5, 3, if (is.null(main)) 1 else 2.5, 1))
  on.exit(graphics::par(op))
  plot(
    sf::st_geometry(land), xlim = view$x, ylim = view$y, col = "grey93", border = "grey65",
    axes = TRUE, bgc = "aliceblue", main = main, lwd = 0.5
  )
  # Translucent, so that the entries of a child form drawn over their
  # parent's (often the same place) leave both visible.
  fill <- grDevices::adjustcolor(style$col, alpha.f = 0.65)
  plot(sf::st_geometry(points), add = TRUE, pch = style$pch[k], col = fill[k], bg = fill[k], cex = 1.3,
    lwd = 1.5)
  graphics::legend("bottomleft", tables, pch = style$pch, col = fill, pt.bg = fill, bg = "white", cex = 0.85)
  invisible(points)
}

# The first location of every located table as one set of points.
located_points <- function(x) {
  parts <- lapply(names(x), function(t) {
    q <- report_questions(x, t)
    where <- q$column[q$type == "location"]
    if (!length(where) || !nrow(x[[t]])) {
      return(NULL)
    }
    pts <- ec5_as_sf(x[[t]], location = where[1])
    if (!nrow(pts)) {
      return(NULL)
    }
    sf::st_sf(table = rep(t, nrow(pts)), geometry = sf::st_geometry(pts))
  })
  parts <- Filter(Negate(is.null), parts)
  if (length(parts)) do.call(rbind, parts)
}

# The map's extent: the points with a margin, at least 20 degrees wide and
# 10 high so that a single point or a small survey area still shows the
# coast around it.
map_view <- function(bbox) {
  widen <- function(lo, hi, least, limit) {
    mid <- (lo + hi) / 2
    half <- max((hi - lo) * 0.6, least / 2)
    c(max(mid - half, -limit), min(mid + half, limit))
  }
  list(
    x = widen(bbox[["xmin"]], bbox[["xmax"]], 20, 180),
    y = widen(bbox[["ymin"]], bbox[["ymax"]], 10, 90)
  )
}

# The colour and symbol of each of `tables`: one per table of the project
# data, so a table looks the same in every plot of a report.
table_style <- function(x, tables) {
  n <- length(x)
  k <- match(tables, names(x))
  # The Okabe-Ito colours, which colour-blind readers tell apart, in an order
  # that keeps similar ones far apart; filled symbols first, then open ones
  # that let a point underneath show through.
  colours <- c("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999999", "#F0E442")
  list(
    col = rep(colours, length.out = n)[k],
    pch = rep(c(19, 17, 15, 18, 25, 4, 8, 3), length.out = n)[k]
  )
}

# The questions of one table of project data that it has columns for, named
# as the table names them (see questions_in_table()).
report_questions <- function(x, table) {
  h <- attr(x, "hierarchy")
  row <- h[match(table, h$table), ]
  q <- questions_in_table(table_questions(attr(x, "project"), row), x[[table]])
  q[!is.na(q$answer), ]
}

# The questions `q` (table_questions()) with the names of table `t`, of
# either naming (R/column-names.R): `answer`, the column that holds the
# answer (a location's latitude), and `column`, the question's column (a
# location's name as ec5_as_sf() takes it); NA for questions `t` lacks.
questions_in_table <- function(q, t) {
  by_export <- columns_by_export_name(t)
  location <- q$type == "location"
  q$answer <- unname(by_export[ifelse(location, location_column(q$column), q$column)])
  locations <- table_locations(t)
  q$column <- ifelse(location, locations$location[match(q$answer, locations$lat)], q$answer)
  q
}

# The questions of one row of a project_data_plan() under the default
# mapping, from the column spec the tables are typed by.
table_questions <- function(project, row) {
  form <- if (row$kind == "form") row$ref else project$inputs$form_ref[match(row$ref, project$inputs$ref)]
  branch <- if (row$kind == "branch") row$ref
  spec <- ec5_column_spec(project, form = form, branch = branch)$spec
  required <- project$inputs$is_required[match(spec$ref, project$inputs$ref)]
  tibble::tibble(
    column = spec$name,
    question = spec$label,
    type = spec$type,
    required = required %in% TRUE,
    levels = spec$levels
  )
}

choice_types <- c("radio", "dropdown", "checkbox", "searchsingle", "searchmultiple")

first_latitude <- function(t, q) {
  where <- q$answer[q$type == "location"]
  if (length(where)) t[[where[1]]]
}

is_answered <- function(col) {
  if (is.list(col)) {
    return(lengths(col) > 0)
  }
  ok <- !is.na(col)
  if (is.character(col)) ok & nzchar(trimws(col)) else ok
}

share <- function(part, whole) {
  ifelse(whole > 0, round(100 * part / whole, 1), NA_real_)
}

max_or_na <- function(time) {
  if (all(is.na(time))) as.POSIXct(NA, tz = "UTC") else max(time, na.rm = TRUE)
}

period_start <- function(day, unit) {
  switch(unit,
    day = day,
    week = day - (as.integer(format(day, "%u")) - 1L),
    month = as.Date(format(day, "%Y-%m-01"))
  )
}

# A column as one-line text of at most `width` characters: what a rendered
# table needs so that no answer splits a row or widens the page.
display_text <- function(col, width) {
  text <- if (is.list(col)) {
    vapply(col, function(v) paste(as.character(v), collapse = ", "), character(1))
  } else if (inherits(col, "POSIXt")) {
    format(col, "%Y-%m-%d %H:%M", tz = "UTC")
  } else if (is.double(col)) {
    format(col, digits = 6, trim = TRUE, big.mark = ",")
  } else {
    as.character(col)
  }
  text[is.na(col) | is.na(text)] <- ""
  text <- trimws(gsub("[[:space:]]+", " ", text))
  long <- nchar(text) > width
  text[long] <- paste0(substr(text[long], 1, width - 1), "\u2026")
  text
}

empty_uploads <- function() {
  tibble::tibble(table = character(), period = as.Date(character()), entries = integer(),
                 total = integer())
}

empty_completeness <- function() {
  tibble::tibble(table = character(), column = character(), question = character(),
                 answered = integer(), entries = integer(), percent = double())
}

empty_choices <- function() {
  tibble::tibble(table = character(), column = character(), question = character(),
                 answer = character(), entries = integer(), percent = double())
}
