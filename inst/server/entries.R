# Generated entries of the local Epicollect5 server, stored as the server
# stores them: answers keyed by input ref, choices as answer refs, dates as
# ISO text, numbers as text or numbers, media as file names (API-NOTES.md
# §4.2, §4.5). Deterministic for a seed; they cover every input type of a
# definition and the values that break naive clients.

# The stored entries of a project: one row per entry or branch entry
#
# Columns: `id` (insertion order), `kind` ("entry"/"branch"), `uuid`,
# `form_ref`, `branch_ref` (owner input ref; "" for entries),
# `parent_uuid`, `parent_form_ref`, `owner_uuid`, `created` (seconds, with
# milliseconds), `created_iso` (as stored in the entry JSON), `uploaded`
# (whole seconds), `title`, `user` (uploader e-mail or "n/a"), `answers`
# (list: input ref -> list(answer, was_jumped)). Deterministic for a seed.
srv_generate_store <- function(project, seed) {
  srv_with_seed(seed + srv_slug_hash(project$slug), {
    forms <- project$definition$forms
    start <- project$structure_updated + 86400
    rows <- list()
    parents <- NULL
    for (i in seq_along(forms)) {
      form <- srv_rows_for_form(project, forms[[i]], parents, start, project$n_entries)
      parents <- form$entries
      rows <- c(rows, list(form$entries), form$branches)
    }
    store <- do.call(rbind, rows)
    store$id <- seq_len(nrow(store))
    store
  })
}

srv_with_seed <- function(seed, code) {
  old <- if (exists(".Random.seed", globalenv())) get(".Random.seed", globalenv())
  on.exit(if (is.null(old)) rm(".Random.seed", envir = globalenv()) else
    assign(".Random.seed", old, globalenv()))
  set.seed(seed)
  code
}

srv_slug_hash <- function(slug) {
  sum(utf8ToInt(slug) * seq_along(utf8ToInt(slug))) %% 100000L
}

srv_rows_for_form <- function(project, form, parents, start, n) {
  if (is.null(parents)) {
    created <- start + sort(stats::runif(n, 0, 120 * 86400))
    parent <- rep("", n)
  } else {
    # Some parents get no children, some several.
    n <- if (nrow(parents)) n else 0L
    pick <- sample(nrow(parents), n, replace = TRUE)
    created <- parents$created[pick] + stats::runif(n, 60, 7 * 86400)
    parent <- parents$uuid[pick]
  }
  uploaded <- srv_upload_batches(created)
  entries <- srv_new_rows(project, form$inputs, "entry", form$ref, created, uploaded)
  entries$parent_uuid <- parent
  entries$parent_form_ref <- rep(if (is.null(parents)) "" else parents$form_ref[1], nrow(entries))
  branches <- lapply(srv_form_branches(form), function(branch) {
    srv_rows_for_branch(project, form$ref, branch, entries)
  })
  list(entries = entries, branches = branches)
}

# Entries reach the server in bulk uploads: a few at a time, all stamped with
# the same second. That gives the uploaded_at ties clients must handle.
srv_upload_batches <- function(created) {
  order <- order(created)
  batch <- cumsum(stats::runif(length(created)) < 0.45)
  uploaded <- numeric(length(created))
  last <- tapply(created[order], batch, max)
  delay <- stats::setNames(stats::runif(length(last), 30, 3 * 86400), names(last))
  key <- as.character(batch)
  uploaded[order] <- floor(last[key] + delay[key])
  uploaded
}

srv_rows_for_branch <- function(project, form_ref, branch, owners) {
  answered <- vapply(owners$answers, function(a) !isTRUE(a[[branch$ref]]$was_jumped), TRUE)
  counts <- ifelse(answered, sample(0:3, nrow(owners), replace = TRUE, prob = c(3, 3, 2, 1)), 0L)
  owner <- rep(seq_len(nrow(owners)), counts)
  created <- owners$created[owner] + stats::runif(length(owner), 5, 3600)
  rows <- srv_new_rows(project, branch$branch, "branch", form_ref, created, owners$uploaded[owner])
  rows$branch_ref <- rep(branch$ref, nrow(rows))
  rows$owner_uuid <- owners$uuid[owner]
  rows
}

