# The SQL tables of a project in the store (R/store.R): their names, and the
# writes a sync makes inside its transaction (replace a whole table, upsert
# changed rows, delete rows, record a table's cursor), and the read that
# ec5_local() makes.
#
# Each table of a project is the SQL table `<table>__rows` with the entries'
# columns (see R/store-columns.R for their SQL types; the choices of a row
# packed into one column, `ec5_choices`), keyed by ec5_uuid (forms) or
# ec5_branch_uuid (branches), plus `ec5_order`: the order of the rows as
# ec5_project_data() returns them (upload order; a row sent again moves to
# the end, as it does on the server). Readers use the view `<table>`: a
# column per question, choices as their labels.
# A table with checkbox or search questions has a side table
# `<table>__answers` with one row per answer. Values that could not be
# converted are rows of ec5_problems, by entry.

# Readable, unquoted-safe names `<slug>__<form>` and `<slug>__<form>__<branch>`
# of at most 54 characters (PostgreSQL keeps 63; room for "__answers").
store_table_names <- function(slug, plan) {
  part <- function(x) gsub("^_+|_+$", "", gsub("[^a-z0-9]+", "_", tolower(slugify(x))))
  form <- ifelse(plan$kind == "branch", plan$parent, plan$table)
  name <- paste(part(slug), part(form), sep = "__")
  branch <- plan$kind == "branch"
  name[branch] <- paste(name[branch], part(plan$table[branch]), sep = "__")
  long <- nchar(name) > 54L
  hashes <- vapply(name[long], function(x) substr(rlang::hash(x), 1, 8), "")
  name[long] <- paste0(substr(name[long], 1, 45), "_", hashes)
  make.unique(name, sep = "_")
}

answers_table <- function(sql) paste0(sql, "__answers")

rows_table <- function(sql) paste0(sql, "__rows")

table_key_column <- function(kind) table_layout()$keys[[kind]]

# What the writes and reads need to know of one table: its SQL name, its
# name in the project data, its key column and its prototype.
store_target <- function(row, sql, proto) {
  list(
    sql = sql, rows = rows_table(sql), table = row$table, kind = row$kind,
    key = table_key_column(row$kind), proto = proto
  )
}

quote_id <- function(store, x) DBI::dbQuoteIdentifier(store$con, x)

# --- writes (inside store_sync()) ---------------------------------------------------

# Drops the SQL tables of the project's tables that `keep` does not name,
# and their bookkeeping (a structure change can rename or remove a form).
store_drop_tables <- function(store, keep = character()) {
  old <- store_tables(store)
  gone <- old[!old$sql_table %in% keep, ]
  for (sql in gone$sql_table) store_drop_sql(store, sql)
  for (table in gone$table_name) store_forget(store, table)
  invisible(gone$table_name)
}

store_drop_sql <- function(store, sql) {
  DBI::dbExecute(store$con, paste("DROP VIEW IF EXISTS", quote_id(store, sql)))
  for (name in c(rows_table(sql), answers_table(sql))) {
    DBI::dbExecute(store$con, paste("DROP TABLE IF EXISTS", quote_id(store, name)))
  }
}

store_forget <- function(store, table) {
  for (meta in c("ec5_sync", "ec5_codebook", "ec5_problems")) {
    store_delete_where(store, meta, store$slug, table)
  }
}

# Replaces a table whole: new SQL tables with the column types of the
# prototype, all rows, its codebook and problems.
store_replace <- function(store, target, table, cs) {
  store_drop_sql(store, target$sql)
  store_forget(store, target$table)
  store_create(store, target)
  store_insert(store, target, table, from = 0)
  store_write_codebook(store, target, cs)
}

