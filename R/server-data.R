# The data of the local Epicollect5 server: the projects it hosts (real
# definitions shipped in inst/extdata/projects), their mappings (EC5_AUTO
# built as the server builds it, plus custom ones), generated entries stored
# in the server's raw form (answers keyed by input ref), and the export of
# those entries through a mapping, as JSON or CSV (SPEC sections 3-5).

# --- catalogue ----------------------------------------------------------------

# The projects the server hosts. `client_id`/`client_secret` are the OAuth
# client app of each private project (see ec5_server_clients()); `entries` is
# the default number of entries per form, smaller for the 170-question survey.
server_catalogue <- function() {
  data.frame(
    file = c(
      "ec5-demo.json",
      "formbuilder_project_4forms_university_with_extra.json",
      "formbuilder_project_test-cleaning_readme_phone_group.json",
      "formbuilder_project_word-chars_unicode_questions.json",
      "ec5-demo-project_api-project_response_mobile-app-asset_2022.json",
      "pyepicollect_export_project_private_proyecto-api-python.json",
      "formbuilder_project_cronus-sept17_fieldwork.json",
      "formbuilder_project_hinganghat-wardha-ddr_large_jumps.json"
    ),
    slug = c(
      "ec5-demo", "test", "test-cleaning", "word-chars-test", "ec5-demo-project",
      "proyecto-api-python", "cronus-sept17", "hinganghat-wardha-ddr"
    ),
    client_id = c(NA, NA, NA, NA, NA, "1001", "1002", "1003"),
    client_secret = c(
      NA, NA, NA, NA, NA,
      "pYtH0nApiTestSecret0000000000000000001001",
      "cRonusSept17TestSecret000000000000001002",
      "hInganghatWardhaDdrTestSecret00000001003"
    ),
    entries = c(60L, 40L, 60L, 30L, 60L, 60L, 40L, 15L),
    stringsAsFactors = FALSE
  )
}

server_file <- function(...) {
  system.file("extdata", ..., package = "epicollect5", mustWork = TRUE)
}

read_json_file <- function(path) {
  jsonlite::fromJSON(path, simplifyVector = FALSE)
}

#' Load every hosted project (definitions, mappings, clients)
#'
#' `entries` overrides the number of entries per form: one number for all
#' projects, or a named vector by slug.
#' @noRd
server_load_projects <- function(entries = NULL) {
  catalogue <- server_catalogue()
  custom <- read_json_file(server_file("server", "custom-mappings.json"))
  projects <- lapply(seq_len(nrow(catalogue)), function(i) {
    row <- catalogue[i, ]
    project <- project_from_file(server_file("projects", row$file))
    project$client_id <- row$client_id
    project$client_secret <- row$client_secret
    project$n_entries <- entries_for(entries, project$slug, row$entries)
    project$mappings <- with_custom_mappings(project$mappings, custom[[project$slug]])
    project
  })
  stats::setNames(projects, vapply(projects, `[[`, "", "slug"))
}

entries_for <- function(entries, slug, default) {
  if (is.null(entries)) {
    return(default)
  }
  if (is.null(names(entries))) {
    return(as.integer(entries[[1]]))
  }
  if (slug %in% names(entries)) as.integer(entries[[slug]]) else default
}

# A project from a shipped file. The files come in three shapes (formbuilder
# test projects, an E2 export, the mobile app's /api/project response); all
# hold `data.project`, and the last two a real `meta.project_mapping`.
project_from_file <- function(path) {
  json <- read_json_file(path)
  definition <- json$data$project
  # The controller adds these two on every export; they are not stored.
  created <- definition$created_at
  definition$created_at <- NULL
  definition$homepage <- NULL
  definition <- definition_defaults(definition)
  times <- ref_times(definition)
  mappings <- json$meta$project_mapping
  stats <- json$meta$project_stats
  list(
    ref = definition$ref,
    slug = definition$slug,
    name = definition$name,
    access = definition$access,
    status = definition$status,
    definition = definition,
    mappings = if (length(mappings)) unname(mappings) else list(mapping_auto(definition)),
    created_at = if (is.null(created)) min(times) else mysql_seconds(created),
    structure_updated = if (is.null(stats)) max(times) else mysql_seconds(stats$structure_last_updated),
    logo = nzchar(definition$logo_url %||% "")
  )
}

