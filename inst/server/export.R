# The export of stored entries through a mapping, as the server's
# DataMappingService writes it: JSON objects (API-NOTES.md §3.4, §4.2) or
# fputcsv rows (API-NOTES.md §3.6).

# Mapped entries as JSON objects, one string per row (API-NOTES.md §3.4, §4)
#
# `ctx` holds `mode` ("form"/"branch"), `top` (the first form?), `private`,
# `slug`, `base_url` (for public media URLs) and `branch_counts` (named
# integer, "owner uuid|branch ref" -> count).
srv_export_json <- function(rows, plan, ctx) {
  if (!nrow(rows)) {
    return(character())
  }
  system <- srv_system_values(rows, ctx)
  columns <- c(
    lapply(system, srv_php_json_string),
    lapply(seq_len(nrow(plan)), function(i) srv_json_column(plan[i, ], rows, ctx))
  )
  keys <- c(names(system), plan$map_to)
  # A custom map_to equal to a system key overwrites it in place, as PHP
  # array assignment does.
  last <- !duplicated(keys, fromLast = TRUE)
  first <- match(keys, keys)
  columns[first[last]] <- columns[last]
  keep <- !duplicated(keys)
  parts <- Map(function(key, values) paste0(srv_php_json_string(key), ":", values),
               keys[keep], columns[keep])
  paste0("{", do.call(paste, c(unname(parts), sep = ",")), "}")
}

# Mapped entries as a CSV body written by fputcsv (API-NOTES.md §3.6)
srv_export_csv <- function(rows, plan, ctx, headers = TRUE) {
  system <- srv_system_values(rows, ctx)
  cells <- c(system, unlist(lapply(seq_len(nrow(plan)), function(i) {
    srv_csv_columns(plan[i, ], rows, ctx)
  }), recursive = FALSE))
  header <- c(names(system), unlist(lapply(seq_len(nrow(plan)), function(i) {
    if (plan$type[i] == "location") srv_location_names(plan$map_to[i]) else plan$map_to[i]
  })))
  body <- srv_php_fputcsv(do.call(cbind, lapply(cells, as.character)))
  paste(c(if (headers) srv_php_fputcsv(matrix(header, nrow = 1L)), if (nrow(rows)) body), collapse = "")
}

srv_location_names <- function(name) {
  paste0(c("lat_", "long_", "accuracy_", "UTM_Northing_", "UTM_Easting_", "UTM_Zone_"), name)
}

# The system fields of mapped entries, in the server's emission order.
srv_system_values <- function(rows, ctx) {
  out <- if (ctx$mode == "branch") {
    list(ec5_branch_owner_uuid = rows$owner_uuid, ec5_branch_uuid = rows$uuid)
  } else if (ctx$top) {
    list(ec5_uuid = rows$uuid)
  } else {
    list(ec5_uuid = rows$uuid, ec5_parent_uuid = rows$parent_uuid)
  }
  out$created_at <- rows$created_iso
  out$uploaded_at <- srv_iso_time(rows$uploaded)
  if (ctx$private) {
    out$created_by <- ifelse(nzchar(rows$user), rows$user, "n/a")
  }
  out$title <- rows$title
  out
}

srv_answer_column <- function(rows, ref) {
  lapply(rows$answers, function(a) {
    value <- a[[ref]]$answer
    if (is.null(value)) "" else value
  })
}

srv_is_blank <- function(values) {
  vapply(values, function(v) is.character(v) && length(v) == 1L && identical(v, ""), TRUE)
}

srv_as_text_value <- function(values) {
  vapply(values, function(v) if (is.character(v) && length(v) == 1L) v else "", "")
}

# Answers as JSON tokens, one per row (DataMappingService::parseAnswer).
srv_json_column <- function(column, rows, ctx) {
  values <- srv_answer_column(rows, column$ref)
  switch(column$type,
    integer = ifelse(srv_is_blank(values), "\"\"", vapply(values, srv_php_int_text, "")),
    decimal = ifelse(srv_is_blank(values), "\"\"", srv_php_float_json(srv_php_floatval(values))),
    date = , time = srv_php_json_string(srv_php_date(srv_as_text_value(values), column$format)),
    radio = , dropdown = srv_php_json_string(srv_choice_labels(values, column$labels[[1]])),
    checkbox = , searchsingle = , searchmultiple = vapply(values, function(v) {
      srv_php_json(as.list(unname(srv_multi_labels(v, column$labels[[1]]))))
    }, ""),
    location = vapply(values, function(v) srv_php_json(srv_location_parts(v)), ""),
    photo = , audio = , video = srv_php_json_string(srv_media_values(values, column$type, rows, ctx)),
    branch = as.character(srv_branch_count(rows, column$ref, ctx)),
    vapply(values, srv_php_json, "")
  )
}