srv_new_rows <- function(project, inputs, kind, form_ref, created, uploaded) {
  n <- length(created)
  millis <- ifelse(stats::runif(n) < 0.5, 0L, sample(1:999, n, replace = TRUE))
  created <- floor(created) + millis / 1000
  uuid <- srv_random_uuid(n)
  answers <- lapply(seq_len(n), function(i) {
    srv_generate_answers(inputs, list(uuid = uuid[i], created = created[i]))
  })
  users <- c("user1@example.org", "user2@example.org", "user3@example.org", "n/a")
  blank <- rep("", n)
  data.frame(
    id = integer(n), kind = rep(kind, n), uuid = uuid, form_ref = rep(form_ref, n),
    branch_ref = blank, parent_uuid = blank, parent_form_ref = blank, owner_uuid = blank,
    created = created, created_iso = srv_iso_time(created, millis),
    uploaded = uploaded,
    title = srv_entry_titles(inputs, answers, uuid),
    user = if (identical(project$access, "private")) sample(users, n, TRUE) else blank,
    answers = I(answers),
    stringsAsFactors = FALSE
  )
}

srv_random_uuid <- function(n) {
  if (n == 0L) {
    return(character())
  }
  hex <- function(k) {
    vapply(seq_len(n), function(i) paste(sample(c(0:9, letters[1:6]), k, TRUE), collapse = ""), "")
  }
  paste0(hex(8), "-", hex(4), "-4", hex(3), "-", sample(c("8", "9", "a", "b"), n, TRUE), hex(3), "-", hex(12))
}

# Raw answers for one entry of a form or branch, following its jumps
#
# Jumps are honoured in three entries out of four: the rest stand for
# entries uploaded before the jumps were added to the form, which real
# projects hold too (and the formbuilder test projects jump from their first
# question to the end, which would leave every other answer empty).
srv_generate_answers <- function(inputs, ctx) {
  honour_jumps <- stats::runif(1) < 0.75
  answers <- list()
  skip_to <- NULL
  for (input in inputs) {
    if (identical(input$type, "readme")) next
    if (!is.null(skip_to) && !identical(input$ref, skip_to)) {
      answers <- c(answers, srv_jumped_answers(input))
      next
    }
    skip_to <- NULL
    if (identical(input$type, "group")) {
      answers <- c(answers, srv_generate_answers(input$group, ctx))
      next
    }
    value <- srv_generate_answer(input, ctx)
    answers[[input$ref]] <- list(answer = value, was_jumped = FALSE)
    if (honour_jumps) skip_to <- srv_jump_target(input, value)
  }
  answers
}

srv_jumped_answers <- function(input) {
  if (identical(input$type, "group")) {
    return(unlist(lapply(input$group, srv_jumped_answers), recursive = FALSE))
  }
  stats::setNames(list(list(answer = srv_empty_answer(input$type), was_jumped = TRUE)), input$ref)
}

# The target of the first jump whose condition holds, or NULL.
srv_jump_target <- function(input, value) {
  chosen <- unlist(value)
  for (jump in input$jumps) {
    fires <- switch(jump$when,
      ALL = TRUE,
      IS = isTRUE(jump$answer_ref %in% chosen),
      IS_NOT = !isTRUE(jump$answer_ref %in% chosen),
      NO_ANSWER_GIVEN = !length(chosen) || all(chosen == ""),
      FALSE
    )
    if (fires) return(jump$to)
  }
  NULL
}

srv_empty_answer <- function(type) {
  switch(type,
    checkbox = , searchsingle = , searchmultiple = list(),
    location = list(latitude = "", longitude = "", accuracy = ""),
    ""
  )
}

# One stored answer, in the shapes the upload validators keep (API-NOTES.md
# §4.5): choice refs, ISO dates, numbers as text or numbers, media file names.
srv_generate_answer <- function(input, ctx) {
  type <- input$type
  if (type == "branch") {
    return("")
  }
  if (stats::runif(1) < 0.08) {
    return(srv_empty_answer(type))
  }
  switch(type,
    text = srv_pick_text(),
    textarea = paste(srv_pick_text(), srv_pick_text(), sep = sample(c("\n", "\r\n"), 1)),
    phone = srv_pick(list("+44 20 7946 0958", "07700 900123", "(555) 010-0199",
                          srv_php_number("4402079460958"), "+52 55 1234 5678")),
    barcode = srv_pick(list("9783161484100", "012345678905", "QR:https://five.epicollect.net/",
                            "BEGIN:VCARD\nVERSION:3.0\nN:Doe;Jane\nEND:VCARD\n")),
    integer = srv_generate_integer(input),
    decimal = srv_generate_decimal(),
    date = sprintf("%s-%02d-%02dT00:00:00.000", sample(1950:2024, 1), sample(1:12, 1), sample(1:28, 1)),
    time = sprintf("1970-01-01T%02d:%02d:%02d.000", sample(0:23, 1), sample(0:59, 1), sample(0:59, 1)),
    radio = , dropdown = unlist(srv_generate_choices(input, 1L, 1L)),
    checkbox = , searchmultiple = srv_generate_choices(input, 0L, 3L),
    searchsingle = srv_generate_choices(input, 1L, 1L),
    location = srv_generate_location(),
    photo = srv_media_file_name(ctx, "jpg"),
    audio = srv_media_file_name(ctx, sample(c("mp4", "mp4", "wav"), 1)),
    video = srv_media_file_name(ctx, "mp4"),
    ""
  )
}