store_create <- function(store, target) {
  con <- store$con
  sql <- target$rows
  key <- target$key
  proto <- target$proto
  encoded <- store_encode(proto, store$dialect)
  columns <- c(names(encoded), "ec5_order")
  types <- c(store_sql_types(store, encoded), "INTEGER")
  # Integer questions are stored as doubles: the parser makes a column
  # double when a value does not fit an R integer, and a double holds every
  # value the parser can produce, with no 64-bit integer type in R.
  integers <- names(proto)[vapply(proto, function(x) is.integer(x) && !is.factor(x), logical(1))]
  types[columns %in% integers] <- store_sql_types(store, list(0))
  DBI::dbExecute(con, paste0(
    "CREATE TABLE ", quote_id(store, sql), " (",
    paste(quote_id(store, columns), types, collapse = ", "),
    ", PRIMARY KEY (", quote_id(store, key), "))"
  ))
  links <- intersect(table_layout()$links, names(encoded))
  for (link in links) store_index(store, sql, link)
  store_view(store, target)
  if (any(vapply(proto, is.list, logical(1)))) {
    answers <- answers_table(target$sql)
    DBI::dbExecute(con, paste0(
      "CREATE TABLE ", quote_id(store, answers), " (",
      quote_id(store, key), " TEXT NOT NULL, column_name TEXT NOT NULL, position INTEGER NOT NULL, answer TEXT)"
    ))
    store_index(store, answers, key)
    store_index(store, answers, c("column_name", "answer"))
  }
}

# The view readers query: choices as their labels, each taken from its
# character of `ec5_choices` (R/store-columns.R).
store_view <- function(store, target) {
  proto <- target$proto
  factors <- names(proto)[vapply(proto, is.factor, logical(1))]
  code_of <- if (store$dialect %in% c("sqlite", "duckdb")) "unicode" else "ascii"
  columns <- vapply(names(proto), function(column) {
    id <- quote_id(store, column)
    choices <- levels(proto[[column]])
    if (!is.factor(proto[[column]])) {
      return(id)
    }
    if (!length(choices)) {
      return(paste("CAST(NULL AS TEXT) AS", id))
    }
    code <- paste0(code_of, "(substr(ec5_choices, ", match(column, factors), ", 1)) - 33")
    labels <- DBI::dbQuoteString(store$con, choices)
    paste0("CASE ", code, paste0(" WHEN ", seq_along(choices), " THEN ", labels, collapse = ""), " END AS ", id)
  }, "")
  DBI::dbExecute(store$con, paste0(
    "CREATE VIEW ", quote_id(store, target$sql), " AS SELECT ",
    paste(c(columns, "ec5_order"), collapse = ", "), " FROM ", quote_id(store, target$rows)
  ))
}

store_index <- function(store, sql, columns) {
  name <- paste0(substr(sql, 1, 40), "_", substr(rlang::hash(c(sql, columns)), 1, 12))
  DBI::dbExecute(store$con, paste0(
    "CREATE INDEX ", quote_id(store, name), " ON ", quote_id(store, sql),
    " (", paste(quote_id(store, columns), collapse = ", "), ")"
  ))
}

# Appends rows numbered from `from` + 1, their answers and problems.
store_insert <- function(store, target, table, from) {
  key <- target$key
  encoded <- store_encode(table, store$dialect)
  encoded$ec5_order <- from + seq_len(nrow(table))
  store_append(store, target$rows, encoded)
  answers <- encode_answers(table, key)
  if (!is.null(answers)) store_append(store, answers_table(target$sql), answers)
  store_write_problems(store, target, table)
}

store_write_problems <- function(store, target, table) {
  problems <- ec5_problems(table)
  if (!nrow(problems)) {
    return(invisible())
  }
  rows <- data.frame(
    slug = store$slug,
    table_name = target$table,
    entry_key = table[[target$key]][problems$row],
    position = seq_len(nrow(problems)),
    column_name = problems$column,
    expected = problems$expected,
    actual = problems$actual
  )
  store_append(store, "ec5_problems", rows)
}