# The keys every exported project carries (SPEC section 5.2); the formbuilder
# test files lack some of them.
definition_defaults <- function(definition) {
  defaults <- list(
    category = "general", visibility = "hidden", description = "",
    entries_limits = list(), logo_url = ""
  )
  missing <- setdiff(names(defaults), names(definition))
  c(definition, defaults[missing])
}

# Refs end in PHP uniqid() values, whose first 8 hex digits are the creation
# time in seconds: they date a definition that carries no timestamps.
ref_times <- function(definition) {
  refs <- unlist(lapply(definition$forms, function(form) {
    c(form$ref, input_refs(form$inputs))
  }))
  hex <- substr(sub("^.*_", "", refs), 1L, 8L)
  as.numeric(strtoi(hex, 16L))
}

input_refs <- function(inputs) {
  unlist(lapply(inputs, function(input) {
    c(input$ref, input_refs(input$group), input_refs(input$branch))
  }))
}

mysql_seconds <- function(text) {
  as.numeric(as.POSIXct(text, tz = "UTC", format = "%Y-%m-%d %H:%M:%S"))
}

`%||%` <- function(x, y) if (is.null(x)) y else x

# --- definitions ----------------------------------------------------------------

project_form <- function(project, form_ref) {
  for (form in project$definition$forms) {
    if (identical(form$ref, form_ref)) return(form)
  }
  NULL
}

form_refs <- function(project) {
  vapply(project$definition$forms, `[[`, "", "ref")
}

# The branch inputs at the top level of a form (branches cannot nest).
form_branches <- function(form) {
  Filter(function(input) identical(input$type, "branch"), form$inputs)
}

find_input <- function(inputs, ref) {
  for (input in inputs) {
    if (identical(input$ref, ref)) return(input)
    found <- find_input(c(input$group, input$branch), ref)
    if (!is.null(found)) return(found)
  }
  NULL
}

# The inputs of a form or branch with each group replaced by its children,
# as DataMappingService::getInputsFlattened() lists them.
flatten_inputs <- function(inputs) {
  unlist(lapply(inputs, function(input) {
    if (identical(input$type, "group")) input$group else list(input)
  }), recursive = FALSE)
}

# --- mappings --------------------------------------------------------------------

#' The EC5_AUTO mapping of a definition (SPEC section 4.1)
#'
#' One counter runs through all forms, groups and branches (readme skipped);
#' the name is the trimmed question with the counter prefixed, spaces turned
#' into `_`, bytes outside `[A-Za-z0-9_]` removed, cut to 20 bytes.
#' @noRd
mapping_auto <- function(definition) {
  counter <- 0L
  map_inputs <- function(inputs) {
    out <- list()
    for (input in inputs) {
      if (identical(input$type, "readme")) next
      counter <<- counter + 1L
      # The input takes its number before its group or branch children do.
      map_to <- auto_map_to(counter, input$question)
      out[[input$ref]] <- list(
        hide = FALSE,
        group = map_inputs(input$group),
        branch = map_inputs(input$branch),
        map_to = map_to,
        possible_answers = map_answers(input$possible_answers)
      )
    }
    out
  }
  forms <- list()
  for (form in definition$forms) {
    forms[[form$ref]] <- map_inputs(form$inputs)
  }
  list(name = "EC5_AUTO", forms = forms, map_index = 0L, is_default = TRUE)
}

auto_map_to <- function(index, question) {
  name <- paste0(index, "_", gsub("^[ \t\n\r\v]+|[ \t\n\r\v]+$", "", question))
  name <- gsub(" +", "_", name)
  name <- gsub("[^A-Za-z0-9_]", "", name, useBytes = TRUE)
  substr(name, 1L, 20L)
}

map_answers <- function(answers) {
  out <- list()
  for (answer in answers) {
    out[[answer$answer_ref]] <- list(map_to = answer$answer)
  }
  out
}

#' A custom mapping: EC5_AUTO with renamed, hidden and relabelled entries
#'
#' `spec` holds `name`, `map_index`, `is_default`, `map_to` (input ref ->
#' name), `hide` (input refs) and `answers` (answer ref -> label).
#' @noRd
mapping_custom <- function(spec, auto) {
  edit <- function(map) {
    for (ref in names(map)) {
      entry <- map[[ref]]
      if (!is.null(spec$map_to[[ref]])) entry$map_to <- spec$map_to[[ref]]
      if (ref %in% unlist(spec$hide)) entry$hide <- TRUE
      for (answer in intersect(names(entry$possible_answers), names(spec$answers))) {
        entry$possible_answers[[answer]]$map_to <- spec$answers[[answer]]
      }
      entry$group <- edit(entry$group)
      entry$branch <- edit(entry$branch)
      map[[ref]] <- entry
    }
    map
  }
  list(
    name = spec$name,
    forms = lapply(auto$forms, edit),
    map_index = as.integer(spec$map_index),
    is_default = isTRUE(spec$is_default)
  )
}

