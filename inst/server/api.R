# The endpoints of the local Epicollect5 server (API-NOTES.md §3-§8). Each
# handler takes the request context built by srv_respond() (`req`,
# `state`, `params` from the route, `fault`, `base_url`) and returns a
# response list (`status`, `headers`, `body`).

# --- E1: entries ----------------------------------------------------------------------

# The query keys the server reads, in the order its links repeat them
# (config/epicollect/strings.php search_data_entries).
srv_entries_keys <- c(
  "form_ref", "parent_form_ref", "branch", "branch_ref", "branch_owner_uuid",
  "parent_uuid", "uuid", "input_ref", "per_page", "page", "sort_by", "sort_order",
  "map_index", "filter_by", "filter_from", "filter_to", "format", "headers", "title"
)

srv_api_entries <- function(ctx) {
  access <- srv_project_access(ctx, ctx$params[[1]])
  if (!is.null(access$response)) {
    return(access$response)
  }
  project <- access$project
  params <- srv_entries_params(ctx$req$query, project)
  invalid <- srv_entries_invalid(params, project, ctx$state$config$max_per_page)
  if (!is.null(invalid)) {
    return(invalid)
  }
  # The server validates input_ref, then reads a `search` parameter that
  # does not exist: a valid input_ref ends in a server error.
  if (nzchar(params$input_ref)) {
    return(srv_html_response(500L, "Server Error"))
  }
  store <- srv_store(ctx$state, project$slug)
  rows <- srv_entries_select(store, params)
  page <- srv_entries_page(rows, params)
  if (identical(ctx$fault$type, "drop_entry") && nrow(page$rows)) {
    page$rows <- page$rows[-ceiling(nrow(page$rows) / 2), ]
  }
  # Changes scheduled between two pages reach the store after this answer.
  on.exit(srv_run_schedule(ctx$state, project$slug))
  plan <- srv_mapping_plan(project, params$form_ref, params$branch_ref, params$map_index)
  export <- list(
    mode = if (nzchar(params$branch_ref)) "branch" else "form",
    top = identical(params$form_ref, srv_form_refs(project)[1]),
    private = identical(project$access, "private"),
    slug = project$slug,
    base_url = ctx$base_url,
    branch_counts = srv_branch_counts(store)
  )
  if (params$format == "csv") {
    body <- srv_export_csv(page$rows, plan, export, headers = params$headers == "true")
    return(list(status = 200L, headers = list("Content-Type" = "text/html; charset=UTF-8"), body = body))
  }
  srv_json_response(paste0(
    "{\"meta\":", srv_entries_meta(rows, page),
    ",\"data\":", srv_entries_data(project, params, srv_export_json(page$rows, plan, export)),
    ",\"links\":", srv_php_json(srv_entries_links(ctx, params, page)), "}"
  ))
}

srv_entries_data <- function(project, params, entries) {
  mapping <- srv_project_mapping(project, params$map_index)
  paste0(
    "{\"id\":", srv_php_json_string(project$slug), ",\"type\":\"entries\",\"entries\":[",
    paste(entries, collapse = ","), "]",
    # The server sets data.mapping inside its loop over entries.
    if (length(entries)) {
      paste0(",\"mapping\":", srv_php_json(list(map_name = mapping$name, map_index = mapping$map_index)))
    },
    "}"
  )
}

# The sanitised query of E1: every key, defaults filled in
# (EntriesViewService::getSanitizedQueryParams)
srv_entries_params <- function(query, project) {
  params <- lapply(srv_entries_keys, function(key) {
    values <- query[names(query) == key]
    if (length(values)) srv_valid_utf8(values[[length(values)]]) else ""
  })
  names(params) <- srv_entries_keys
  # PHP empty() is also true for "0": per_page=0 means 50, page=0 means 1.
  defaults <- list(sort_by = "created_at", sort_order = "DESC", per_page = 50L, page = 1L,
                   format = "json", headers = "true", form_ref = srv_form_refs(project)[1])
  for (key in names(defaults)) {
    if (params[[key]] %in% c("", "0")) params[[key]] <- defaults[[key]]
  }
  if (identical(params$map_index, "")) {
    params$map_index <- srv_default_map_index(project)
  }
  params
}