# Upserts the rows of `table` (entries new or sent again) by key: rows sent
# again replace the stored ones and move to the end; nothing else is
# touched. Returns the counts of inserted and updated (changed) rows.
store_upsert <- function(store, target, table) {
  keys <- table[[target$key]]
  counts <- count_changes(store_read_rows(store, target, keys), table, target$key)
  store_delete(store, target, keys)
  from <- DBI::dbGetQuery(store$con, paste0(
    "SELECT MAX(ec5_order) AS n FROM ", quote_id(store, target$rows)
  ))$n
  store_insert(store, target, table, from = as.numeric(from %|NA|% 0))
  counts
}

# Entries of `new` that `old` lacks (inserted) or holds with other values
# (updated), and entries of `old` that `new` lacks (deleted, when `new` is
# the whole table).
count_changes <- function(old, new, key) {
  at <- match(new[[key]], old[[key]])
  inserted <- is.na(at)
  updated <- !vctrs::vec_equal(old[at[!inserted], ], new[!inserted, ], na_equal = TRUE)
  list(inserted = sum(inserted), updated = sum(updated), deleted = sum(!old[[key]] %in% new[[key]]))
}

# How many of `keys` the table holds.
store_count_keys <- function(store, target, keys) {
  if (!length(keys)) {
    return(0L)
  }
  n <- DBI::dbGetQuery(store$con, paste0(
    "SELECT COUNT(*) AS n FROM ", quote_id(store, target$rows), " WHERE ", quote_id(store, target$key),
    " IN (", paste(DBI::dbQuoteString(store$con, keys), collapse = ", "), ")"
  ))$n
  as.integer(n)
}

# Deletes rows (and their answers and problems) by key.
store_delete <- function(store, target, keys) {
  if (!length(keys)) {
    return(invisible(0))
  }
  con <- store$con
  key <- target$key
  chunks <- split(keys, ceiling(seq_along(keys) / 500))
  answers <- answers_table(target$sql)
  tables <- c(target$rows, if (DBI::dbExistsTable(con, answers)) answers)
  for (chunk in chunks) {
    within <- paste0(" IN (", paste(DBI::dbQuoteString(con, chunk), collapse = ", "), ")")
    for (t in tables) {
      DBI::dbExecute(con, paste0("DELETE FROM ", quote_id(store, t), " WHERE ", quote_id(store, key), within))
    }
    DBI::dbExecute(con, paste0(
      "DELETE FROM ec5_problems WHERE slug = ", DBI::dbQuoteString(con, store$slug),
      " AND table_name = ", DBI::dbQuoteString(con, target$table),
      " AND entry_key", within
    ))
  }
  invisible(length(keys))
}

# Where a table's sync stands: its cursor (newest uploaded_at), rows,
# structure version and time, one ec5_sync row.
store_write_state <- function(store, target, parent, position, cursor, version, synced_at) {
  con <- store$con
  store_delete_where(store, "ec5_sync", store$slug, target$table)
  rows <- DBI::dbGetQuery(con, paste0("SELECT COUNT(*) AS n FROM ", quote_id(store, target$rows)))$n
  state <- data.frame(
    slug = store$slug, table_name = target$table, sql_table = target$sql, kind = target$kind,
    parent = parent, position = position,
    cursor = if (is.null(cursor)) NA else encode_time(cursor, store$dialect),
    structure_version = version %|NA|% NA_character_,
    rows = as.integer(rows),
    synced_at = encode_time(synced_at, store$dialect)
  )
  store_append(store, "ec5_sync", state)
  state$rows
}

# Sets the owners' count of branch entries (the column named after the
# branch) from the branch table: for the `owners` given, or all when NULL.
store_recount <- function(store, owner, column, branch, owners = NULL) {
  con <- store$con
  layout <- table_layout()
  o <- quote_id(store, owner$rows)
  key <- quote_id(store, layout$keys[["form"]])
  link <- quote_id(store, layout$links[["branch"]])
  where <- if (!is.null(owners)) {
    paste0(" WHERE ", key, " IN (", paste(DBI::dbQuoteString(con, owners), collapse = ", "), ")")
  }
  DBI::dbExecute(con, paste0(
    "UPDATE ", o, " SET ", quote_id(store, column), " = (SELECT COUNT(*) FROM ",
    quote_id(store, branch$rows), " b WHERE b.", link, " = ", o, ".", key, ")", where
  ))
}