# Answers as CSV cells: a list of character vectors (six for a location).
srv_csv_columns <- function(column, rows, ctx) {
  values <- srv_answer_column(rows, column$ref)
  blank <- srv_is_blank(values)
  switch(column$type,
    integer = list(ifelse(blank, "", vapply(values, srv_php_int_text, ""))),
    decimal = list(ifelse(blank, "", srv_php_float_string(srv_php_floatval(values)))),
    date = , time = list(srv_php_date(srv_as_text_value(values), column$format)),
    radio = , dropdown = list(srv_choice_labels(values, column$labels[[1]])),
    checkbox = , searchsingle = , searchmultiple = list(vapply(values, function(v) {
      labels <- srv_multi_labels(v, column$labels[[1]])
      labels <- ifelse(grepl(",", labels, fixed = TRUE), paste0("\"", labels, "\""), labels)
      paste(labels, collapse = ", ")
    }, "")),
    location = {
      parts <- lapply(values, function(v) vapply(srv_location_parts(v), srv_php_value_string, ""))
      lapply(1:6, function(k) vapply(parts, `[[`, "", k))
    },
    photo = , audio = , video = list(srv_media_values(values, column$type, rows, ctx)),
    branch = list(as.character(srv_branch_count(rows, column$ref, ctx))),
    list(vapply(values, srv_php_value_string, ""))
  )
}

# A stored scalar as PHP's string conversion writes it (fputcsv cells)
srv_php_value_string <- function(value) {
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
    return(srv_php_float_string(value))
  }
  as.character(value)
}

# PHP floatval(): the numeric prefix of a string, 0 without one.
srv_php_floatval <- function(values) {
  vapply(values, function(v) {
    if (inherits(v, "php_number")) v <- unclass(v)
    if (is.numeric(v)) return(as.numeric(v))
    prefix <- regmatches(v, regexpr("^\\s*[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?", v))
    if (length(prefix)) as.numeric(prefix) else 0
  }, 0)
}

srv_choice_labels <- function(values, labels) {
  refs <- srv_as_text_value(values)
  out <- unname(labels[refs])
  out[is.na(out)] <- ""
  out
}

srv_multi_labels <- function(value, labels) {
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
srv_location_parts <- function(v) {
  keys <- c("latitude", "longitude", "accuracy", "UTM_Northing", "UTM_Easting", "UTM_Zone")
  if (!is.list(v) || is.null(names(v))) {
    return(stats::setNames(as.list(rep("", 6)), keys))
  }
  lat <- v$latitude %||% ""
  long <- v$longitude %||% ""
  utm <- list("", "", "")
  if (srv_php_truthy(lat) && srv_php_truthy(long)) {
    u <- srv_utm_from_latlong(as.numeric(lat), as.numeric(long))
    utm <- list(srv_php_number(srv_php_int_from_double(u$northing)),
                srv_php_number(srv_php_int_from_double(u$easting)), u$zone)
  }
  stats::setNames(c(list(lat, long, v$accuracy %||% ""), utm), keys)
}

# Public projects get E7 URLs with a version; private ones the bare file name.
srv_media_values <- function(values, type, rows, ctx) {
  files <- srv_as_text_value(values)
  if (ctx$private) {
    return(files)
  }
  format <- c(photo = "entry_original", audio = "audio", video = "video")[[type]]
  urls <- sprintf("%s/api/media/%s?type=%s&format=%s&name=%s&v=%s", ctx$base_url, ctx$slug,
                  type, format, files, srv_php_int_from_double(rows$uploaded))
  ifelse(nzchar(files) & files != "0", urls, files)
}

srv_branch_count <- function(rows, branch_ref, ctx) {
  counts <- ctx$branch_counts[paste(rows$uuid, branch_ref, sep = "|")]
  counts[is.na(counts)] <- 0L
  as.integer(counts)
}

# Branch entries per owner and branch, keyed "owner uuid|branch ref"
srv_branch_counts <- function(store) {
  branches <- store[store$kind == "branch", ]
  counts <- table(paste(branches$owner_uuid, branches$branch_ref, sep = "|"))
  stats::setNames(as.integer(counts), names(counts))
}