# Adds custom mappings; one made the default takes that role from EC5_AUTO,
# so that exactly one mapping is the default.
with_custom_mappings <- function(mappings, specs) {
  customs <- lapply(specs, mapping_custom, auto = mappings[[1]])
  if (any(vapply(customs, `[[`, TRUE, "is_default"))) {
    mappings <- lapply(mappings, function(m) utils::modifyList(m, list(is_default = FALSE)))
  }
  c(mappings, customs)
}

map_indexes <- function(project) {
  vapply(project$mappings, function(m) as.integer(m$map_index), 1L)
}

# Legacy rows may hold several defaults; the server keeps the first.
default_map_index <- function(project) {
  defaults <- vapply(project$mappings, function(m) isTRUE(m$is_default), TRUE)
  if (any(defaults)) map_indexes(project)[which(defaults)[1]] else 0L
}

project_mapping <- function(project, map_index) {
  project$mappings[[match(as.integer(map_index), map_indexes(project))]]
}

#' The export columns of a form or branch under a mapping
#'
#' One row per exported question, in export order: `ref`, `type`, `map_to`,
#' `format` (datetime_format or NA) and `labels` (list of named character:
#' answer ref -> mapped label). Hidden questions and readme are left out, as
#' DataMappingService::setupMapping() leaves them out.
#' @noRd
mapping_plan <- function(project, form_ref, branch_ref = "", map_index) {
  map <- project_mapping(project, map_index)$forms[[form_ref]]
  if (is.null(map)) {
    map <- project$mappings[[1]]$forms[[form_ref]]
  }
  form <- project_form(project, form_ref)
  inputs <- form$inputs
  if (nzchar(branch_ref)) {
    inputs <- find_input(form$inputs, branch_ref)$branch
    map <- map[[branch_ref]]$branch
  }
  for (entry in map) {
    if (length(entry$group)) map <- c(map, entry$group)
  }
  rows <- lapply(flatten_inputs(inputs), function(input) {
    entry <- map[[input$ref]]
    if (is.null(entry) || isTRUE(entry$hide) || !nzchar(entry$map_to %||% "")) {
      return(NULL)
    }
    labels <- vapply(entry$possible_answers, function(a) as.character(a$map_to), "")
    list(
      ref = input$ref, type = input$type, map_to = entry$map_to,
      format = input$datetime_format %||% NA_character_, labels = labels
    )
  })
  rows <- Filter(Negate(is.null), rows)
  data.frame(
    ref = vapply(rows, `[[`, "", "ref"),
    type = vapply(rows, `[[`, "", "type"),
    map_to = vapply(rows, `[[`, "", "map_to"),
    format = vapply(rows, function(r) as.character(r$format), ""),
    labels = I(lapply(rows, `[[`, "labels")),
    stringsAsFactors = FALSE
  )
}

# --- generated entries -------------------------------------------------------------

#' The stored entries of a project: one row per entry or branch entry
#'
#' Columns: `id` (insertion order), `kind` ("entry"/"branch"), `uuid`,
#' `form_ref`, `branch_ref` (owner input ref; "" for entries),
#' `parent_uuid`, `parent_form_ref`, `owner_uuid`, `created` (seconds, with
#' milliseconds), `created_iso` (as stored in the entry JSON), `uploaded`
#' (whole seconds), `title`, `user` (uploader e-mail or "n/a"), `answers`
#' (list: input ref -> list(answer, was_jumped)). Deterministic for a seed.
#' @noRd
generate_store <- function(project, seed) {
  with_seed(seed + slug_hash(project$slug), {
    forms <- project$definition$forms
    start <- project$structure_updated + 86400
    rows <- list()
    parents <- NULL
    for (i in seq_along(forms)) {
      form <- rows_for_form(project, forms[[i]], parents, start, project$n_entries)
      parents <- form$entries
      rows <- c(rows, list(form$entries), form$branches)
    }
    store <- do.call(rbind, rows)
    store$id <- seq_len(nrow(store))
    store
  })
}