# The error response E1 gives for a query, or NULL when it is valid
#
# Rule errors come first, all of them, in rule order (RuleQueryString);
# then the first failing reference check; then map_index; then per_page.
srv_entries_invalid <- function(p, project, max_per_page = 1000) {
  rules <- srv_entries_rule_errors(p)
  if (length(rules)) {
    return(srv_error_response(400L, unlist(rules), names(rules)))
  }
  failed <- srv_entries_reference_error(p, project)
  if (length(failed)) {
    return(srv_error_response(400L, failed[["code"]], failed[["source"]]))
  }
  if (!as.numeric(p$map_index) %in% srv_map_indexes(project)) {
    return(srv_error_response(400L, "ec5_322", paste0("map_index: ", p$map_index)))
  }
  if (as.numeric(p$per_page) > max_per_page) {
    return(srv_error_response(400L, "ec5_335", "api"))
  }
  NULL
}

# The failing validation rules: parameter name -> ec5 code.
srv_entries_rule_errors <- function(p) {
  rules <- list(
    page = if (!srv_php_valid_int(p$page)) "ec5_27",
    per_page = if (!srv_php_valid_int(p$per_page)) "ec5_27",
    uuid = if (nzchar(p$uuid) && nchar(p$uuid) < 36) "ec5_43",
    parent_uuid = if (nzchar(p$parent_uuid) && nchar(p$parent_uuid) < 36) "ec5_43",
    map_index = if (!srv_php_is_numeric(p$map_index)) "ec5_27" else if (as.numeric(p$map_index) < 0) "ec5_43",
    sort_by = if (!p$sort_by %in% c("created_at", "uploaded_at", "title")) "ec5_29",
    sort_order = if (!p$sort_order %in% c("asc", "desc", "ASC", "DESC")) "ec5_29",
    filter_by = if (nzchar(p$filter_by) && !p$filter_by %in% c("created_at", "uploaded_at")) "ec5_29",
    filter_from = if (nzchar(p$filter_from) && is.na(srv_parse_filter_date(p$filter_from))) "ec5_79",
    filter_to = if (nzchar(p$filter_to) && is.na(srv_parse_filter_date(p$filter_to))) "ec5_79",
    format = if (!p$format %in% c("json", "csv")) "ec5_29",
    headers = if (!p$headers %in% c("true", "false")) "ec5_29"
  )
  Filter(Negate(is.null), rules)
}

# The first unknown form, input or branch; its error source is the value.
srv_entries_reference_error <- function(p, project) {
  form <- srv_project_form(project, p$form_ref)
  if (is.null(form)) {
    return(c(source = p$form_ref, code = "ec5_15"))
  }
  if (nzchar(p$parent_form_ref) && !p$parent_form_ref %in% srv_form_refs(project)) {
    return(c(source = p$parent_form_ref, code = "ec5_15"))
  }
  if (nzchar(p$input_ref) && !p$input_ref %in% srv_project_input_refs(project)) {
    return(c(source = p$input_ref, code = "ec5_84"))
  }
  if (nzchar(p$branch_ref) && !p$branch_ref %in% vapply(srv_form_branches(form), `[[`, "", "ref")) {
    return(c(source = p$branch_ref, code = "ec5_99"))
  }
  NULL
}

# Laravel's `integer` rule (FILTER_VALIDATE_INT): optional sign, no leading
# zeros, within 64 bits.
srv_php_valid_int <- function(x) {
  x <- trimws(as.character(x))
  grepl("^[+-]?(0|[1-9][0-9]*)$", x) && abs(as.numeric(x)) < 9.2e18
}

srv_php_is_numeric <- function(x) {
  grepl("^\\s*[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?\\s*$", as.character(x))
}

# The stored rows an E1 query selects, filtered and sorted
#
# Query modes of API-NOTES.md §3.1; filters on the seconds the database keeps; a
# `title` LIKE; sorting with `title` in natural order. Ties keep insertion
# order.
srv_entries_select <- function(store, p) {
  branch <- nzchar(p$branch_ref)
  rows <- if (branch) {
    store[store$kind == "branch" & store$branch_ref == p$branch_ref & store$form_ref == p$form_ref, ]
  } else {
    store[store$kind == "entry" & store$form_ref == p$form_ref, ]
  }
  if (nzchar(p$uuid)) {
    rows <- rows[rows$uuid == p$uuid, ]
  } else if (branch && nzchar(p$branch_owner_uuid)) {
    rows <- rows[rows$owner_uuid == p$branch_owner_uuid, ]
  } else if (!branch && nzchar(p$parent_uuid)) {
    # The parent form must match exactly, so an empty one matches nothing.
    rows <- rows[rows$parent_uuid == p$parent_uuid & rows$parent_form_ref == p$parent_form_ref, ]
  }
  rows <- srv_entries_filter(rows, p)
  if (nzchar(p$title)) {
    rows <- rows[grepl(srv_like_regex(p$title), rows$title, ignore.case = TRUE, perl = TRUE), ]
  }
  desc <- toupper(p$sort_order) == "DESC"
  order <- switch(p$sort_by,
    title = order(nchar(rows$title, type = "bytes"), tolower(rows$title), rows$id,
                  decreasing = c(desc, desc, FALSE), method = "radix"),
    uploaded_at = order(rows$uploaded, rows$id, decreasing = c(desc, FALSE), method = "radix"),
    order(floor(rows$created), rows$id, decreasing = c(desc, FALSE), method = "radix")
  )
  rows[order, ]
}