# Appends rows. SQLite gets one prepared INSERT bound to the columns:
# RSQLite's dbAppendTable() wraps it in a savepoint whose release fails
# when SQLite has already rolled back (a full disk), hiding the reason.
store_append <- function(store, name, rows) {
  if (!nrow(rows)) {
    return(invisible(0))
  }
  con <- store$con
  if (store$dialect != "sqlite") {
    return(invisible(DBI::dbAppendTable(con, DBI::SQL(quote_id(store, name)), rows)))
  }
  sql <- paste0(
    "INSERT INTO ", quote_id(store, name), " (", paste(quote_id(store, names(rows)), collapse = ", "),
    ") VALUES (", paste(rep("?", ncol(rows)), collapse = ", "), ")"
  )
  invisible(DBI::dbExecute(con, sql, params = unname(as.list(rows))))
}

store_write_codebook <- function(store, target, cs) {
  spec <- cs$spec
  if (!nrow(spec)) {
    return(invisible())
  }
  rows <- data.frame(
    slug = store$slug, table_name = target$table, sql_table = target$sql,
    column_name = spec$name, position = seq_len(nrow(spec)),
    question = spec$label, type = spec$type,
    choices = vapply(spec$levels, paste, "", collapse = " | "),
    form = cs$form_name, branch = cs$branch_name, ref = spec$ref
  )
  store_append(store, "ec5_codebook", rows)
}

# --- reads ---------------------------------------------------------------------------

# Rows of a table (all, or those with `keys`), decoded to the prototype's
# columns, with their problems; in ec5_order.
store_read_rows <- function(store, target, keys = NULL) {
  con <- store$con
  answers_sql <- quote_id(store, answers_table(target$sql))
  key <- target$key
  proto <- target$proto
  where <- if (!is.null(keys)) {
    if (!length(keys)) keys <- ""
    paste0(" WHERE ", quote_id(store, key), " IN (", paste(DBI::dbQuoteString(con, keys), collapse = ", "), ")")
  }
  # The joined answers of list columns are for SQL readers: the side table
  # has them exactly.
  lists <- names(proto)[vapply(proto, is.list, logical(1))]
  columns <- setdiff(names(store_encode(proto, store$dialect)), lists)
  rows <- DBI::dbGetQuery(con, paste0(
    "SELECT ", paste(quote_id(store, c(columns, "ec5_order")), collapse = ", "),
    " FROM ", quote_id(store, target$rows), where
  ))
  # Sorted here, not by SQL: sorting whole rows made SQLite spill the
  # table to a temporary file (bench/store.R). SQLite returns them in order
  # already (a changed row is deleted and inserted again, at the end).
  if (is.unsorted(rows$ec5_order)) rows <- vctrs::vec_slice(rows, order(rows$ec5_order))
  answers <- if (length(lists)) DBI::dbGetQuery(con, paste0("SELECT * FROM ", answers_sql, where))
  store_decode(rows, answers, proto, key)
}

# A whole table as ec5_project_data() returns it: rows, problems (with the
# row numbers of this table) and labels.
store_read_table <- function(store, target) {
  table <- store_read_rows(store, target)
  key <- target$key
  table_name <- target$table
  con <- store$con
  problems <- DBI::dbGetQuery(con, paste0(
    "SELECT entry_key, position, column_name, expected, actual FROM ec5_problems WHERE slug = ",
    DBI::dbQuoteString(con, store$slug), " AND table_name = ", DBI::dbQuoteString(con, table_name)
  ))
  row <- match(problems$entry_key, table[[key]])
  problems <- problems[order(row, problems$position), ]
  attr(table, "problems") <- tibble::tibble(
    row = match(problems$entry_key, table[[key]]),
    column = as.character(problems$column_name),
    expected = as.character(problems$expected),
    actual = as.character(problems$actual)
  )
  table
}
