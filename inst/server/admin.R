# The admin API of the local Epicollect5 server (under /_test/, never logged
# or throttled): the request log, reset, faults, maintenance, project changes,
# runtime entry edits and the stored entries. inst/server/app.R lists the
# routes.

srv_admin_respond <- function(req, state) {
  body <- srv_admin_body(req)
  path <- sub("^/_test", "", req$path)
  method <- req$method
  segments <- strsplit(sub("^/", "", path), "/", fixed = TRUE)[[1]]
  resource <- segments[1]
  slug <- if (length(segments) > 1) segments[2] else ""
  switch(paste(method, resource),
    "get log" = srv_data_response(state$log),
    "post reset" = {
      srv_reset(state)
      srv_data_response(list(reset = TRUE))
    },
    "get faults" = srv_data_response(state$faults),
    "post faults" = srv_add_fault(state, body),
    "delete faults" = {
      state$faults <- list()
      srv_data_response(list())
    },
    "post maintenance" = {
      state$maintenance <- isTRUE(body$on)
      srv_data_response(list(maintenance = state$maintenance))
    },
    "post projects" = srv_admin_project(state, slug, body),
    "post entries" = srv_admin_entries(state, slug, body),
    "post schedule" = srv_admin_schedule(state, slug, body),
    "delete schedule" = {
      state$schedule <- list()
      srv_data_response(list())
    },
    "get entries" = srv_admin_raw_entries(state, slug, req$query),
    "post tokens" = {
      state$tokens$expires <- rep(floor(as.numeric(Sys.time())), nrow(state$tokens))
      srv_data_response(list(expired = nrow(state$tokens)))
    },
    srv_error_response(404L, "ec5_219", "admin")
  )
}

srv_admin_body <- function(req) {
  body <- req$.body
  if (is.null(body) || !length(body)) {
    return(list())
  }
  tryCatch(jsonlite::fromJSON(rawToChar(body), simplifyVector = FALSE), error = function(e) list())
}

srv_admin_hosted <- function(state, slug) {
  slug %in% names(srv_projects(state))
}

# Changes a project as its owner would: status (e.g. "trashed"), access, or a
# new structure version (as when a form is edited).
srv_admin_project <- function(state, slug, body) {
  if (!srv_admin_hosted(state, slug)) {
    return(srv_error_response(404L, "ec5_11", "admin"))
  }
  project <- state$projects[[slug]]
  if (!is.null(body$status)) project$status <- body$status
  if (!is.null(body$access)) project$access <- body$access
  if (isTRUE(body$bump_version)) {
    project$structure_updated <- max(floor(as.numeric(Sys.time())), project$structure_updated + 1)
  }
  state$projects[[slug]] <- project
  srv_data_response(list(
    slug = slug, status = project$status, access = project$access,
    structure_last_updated = srv_mysql_time(project$structure_updated)
  ))
}

# Add, edit or delete stored entries at run time (as uploads would)
#
# `add`: `form_ref` (default the first form), `branch_ref` with
# `owner_uuid`, `parent_uuid`, `answers` (input ref -> raw answer), `title`;
# missing answers are generated. `edit`: `uuid`, `answers`, `title`. Both
# stamp `uploaded_at` with now (or `uploaded_at`, seconds). `delete`: `uuid`,
# with its child entries and branch entries, as the server deletes.
srv_admin_entries <- function(state, slug, body) {
  if (!srv_admin_hosted(state, slug)) {
    return(srv_error_response(404L, "ec5_11", "admin"))
  }
  store <- srv_change_entries(state, slug, body)
  if (is.null(store)) {
    return(srv_error_response(400L, "ec5_29", "action"))
  }
  row <- store[store$uuid %in% (body$uuid %||% store$uuid[nrow(store)]), ]
  srv_data_response(list(
    uuid = if (nrow(row)) row$uuid[1] else body$uuid,
    uploaded_at = if (nrow(row)) srv_iso_time(row$uploaded[1]) else NULL,
    deleted = body$action == "delete"
  ))
}

# One change of srv_admin_entries() (or of a schedule): the new store, kept by
# the server, or NULL for an unknown action or entry. `bulk` adds `n`
# entries stamped with one second, as a bulk upload does.
srv_change_entries <- function(state, slug, body) {
  store <- srv_store(state, slug)
  project <- state$projects[[slug]]
  state$edits <- state$edits + 1L
  uploaded <- floor(as.numeric(body$uploaded_at %||% Sys.time()))
  seed <- state$config$seed + state$edits
  store <- switch(body$action %||% "",
    add = srv_admin_add_entry(project, store, body, uploaded, seed),
    bulk = srv_admin_add_entry(project, store, body, uploaded, seed, n = as.integer(body$n %||% 1L)),
    edit = srv_admin_edit_entry(project, store, body, uploaded),
    delete = store[!store$uuid %in% srv_entry_family(store, body$uuid %||% ""), ],
    NULL
  )
  if (!is.null(store)) state$stores[[slug]] <- store
  store
}