# Only filter_from: >= at full precision; only filter_to: <=; both: whole
# days from the start of the first to the end of the last (API-NOTES.md §3.1).
srv_entries_filter <- function(rows, p) {
  if (!nzchar(p$filter_by)) {
    return(rows)
  }
  column <- if (p$filter_by == "uploaded_at") rows$uploaded else floor(rows$created)
  from <- if (nzchar(p$filter_from)) srv_parse_filter_date(p$filter_from)
  to <- if (nzchar(p$filter_to)) srv_parse_filter_date(p$filter_to)
  if (!is.null(from) && !is.null(to)) {
    keep <- column >= floor(from / 86400) * 86400 & column < (floor(to / 86400) + 1) * 86400
  } else if (!is.null(from)) {
    keep <- column >= from
  } else if (!is.null(to)) {
    keep <- column <= to
  } else {
    keep <- rep(TRUE, nrow(rows))
  }
  rows[keep, ]
}

# Laravel's paginator. A negative per_page removes the SQL limit, so every
# row comes back on one page.
srv_entries_page <- function(rows, p) {
  per_page <- as.numeric(p$per_page)
  page <- as.numeric(p$page)
  total <- nrow(rows)
  if (per_page < 0) {
    return(list(rows = rows, total = total, per_page = per_page, page = page, last = 1))
  }
  last <- max(ceiling(total / per_page), 1)
  index <- (page - 1) * per_page + seq_len(per_page)
  list(rows = rows[index[index <= total], ], total = total, per_page = per_page,
       page = page, last = last)
}

# meta of E1: `from` and `to` repeat the page numbers; newest and oldest span
# the whole selection, or read "now" when it is empty.
srv_entries_meta <- function(rows, page) {
  created <- floor(rows$created)
  now <- as.numeric(Sys.time())
  newest <- srv_iso_time(if (length(created)) max(created) else now)
  oldest <- srv_iso_time(if (length(created)) min(created) else now)
  srv_php_json(list(
    total = page$total, per_page = srv_php_number(srv_php_int_from_double(page$per_page)),
    current_page = srv_php_number(srv_php_int_from_double(page$page)),
    last_page = srv_php_number(srv_php_int_from_double(page$last)),
    from = srv_php_number(srv_php_int_from_double(page$page)),
    to = srv_php_number(srv_php_int_from_double(page$last)),
    newest = newest, oldest = oldest
  ))
}

# Paginator URLs: every sanitised parameter, `page` replaced, encoded as
# PHP's http_build_query with RFC 3986.
srv_entries_links <- function(ctx, params, page) {
  path <- paste0(ctx$base_url, "/api/export/entries/", srv_php_rawurlencode(ctx$params[[1]]))
  url <- function(n) {
    params$page <- n
    values <- vapply(params, function(v) {
      if (is.numeric(v)) srv_php_int_from_double(v) else srv_php_rawurlencode(v)
    }, "")
    paste0(path, "?", paste0(names(params), "=", values, collapse = "&"))
  }
  current <- max(page$page, 1)
  list(
    self = url(current),
    first = url(1),
    prev = if (current > 1) url(current - 1),
    `next` = if (page$last > current) url(current + 1),
    last = url(page$last)
  )
}

srv_php_rawurlencode <- function(x) {
  vapply(enc2utf8(as.character(x)), function(s) {
    bytes <- charToRaw(s)
    plain <- grepl("[A-Za-z0-9_.~-]", rawToChar(bytes, multiple = TRUE))
    paste0(ifelse(plain, rawToChar(bytes, multiple = TRUE), paste0("%", toupper(as.character(bytes)))),
           collapse = "")
  }, "", USE.NAMES = FALSE)
}

# --- E2: project ------------------------------------------------------------------------