with_seed <- function(seed, code) {
  old <- if (exists(".Random.seed", globalenv())) get(".Random.seed", globalenv())
  on.exit(if (is.null(old)) rm(".Random.seed", envir = globalenv()) else
    assign(".Random.seed", old, globalenv()))
  set.seed(seed)
  code
}

slug_hash <- function(slug) {
  sum(utf8ToInt(slug) * seq_along(utf8ToInt(slug))) %% 100000L
}

rows_for_form <- function(project, form, parents, start, n) {
  if (is.null(parents)) {
    created <- start + sort(stats::runif(n, 0, 120 * 86400))
    parent <- rep("", n)
  } else {
    # Some parents get no children, some several.
    pick <- sample(nrow(parents), n, replace = TRUE)
    created <- parents$created[pick] + stats::runif(n, 60, 7 * 86400)
    parent <- parents$uuid[pick]
  }
  uploaded <- upload_batches(created)
  entries <- new_rows(project, form$inputs, "entry", form$ref, created, uploaded)
  entries$parent_uuid <- parent
  entries$parent_form_ref <- if (is.null(parents)) "" else parents$form_ref[1]
  branches <- lapply(form_branches(form), function(branch) {
    rows_for_branch(project, form$ref, branch, entries)
  })
  list(entries = entries, branches = branches)
}

# Entries reach the server in bulk uploads: a few at a time, all stamped with
# the same second. That gives the uploaded_at ties clients must handle.
upload_batches <- function(created) {
  order <- order(created)
  batch <- cumsum(stats::runif(length(created)) < 0.45)
  uploaded <- numeric(length(created))
  last <- tapply(created[order], batch, max)
  uploaded[order] <- floor(last[as.character(batch)] + stats::runif(1, 30, 3 * 86400))
  uploaded
}

rows_for_branch <- function(project, form_ref, branch, owners) {
  answered <- vapply(owners$answers, function(a) !isTRUE(a[[branch$ref]]$was_jumped), TRUE)
  counts <- ifelse(answered, sample(0:3, nrow(owners), replace = TRUE, prob = c(3, 3, 2, 1)), 0L)
  owner <- rep(seq_len(nrow(owners)), counts)
  created <- owners$created[owner] + stats::runif(length(owner), 5, 3600)
  rows <- new_rows(project, branch$branch, "branch", form_ref, created, owners$uploaded[owner])
  rows$branch_ref <- rep(branch$ref, nrow(rows))
  rows$owner_uuid <- owners$uuid[owner]
  rows
}

new_rows <- function(project, inputs, kind, form_ref, created, uploaded) {
  n <- length(created)
  millis <- ifelse(stats::runif(n) < 0.5, 0L, sample(1:999, n, replace = TRUE))
  created <- floor(created) + millis / 1000
  uuid <- random_uuid(n)
  answers <- lapply(seq_len(n), function(i) {
    generate_answers(inputs, list(uuid = uuid[i], created = created[i]))
  })
  users <- c("user1@example.org", "user2@example.org", "user3@example.org", "n/a")
  blank <- rep("", n)
  data.frame(
    id = integer(n), kind = rep(kind, n), uuid = uuid, form_ref = rep(form_ref, n),
    branch_ref = blank, parent_uuid = blank, parent_form_ref = blank, owner_uuid = blank,
    created = created, created_iso = iso_time(created, millis),
    uploaded = uploaded,
    title = entry_titles(inputs, answers, uuid),
    user = if (identical(project$access, "private")) sample(users, n, TRUE) else blank,
    answers = I(answers),
    stringsAsFactors = FALSE
  )
}

random_uuid <- function(n) {
  if (n == 0L) {
    return(character())
  }
  hex <- function(k) {
    vapply(seq_len(n), function(i) paste(sample(c(0:9, letters[1:6]), k, TRUE), collapse = ""), "")
  }
  paste0(hex(8), "-", hex(4), "-4", hex(3), "-", sample(c("8", "9", "a", "b"), n, TRUE), hex(3), "-", hex(12))
}