# Changes to apply between two entries requests of one fetch
#
# `after`: the changes (a list of srv_admin_entries() bodies) are applied once
# the server has answered that many more entries requests for the project,
# so a test can edit, delete and add entries between two pages.
srv_admin_schedule <- function(state, slug, body) {
  if (!srv_admin_hosted(state, slug)) {
    return(srv_error_response(404L, "ec5_11", "admin"))
  }
  served <- state$served[[slug]] %||% 0L
  item <- list(slug = slug, at = served + as.integer(body$after %||% 1L), changes = body$changes)
  state$schedule[[length(state$schedule) + 1L]] <- item
  srv_data_response(list(slug = slug, at = item$at, changes = length(item$changes)))
}

# Counts an answered entries request of a project and applies the changes
# scheduled after it.
srv_run_schedule <- function(state, slug) {
  state$served[[slug]] <- (state$served[[slug]] %||% 0L) + 1L
  due <- vapply(state$schedule, function(item) {
    identical(item$slug, slug) && item$at <= state$served[[slug]]
  }, logical(1))
  for (item in state$schedule[due]) {
    for (change in item$changes) srv_change_entries(state, slug, change)
  }
  state$schedule <- state$schedule[!due]
}

srv_admin_add_entry <- function(project, store, body, uploaded, seed, n = 1L) {
  form_ref <- body$form_ref %||% srv_form_refs(project)[1]
  branch_ref <- body$branch_ref %||% ""
  form <- srv_project_form(project, form_ref)
  inputs <- if (nzchar(branch_ref)) srv_find_input(form$inputs, branch_ref)$branch else form$inputs
  row <- srv_with_seed(seed, srv_new_rows(
    project, inputs, if (nzchar(branch_ref)) "branch" else "entry", form_ref,
    created = rep(uploaded - 60, n), uploaded = rep(uploaded, n)
  ))
  if (!is.null(body$uuid)) row$uuid <- body$uuid
  if (nzchar(branch_ref)) {
    row$branch_ref <- branch_ref
    row$owner_uuid <- body$owner_uuid %||% store$uuid[store$kind == "entry" & store$form_ref == form_ref][1]
  } else if (!identical(form_ref, srv_form_refs(project)[1])) {
    parent_form <- srv_form_refs(project)[match(form_ref, srv_form_refs(project)) - 1L]
    row$parent_form_ref <- parent_form
    row$parent_uuid <- body$parent_uuid %||% store$uuid[store$kind == "entry" & store$form_ref == parent_form][1]
  }
  if (n == 1L) row <- srv_set_answers(row, inputs, body)
  row$id <- max(store$id) + seq_len(n)
  rbind(store, row)
}

srv_admin_edit_entry <- function(project, store, body, uploaded) {
  i <- match(body$uuid %||% "", store$uuid)
  if (is.na(i)) {
    return(NULL)
  }
  form <- srv_project_form(project, store$form_ref[i])
  inputs <- if (nzchar(store$branch_ref[i])) srv_find_input(form$inputs, store$branch_ref[i])$branch else form$inputs
  row <- srv_set_answers(store[i, ], inputs, body)
  row$uploaded <- uploaded
  store[i, ] <- row
  store
}

# Overrides answers (raw values by input ref) and recomputes the title.
srv_set_answers <- function(row, inputs, body) {
  answers <- row$answers[[1]]
  for (ref in names(body$answers)) {
    answers[[ref]] <- list(answer = body$answers[[ref]], was_jumped = FALSE)
  }
  row$answers[[1]] <- answers
  row$title <- body$title %||% srv_entry_titles(inputs, list(answers), row$uuid)
  row
}

# An entry with its descendants: child entries (recursively) and branch
# entries, which the server deletes with it.
srv_entry_family <- function(store, uuid) {
  family <- uuid
  repeat {
    more <- store$uuid[store$parent_uuid %in% family | store$owner_uuid %in% family]
    if (all(more %in% family)) break
    family <- union(family, more)
  }
  family
}

# Stored entries in the unmapped envelope of API-NOTES.md §4.5, for tests to
# compare exports with.
srv_admin_raw_entries <- function(state, slug, query) {
  if (!srv_admin_hosted(state, slug)) {
    return(srv_error_response(404L, "ec5_11", "admin"))
  }
  store <- srv_store(state, slug)
  project <- state$projects[[slug]]
  form_ref <- query$form_ref %||% srv_form_refs(project)[1]
  branch_ref <- query$branch_ref %||% ""
  rows <- store[store$form_ref == form_ref & store$branch_ref == branch_ref, ]
  envelopes <- lapply(seq_len(nrow(rows)), function(i) srv_raw_envelope(rows[i, ], project))
  srv_data_response(envelopes)
}

srv_raw_envelope <- function(row, project) {
  type <- if (row$kind == "branch") "branch_entry" else "entry"
  body <- list(
    entry_uuid = row$uuid, created_at = row$created_iso, title = row$title,
    answers = row$answers[[1]], project_version = srv_mysql_time(project$structure_updated),
    uploaded_at = srv_iso_time(row$uploaded)
  )
  stats::setNames(list(
    row$uuid, type, body,
    list(form = list(ref = row$form_ref, type = "hierarchy")),
    list(
      parent = list(data = list(parent_form_ref = row$parent_form_ref, parent_entry_uuid = row$parent_uuid)),
      branch = list(data = list(owner_input_ref = row$branch_ref, owner_entry_uuid = row$owner_uuid))
    )
  ), c("id", "type", type, "attributes", "relationships"))
}