srv_api_project <- function(ctx) {
  access <- srv_project_access(ctx, ctx$params[[1]])
  if (!is.null(access$response)) {
    return(access$response)
  }
  project <- access$project
  mappings <- lapply(project$mappings, srv_mysql_key_order)
  indexes <- srv_map_indexes(project)
  # A PHP array keyed by map index becomes a JSON object when an index is
  # missing (a deleted mapping).
  if (!identical(sort(indexes), seq_along(indexes) - 1L)) {
    names(mappings) <- indexes
  }
  definition <- c(srv_mysql_key_order(project$definition), list(
    created_at = srv_mysql_time(project$created_at),
    homepage = paste0(ctx$base_url, "/project/", project$slug)
  ))
  srv_json_response(srv_php_json(list(
    meta = list(
      project_mapping = mappings,
      project_stats = srv_project_stats(project, srv_store(ctx$state, project$slug))
    ),
    data = list(id = project$ref, type = "project", project = definition)
  )))
}

# --- E6: project version --------------------------------------------------------------------

srv_api_version <- function(ctx) {
  project <- srv_projects(ctx$state)[[ctx$params[[1]]]]
  if (is.null(project) || project$status %in% c("trashed", "archived")) {
    return(srv_error_response(400L, "ec5_11", "version"))
  }
  srv_data_response(list(
    type = "project-version", id = project$slug,
    attributes = list(
      structure_last_updated = srv_mysql_time(project$structure_updated),
      version = srv_php_int_from_double(project$structure_updated)
    )
  ))
}

# --- E4: project search ---------------------------------------------------------------------

srv_api_search <- function(ctx) {
  name <- enc2utf8(ctx$params[[1]] %||% "")
  projects <- Filter(function(p) !p$status %in% c("trashed", "archived"), srv_projects(ctx$state))
  names <- vapply(projects, `[[`, "", "name")
  exact <- tolower(names) == tolower(name)
  only_exact <- identical(ctx$req$query$exact, "true")
  hits <- if (!nzchar(name)) {
    logical(length(names))
  } else if (only_exact) {
    exact
  } else {
    grepl(srv_like_regex(name, anchored_start = TRUE), names, ignore.case = TRUE, perl = TRUE)
  }
  updated <- vapply(projects, `[[`, 0, "structure_updated")
  ranked <- which(hits)[order(!exact[hits], -updated[hits])]
  ranked <- utils::head(ranked, if (only_exact) 1L else 50L)
  data <- lapply(projects[ranked], function(p) list(
    type = "project", id = p$ref,
    project = list(name = p$name, slug = p$slug, access = p$access, ref = p$ref)
  ))
  srv_data_response(unname(data))
}

# --- E5: token -------------------------------------------------------------------------------

srv_api_token <- function(ctx) {
  fields <- srv_token_fields(ctx$req)
  client_id <- as.character(fields$client_id %||% "")
  if (nzchar(client_id)) {
    srv_revoke_client_tokens(ctx$state, client_id)
  }
  if (!identical(fields$grant_type, "client_credentials")) {
    return(srv_error_response(400L, "ec5_261", "token issue"))
  }
  if (!nzchar(client_id)) {
    return(srv_error_response(400L, "ec5_254", "token issue"))
  }
  clients <- srv_clients()
  row <- match(client_id, clients$client_id)
  if (is.na(row) || !identical(as.character(fields$client_secret %||% ""), clients$client_secret[row])) {
    return(srv_error_response(400L, "ec5_253", "token issue"))
  }
  token <- srv_issue_token(ctx$state, client_id)
  list(
    status = 200L,
    headers = list("Content-Type" = "application/json; charset=UTF-8"),
    body = srv_php_json(list(token_type = "Bearer", expires_in = as.integer(ctx$state$config$token_lifetime),
                             access_token = token))
  )
}

# The token request's fields from a JSON, urlencoded or multipart body.
srv_token_fields <- function(req) {
  type <- tolower(req$get_header("content-type") %||% "")
  body <- req$.body
  if (is.null(body) || !length(body)) {
    return(list())
  }
  if (grepl("json", type, fixed = TRUE)) {
    fields <- tryCatch(jsonlite::fromJSON(rawToChar(body), simplifyVector = FALSE), error = function(e) list())
    return(if (is.list(fields)) fields else list())
  }
  if (startsWith(type, "multipart/form-data")) {
    webfakes::mw_multipart()(req, NULL)
    return(as.list(req$form))
  }
  srv_parse_form(rawToChar(body))
}

srv_parse_form <- function(text) {
  pairs <- strsplit(strsplit(text, "&", fixed = TRUE)[[1]], "=", fixed = TRUE)
  decode <- function(x) utils::URLdecode(chartr("+", " ", x))
  values <- lapply(pairs, function(p) if (length(p) > 1) decode(p[[2]]) else "")
  stats::setNames(values, vapply(pairs, function(p) decode(p[[1]]), ""))
}

# --- empty slug -------------------------------------------------------------------------------

srv_api_empty_slug <- function(ctx) {
  srv_error_response(404L, "ec5_21", "middleware")
}