#' Raw answers for one entry of a form or branch, following its jumps
#'
#' Jumps are honoured in three entries out of four: the rest stand for
#' entries uploaded before the jumps were added to the form, which real
#' projects hold too (and the formbuilder test projects jump from their first
#' question to the end, which would leave every other answer empty).
#' @noRd
generate_answers <- function(inputs, ctx) {
  honour_jumps <- stats::runif(1) < 0.75
  answers <- list()
  skip_to <- NULL
  for (input in inputs) {
    if (identical(input$type, "readme")) next
    if (!is.null(skip_to) && !identical(input$ref, skip_to)) {
      answers <- c(answers, jumped_answers(input))
      next
    }
    skip_to <- NULL
    if (identical(input$type, "group")) {
      answers <- c(answers, generate_answers(input$group, ctx))
      next
    }
    value <- generate_answer(input, ctx)
    answers[[input$ref]] <- list(answer = value, was_jumped = FALSE)
    if (honour_jumps) skip_to <- jump_target(input, value)
  }
  answers
}

jumped_answers <- function(input) {
  if (identical(input$type, "group")) {
    return(unlist(lapply(input$group, jumped_answers), recursive = FALSE))
  }
  stats::setNames(list(list(answer = empty_answer(input$type), was_jumped = TRUE)), input$ref)
}