srv_pick <- function(x) x[[sample(length(x), 1)]]

# Mostly plain words; sometimes the characters that break naive clients:
# non-BMP emoji, typographic quotes, separators, backslashes, look-alikes.
srv_pick_text <- function() {
  if (stats::runif(1) < 0.6) {
    return(paste(srv_pick(c("North", "South", "Old", "New", "Upper", "River")),
                 srv_pick(c("plot", "transect", "site", "field", "garden")),
                 sample(1:99, 1)))
  }
  srv_pick(c(
    "Zo\u00eb", "S\u00e3o Paulo", "Krak\u00f3w", "\u6771\u4eac", "na\u00efve caf\u00e9",
    "bee \U0001F41D", "\U0001D518\U0001D52B\U0001D526", "O\u2019Brien",
    "quote \"inside\"", "back\\slash", "comma, separated", "semi;colon",
    "tab\tinside", "slash/path", "\ufe65 95", "x < y & z > w", "  padded  "
  ))
}

# The server checks an answer against the question's `min` and `max` on
# upload; without them any number goes, beyond 32 and even 64 bits. (A
# bounded question gets its largest value instead, which keeps the random
# stream, and so every other generated answer, as it was.)
srv_generate_integer <- function(input) {
  low <- suppressWarnings(as.integer(input$min %||% NA))
  high <- suppressWarnings(as.integer(input$max %||% NA))
  if (stats::runif(1) < 0.06) {
    if (!is.na(low) && !is.na(high)) {
      return(as.character(high))
    }
    return(srv_pick(list("3000000000", "-2147483649", "9007199254740993", "99999999999999999999")))
  }
  value <- sample(seq(if (is.na(low)) 0L else low, if (is.na(high)) 120L else high), 1)
  # Uploads store text; bulk uploads and old rows store numbers.
  if (stats::runif(1) < 0.25) value else as.character(value)
}

srv_generate_decimal <- function() {
  value <- round(stats::runif(1, -50, 500), sample(0:6, 1))
  # iOS sends decimals as text, with trailing zeros.
  if (stats::runif(1) < 0.2) sprintf("%.2f", value) else value
}

srv_generate_choices <- function(input, min, max) {
  refs <- vapply(input$possible_answers, `[[`, "", "answer_ref")
  size <- sample(seq(min, min(max, length(refs))), 1)
  chosen <- as.list(sample(refs, size))
  # An answer deleted from the form after upload exports as "".
  if (length(chosen) && stats::runif(1) < 0.04) chosen[[1]] <- "5a0000000dead"
  chosen
}

srv_location_centres <- list(
  c(51.5246, -0.1340), c(-42.9307, -71.3641), c(20.7453, 78.6022),
  c(19.4326, -99.1332), c(78.2232, 15.6267), c(-1.2921, 36.8219)
)

srv_generate_location <- function() {
  if (stats::runif(1) < 0.05) {
    # On the equator: the server leaves UTM empty because it tests lat as a boolean.
    return(list(latitude = 0L, longitude = round(stats::runif(1, 30, 40), 6), accuracy = 12L))
  }
  centre <- srv_pick(srv_location_centres)
  list(
    latitude = round(centre[1] + stats::runif(1, -0.05, 0.05), 6),
    longitude = round(centre[2] + stats::runif(1, -0.05, 0.05), 6),
    accuracy = sample(3:65, 1)
  )
}

srv_media_file_name <- function(ctx, extension) {
  sprintf("%s_%d.%s", ctx$uuid, as.integer(floor(ctx$created)), extension)
}

# Entry titles as the app builds them: up to 3 title questions joined by a
# space, or the uuid when none is answered
srv_entry_titles <- function(inputs, answers, uuid) {
  title_inputs <- Filter(function(input) isTRUE(input$is_title), srv_flatten_inputs(inputs))
  title_inputs <- utils::head(title_inputs, 3L)
  titles <- vapply(answers, function(a) {
    parts <- vapply(title_inputs, function(input) srv_title_part(input, a[[input$ref]]$answer), "")
    paste(parts[nzchar(parts)], collapse = " ")
  }, "")
  ifelse(nzchar(titles), titles, uuid)
}

srv_title_part <- function(input, value) {
  if (is.null(value) || is.list(value)) {
    return("")
  }
  if (input$type %in% c("date", "time")) {
    return(srv_php_date(value, input$datetime_format %||% NA))
  }
  if (input$type %in% c("radio", "dropdown")) {
    labels <- srv_map_answers(input$possible_answers)
    return(labels[[value]]$map_to %||% "")
  }
  srv_php_value_string(value)
}