# The target of the first jump whose condition holds, or NULL.
jump_target <- function(input, value) {
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

empty_answer <- function(type) {
  switch(type,
    checkbox = , searchsingle = , searchmultiple = list(),
    location = list(latitude = "", longitude = "", accuracy = ""),
    ""
  )
}

# One stored answer, in the shapes the upload validators keep (SPEC 4.2):
# choice refs, ISO dates, numbers as text or numbers, media file names.
generate_answer <- function(input, ctx) {
  type <- input$type
  if (type == "branch") {
    return("")
  }
  if (stats::runif(1) < 0.08) {
    return(empty_answer(type))
  }
  switch(type,
    text = pick_text(),
    textarea = paste(pick_text(), pick_text(), sep = sample(c("\n", "\r\n"), 1)),
    phone = pick(list("+44 20 7946 0958", "07700 900123", "(555) 010-0199",
                      php_number("4402079460958"), "+52 55 1234 5678")),
    barcode = pick(list("9783161484100", "012345678905", "QR:https://five.epicollect.net/",
                        "BEGIN:VCARD\nVERSION:3.0\nN:Doe;Jane\nEND:VCARD\n")),
    integer = generate_integer(input),
    decimal = generate_decimal(),
    date = sprintf("%s-%02d-%02dT00:00:00.000", sample(1950:2024, 1), sample(1:12, 1), sample(1:28, 1)),
    time = sprintf("1970-01-01T%02d:%02d:%02d.000", sample(0:23, 1), sample(0:59, 1), sample(0:59, 1)),
    radio = , dropdown = unlist(generate_choices(input, 1L, 1L)),
    checkbox = , searchmultiple = generate_choices(input, 0L, 3L),
    searchsingle = generate_choices(input, 1L, 1L),
    location = generate_location(),
    photo = media_file_name(ctx, "jpg"),
    audio = media_file_name(ctx, sample(c("mp4", "mp4", "wav"), 1)),
    video = media_file_name(ctx, "mp4"),
    ""
  )
}

pick <- function(x) x[[sample(length(x), 1)]]

# Mostly plain words; sometimes the characters that break naive clients:
# non-BMP emoji, typographic quotes, separators, backslashes, look-alikes.
pick_text <- function() {
  if (stats::runif(1) < 0.6) {
    return(paste(pick(c("North", "South", "Old", "New", "Upper", "River")),
                 pick(c("plot", "transect", "site", "field", "garden")),
                 sample(1:99, 1)))
  }
  pick(c(
    "Zo\u00eb", "S\u00e3o Paulo", "Krak\u00f3w", "\u6771\u4eac", "na\u00efve caf\u00e9",
    "bee \U0001F41D", "\U0001D518\U0001D52B\U0001D526", "O\u2019Brien",
    "quote \"inside\"", "back\\slash", "comma, separated", "semi;colon",
    "tab\tinside", "slash/path", "\ufe65 95", "x < y & z > w", "  padded  "
  ))
}

generate_integer <- function(input) {
  if (stats::runif(1) < 0.06) {
    return(pick(list("3000000000", "-2147483649", "9007199254740993", "99999999999999999999")))
  }
  low <- suppressWarnings(as.integer(input$min %||% NA))
  high <- suppressWarnings(as.integer(input$max %||% NA))
  value <- sample(seq(if (is.na(low)) 0L else low, if (is.na(high)) 120L else high), 1)
  # Uploads store text; bulk uploads and old rows store numbers.
  if (stats::runif(1) < 0.25) value else as.character(value)
}

generate_decimal <- function() {
  value <- round(stats::runif(1, -50, 500), sample(0:6, 1))
  # iOS sends decimals as text, with trailing zeros.
  if (stats::runif(1) < 0.2) sprintf("%.2f", value) else value
}

generate_choices <- function(input, min, max) {
  refs <- vapply(input$possible_answers, `[[`, "", "answer_ref")
  size <- sample(seq(min, min(max, length(refs))), 1)
  chosen <- as.list(sample(refs, size))
  # An answer deleted from the form after upload exports as "".
  if (length(chosen) && stats::runif(1) < 0.04) chosen[[1]] <- "5a0000000dead"
  chosen
}

location_centres <- list(
  c(51.5246, -0.1340), c(-42.9307, -71.3641), c(20.7453, 78.6022),
  c(19.4326, -99.1332), c(78.2232, 15.6267), c(-1.2921, 36.8219)
)

generate_location <- function() {
  if (stats::runif(1) < 0.05) {
    # On the equator: the server leaves UTM empty because it tests lat as a boolean.
    return(list(latitude = 0L, longitude = round(stats::runif(1, 30, 40), 6), accuracy = 12L))
  }
  centre <- pick(location_centres)
  list(
    latitude = round(centre[1] + stats::runif(1, -0.05, 0.05), 6),
    longitude = round(centre[2] + stats::runif(1, -0.05, 0.05), 6),
    accuracy = sample(3:65, 1)
  )
}

media_file_name <- function(ctx, extension) {
  sprintf("%s_%d.%s", ctx$uuid, as.integer(floor(ctx$created)), extension)
}

#' Entry titles as the app builds them: up to 3 title questions joined by a
#' space, or the uuid when none is answered
#' @noRd
entry_titles <- function(inputs, answers, uuid) {
  title_inputs <- Filter(function(input) isTRUE(input$is_title), flatten_inputs(inputs))
  title_inputs <- utils::head(title_inputs, 3L)
  titles <- vapply(answers, function(a) {
    parts <- vapply(title_inputs, function(input) title_part(input, a[[input$ref]]$answer), "")
    paste(parts[nzchar(parts)], collapse = " ")
  }, "")
  ifelse(nzchar(titles), titles, uuid)
}

title_part <- function(input, value) {
  if (is.null(value) || is.list(value)) {
    return("")
  }
  if (input$type %in% c("date", "time")) {
    return(php_date(value, input$datetime_format %||% NA))
  }
  if (input$type %in% c("radio", "dropdown")) {
    labels <- map_answers(input$possible_answers)
    return(labels[[value]]$map_to %||% "")
  }
  php_value_string(value)
}

# --- statistics ---------------------------------------------------------------------

# meta.project_stats of E2 (SPEC section 5.1), in the server's key order.
project_stats <- function(project, store) {
  counts <- function(rows, key) {
    groups <- split(rows$created, rows[[key]])
    if (!length(groups)) {
      return(list())
    }
    lapply(groups, function(created) list(
      count = length(created),
      first_entry_created = mysql_time(min(created)),
      last_entry_created = mysql_time(max(created))
    ))
  }
  entries <- store[store$kind == "entry", ]
  list(
    total_entries = nrow(entries),
    total_files = 0L,
    total_bytes = 0L,
    form_counts = counts(entries, "form_ref"),
    branch_counts = counts(store[store$kind == "branch", ], "branch_ref"),
    structure_last_updated = mysql_time(project$structure_updated)
  )
}

#' Object keys in MySQL JSON order (length, then bytes), recursively
#'
#' Definitions and mappings come from MySQL JSON columns, so the server emits
#' their keys in this order (SPEC section 1).
#' @noRd
mysql_key_order <- function(x) {
  if (!is.list(x)) {
    return(x)
  }
  x <- lapply(x, mysql_key_order)
  if (!is.null(names(x))) {
    keys <- names(x)
    x <- x[order(nchar(keys, type = "bytes"), vapply(keys, function(k) {
      paste(sprintf("%02x", as.integer(charToRaw(k))), collapse = "")
    }, ""))]
  }
  x
}

# --- export ---------------------------------------------------------------------------

#' Mapped entries as JSON objects, one string per row (SPEC sections 3.4, 4)
#'
#' `ctx` holds `mode` ("form"/"branch"), `top` (the first form?), `private`,
#' `slug`, `base_url` (for public media URLs) and `branch_counts` (named
#' integer, "owner uuid|branch ref" -> count).
#' @noRd
export_json <- function(rows, plan, ctx) {
  if (!nrow(rows)) {
    return(character())
  }
  system <- system_values(rows, ctx)
  columns <- c(
    lapply(system, php_json_string),
    lapply(seq_len(nrow(plan)), function(i) json_column(plan[i, ], rows, ctx))
  )
  keys <- c(names(system), plan$map_to)
  # A custom map_to equal to a system key overwrites it in place, as PHP
  # array assignment does.
  last <- !duplicated(keys, fromLast = TRUE)
  first <- match(keys, keys)
  columns[first[last]] <- columns[last]
  keep <- !duplicated(keys)
  parts <- Map(function(key, values) paste0(php_json_string(key), ":", values),
               keys[keep], columns[keep])
  paste0("{", do.call(paste, c(unname(parts), sep = ",")), "}")
}

#' Mapped entries as a CSV body written by fputcsv (SPEC sections 3.6, 4.4)
#' @noRd
export_csv <- function(rows, plan, ctx, headers = TRUE) {
  system <- system_values(rows, ctx)
  cells <- c(system, unlist(lapply(seq_len(nrow(plan)), function(i) {
    csv_columns(plan[i, ], rows, ctx)
  }), recursive = FALSE))
  header <- c(names(system), unlist(lapply(seq_len(nrow(plan)), function(i) {
    if (plan$type[i] == "location") location_names(plan$map_to[i]) else plan$map_to[i]
  })))
  body <- php_fputcsv(do.call(cbind, lapply(cells, as.character)))
  paste(c(if (headers) php_fputcsv(matrix(header, nrow = 1L)), if (nrow(rows)) body), collapse = "")
}

location_names <- function(name) {
  paste0(c("lat_", "long_", "accuracy_", "UTM_Northing_", "UTM_Easting_", "UTM_Zone_"), name)
}

# The system fields of mapped entries, in the server's emission order.
system_values <- function(rows, ctx) {
  out <- if (ctx$mode == "branch") {
    list(ec5_branch_owner_uuid = rows$owner_uuid, ec5_branch_uuid = rows$uuid)
  } else if (ctx$top) {
    list(ec5_uuid = rows$uuid)
  } else {
    list(ec5_uuid = rows$uuid, ec5_parent_uuid = rows$parent_uuid)
  }
  out$created_at <- rows$created_iso
  out$uploaded_at <- iso_time(rows$uploaded)
  if (ctx$private) {
    out$created_by <- ifelse(nzchar(rows$user), rows$user, "n/a")
  }
  out$title <- rows$title
  out
}

answer_column <- function(rows, ref) {
  lapply(rows$answers, function(a) {
    value <- a[[ref]]$answer
    if (is.null(value)) "" else value
  })
}

is_blank <- function(values) {
  vapply(values, function(v) is.character(v) && length(v) == 1L && identical(v, ""), TRUE)
}

as_text_value <- function(values) {
  vapply(values, function(v) if (is.character(v) && length(v) == 1L) v else "", "")
}

# Answers as JSON tokens, one per row (DataMappingService::parseAnswer).
json_column <- function(column, rows, ctx) {
  values <- answer_column(rows, column$ref)
  switch(column$type,
    integer = ifelse(is_blank(values), "\"\"", vapply(values, php_int_text, "")),
    decimal = ifelse(is_blank(values), "\"\"", php_float_json(php_floatval(values))),
    date = , time = php_json_string(php_date(as_text_value(values), column$format)),
    radio = , dropdown = php_json_string(choice_labels(values, column$labels[[1]])),
    checkbox = , searchsingle = , searchmultiple = vapply(values, function(v) {
      php_json(as.list(unname(multi_labels(v, column$labels[[1]]))))
    }, ""),
    location = vapply(values, function(v) php_json(location_parts(v)), ""),
    photo = , audio = , video = php_json_string(media_values(values, column$type, rows, ctx)),
    branch = as.character(branch_count(rows, column$ref, ctx)),
    vapply(values, php_json, "")
  )
}

# Answers as CSV cells: a list of character vectors (six for a location).
csv_columns <- function(column, rows, ctx) {
  values <- answer_column(rows, column$ref)
  blank <- is_blank(values)
  switch(column$type,
    integer = list(ifelse(blank, "", vapply(values, php_int_text, ""))),
    decimal = list(ifelse(blank, "", php_float_string(php_floatval(values)))),
    date = , time = list(php_date(as_text_value(values), column$format)),
    radio = , dropdown = list(choice_labels(values, column$labels[[1]])),
    checkbox = , searchsingle = , searchmultiple = list(vapply(values, function(v) {
      labels <- multi_labels(v, column$labels[[1]])
      labels <- ifelse(grepl(",", labels, fixed = TRUE), paste0("\"", labels, "\""), labels)
      paste(labels, collapse = ", ")
    }, "")),
    location = {
      parts <- lapply(values, function(v) vapply(location_parts(v), php_value_string, ""))
      lapply(1:6, function(k) vapply(parts, `[[`, "", k))
    },
    photo = , audio = , video = list(media_values(values, column$type, rows, ctx)),
    branch = list(as.character(branch_count(rows, column$ref, ctx))),
    list(vapply(values, php_value_string, ""))
  )
}

#' A stored scalar as PHP's string conversion writes it (fputcsv cells)
#' @noRd
php_value_string <- function(value) {
  if (is.null(value) || !length(value)) {
    return("")
  }
  if (inherits(value, "php_number")) {
    return(unclass(value))
  }
  if (is.logical(value)) {
    return(if (isTRUE(value)) "1" else "")
  }
  if (is.double(value)) {
    return(php_float_string(value))
  }
  as.character(value)
}

# PHP floatval(): the numeric prefix of a string, 0 without one.
php_floatval <- function(values) {
  vapply(values, function(v) {
    if (inherits(v, "php_number")) v <- unclass(v)
    if (is.numeric(v)) return(as.numeric(v))
    prefix <- regmatches(v, regexpr("^\\s*[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?", v))
    if (length(prefix)) as.numeric(prefix) else 0
  }, 0)
}

choice_labels <- function(values, labels) {
  refs <- as_text_value(values)
  out <- unname(labels[refs])
  out[is.na(out)] <- ""
  out
}

multi_labels <- function(value, labels) {
  if (!is.list(value) && !(is.character(value) && length(value) != 1L)) {
    return(character())
  }
  refs <- vapply(value, function(v) if (is.character(v)) v else "", "")
  out <- unname(labels[refs])
  out[is.na(out)] <- ""
  out
}

# The six location values, or all "" when the answer is not an object (the
# server's conversion throws and falls back). UTM stays "" unless latitude
# and longitude are both truthy, so a point on the equator has no UTM.
location_parts <- function(v) {
  keys <- c("latitude", "longitude", "accuracy", "UTM_Northing", "UTM_Easting", "UTM_Zone")
  if (!is.list(v) || is.null(names(v))) {
    return(stats::setNames(as.list(rep("", 6)), keys))
  }
  lat <- v$latitude %||% ""
  long <- v$longitude %||% ""
  utm <- list("", "", "")
  if (php_truthy(lat) && php_truthy(long)) {
    u <- utm_from_latlong(as.numeric(lat), as.numeric(long))
    utm <- list(php_number(php_int_from_double(u$northing)),
                php_number(php_int_from_double(u$easting)), u$zone)
  }
  stats::setNames(c(list(lat, long, v$accuracy %||% ""), utm), keys)
}

# Public projects get E7 URLs with a version; private ones the bare file name.
media_values <- function(values, type, rows, ctx) {
  files <- as_text_value(values)
  if (ctx$private) {
    return(files)
  }
  format <- c(photo = "entry_original", audio = "audio", video = "video")[[type]]
  urls <- sprintf("%s/api/media/%s?type=%s&format=%s&name=%s&v=%s", ctx$base_url, ctx$slug,
                  type, format, files, php_int_from_double(rows$uploaded))
  ifelse(nzchar(files) & files != "0", urls, files)
}

branch_count <- function(rows, branch_ref, ctx) {
  counts <- ctx$branch_counts[paste(rows$uuid, branch_ref, sep = "|")]
  counts[is.na(counts)] <- 0L
  as.integer(counts)
}

#' Branch entries per owner and branch, keyed "owner uuid|branch ref"
#' @noRd
branch_counts <- function(store) {
  branches <- store[store$kind == "branch", ]
  counts <- table(paste(branches$owner_uuid, branches$branch_ref, sep = "|"))
  stats::setNames(as.integer(counts), names(counts))
}
