# The local copy of projects in a database (DBI): the connection, the lock
# and transaction of a sync, and the bookkeeping tables. ec5_sync() (R/sync.R)
# and ec5_local() (R/local.R) use it through a small interface:
#
#   store_open(con, dir, base_url, slug)   a store (list) on `con`, or on the
#                                          project's SQLite file under `dir`
#   store_close(store)                     disconnects what store_open() opened
#   store_sync(store, code)                runs `code` in one write transaction
#                                          holding the project's lock
#   store_project(store) / store_write_project(store, project, version, ...)
#   store_state(store, table)              cursor, rows and SQL name of a table
#   store tables (R/store-tables.R)        replace, upsert and delete rows
#
# Schema (vignettes/shared-copy.Rmd): per table of a project one SQL table
# named `<slug>__<form>[__<branch>]` (store_table_name()), and four tables
# shared by every project in the database: ec5_projects, ec5_sync,
# ec5_codebook and ec5_problems (store_meta_tables).

store_open <- function(con, dir, base_url, slug, create = TRUE, call = rlang::caller_env()) {
  # `create = FALSE` (readers): neither a file nor a table is created.
  owned <- is.null(con)
  path <- NA_character_
  if (owned) {
    path <- store_path(dir, base_url, slug)
    if (!create && !file.exists(path)) {
      store_missing(slug, call)
    }
    if (!dir.exists(dirname(path)) && !dir.create(dirname(path), recursive = TRUE)) {
      ec5_abort("Could not create the folder {.file {dirname(path)}}.", class = "io", call = call)
    }
    con <- store_try(DBI::dbConnect(RSQLite::SQLite(), path, synchronous = NULL), "open", path, call)
  } else {
    check_store_con(con, call)
  }
  store <- list(con = con, owned = owned, path = path, slug = slug,
                dialect = store_dialect(con), base_url = base_url)
  tryCatch(
    store_try(store_prepare(store, create, call), "open", store_where(store), call),
    error = function(e) {
      store_close(store)
      stop(e)
    }
  )
  store
}

store_close <- function(store) {
  if (store$owned && DBI::dbIsValid(store$con)) DBI::dbDisconnect(store$con)
  invisible()
}

# One SQLite file per server and project, so that clearing a copy is deleting
# a file and two projects never wait for each other's lock.
store_path <- function(dir, base_url, slug) {
  file.path(dir, server_key(base_url), paste0(slug, ".sqlite"))
}

server_key <- function(base_url) {
  slugify(sub("^https?://", "", base_url))
}

# The connection is checked as an argument by check_store_args(); this finds
# it closed.
check_store_con <- function(con, call) {
  if (!DBI::dbIsValid(con)) {
    ec5_abort(
      c("The database connection {.arg con} is closed.",
        "i" = "Connect again with {.fn DBI::dbConnect} and pass the new connection."),
      class = c("store_closed", "store"), call = call
    )
  }
}

store_missing <- function(slug, call) {
  ec5_abort(
    c("There is no local copy of {.val {slug}}.",
      "i" = "Make one with {.code ec5_sync({deparse(slug)})} while the server can be reached."),
    class = "not_found", call = call
  )
}

store_dialect <- function(con) {
  if (inherits(con, "SQLiteConnection")) return("sqlite")
  if (inherits(con, "PqConnection")) return("postgres")
  if (inherits(con, "duckdb_connection")) return("duckdb")
  "other"
}

store_where <- function(store) {
  if (store$owned) store$path else paste0("the database of ", class(store$con)[1])
}

# SQLite waits for a lock in short steps (store_lock() retries, interruptibly),
# keeps its rollback journal (no write-ahead log beside the file) and syncs
# the file at each commit, so that not even a power cut loses a committed
# copy. The bookkeeping tables exist in every store, so readers need no
# special case for a new database.
store_prepare <- function(store, create = TRUE, call = rlang::caller_env()) {
  con <- store$con
  if (store$dialect == "sqlite") {
    DBI::dbExecute(con, "PRAGMA busy_timeout = 1000")
    if (store$owned) DBI::dbExecute(con, "PRAGMA synchronous = FULL")
    # Wide rows (a survey of a hundred questions) need fewer overflow pages
    # on a large page. It takes effect when the file is new.
    if (store$owned) DBI::dbExecute(con, "PRAGMA page_size = 65536")
  }
  # A reader writes nothing: a database without the tables has no copy.
  if (!create) {
    if (!DBI::dbExistsTable(con, "ec5_projects")) store_missing(store$slug, call)
    return(invisible())
  }
  for (name in names(store_meta_tables)) {
    if (!DBI::dbExistsTable(con, name)) {
      columns <- store_meta_tables[[name]]
      types <- store_sql_types(store, columns)
      sql <- paste0(
        "CREATE TABLE ", DBI::dbQuoteIdentifier(con, name), " (",
        paste(DBI::dbQuoteIdentifier(con, names(columns)), types, collapse = ", "), ")"
      )
      tryCatch(DBI::dbExecute(con, sql), error = function(e) {
        # Another process created it in the meantime.
        if (!DBI::dbExistsTable(con, name)) stop(e)
      })
    }
  }
}

# Columns of the bookkeeping tables, as prototypes (see store_sql_types()).
store_meta_tables <- list(
  ec5_projects = list(
    slug = "", name = "", server = "", structure_version = "",
    synced_at = .POSIXct(0, "UTC"), definition = list(raw())
  ),
  ec5_sync = list(
    slug = "", table_name = "", sql_table = "", kind = "", parent = "", position = 0L,
    cursor = .POSIXct(0, "UTC"), structure_version = "", rows = 0L,
    synced_at = .POSIXct(0, "UTC")
  ),
  ec5_codebook = list(
    slug = "", table_name = "", sql_table = "", column_name = "", position = 0L,
    question = "", type = "", choices = "", form = "", branch = "", ref = ""
  ),
  ec5_problems = list(
    slug = "", table_name = "", entry_key = "", position = 0L,
    column_name = "", expected = "", actual = ""
  )
)

# SQL types for prototype columns: integers, doubles, text, timestamps,
# dates, blobs. (SQLite keeps times and dates as ISO 8601 text in columns
# declared TIMESTAMP and DATE, which readers and its date functions know.)
store_sql_types <- function(store, columns) {
  sqlite <- store$dialect == "sqlite"
  vapply(columns, function(x) {
    if (is.list(x)) return(if (store$dialect == "postgres") "BYTEA" else "BLOB")
    if (inherits(x, "POSIXct")) return("TIMESTAMP")
    if (inherits(x, "Date")) return("DATE")
    if (is.factor(x) || is.character(x)) return("TEXT")
    if (is.integer(x)) return("INTEGER")
    if (is.double(x)) return(if (sqlite) "REAL" else "DOUBLE PRECISION")
    if (is.logical(x)) return("BOOLEAN")
    "TEXT"
  }, "", USE.NAMES = FALSE)
}

# --- the lock and transaction of a sync ----------------------------------------

# Runs `code` inside one write transaction that holds the project's lock,
# commits when it returns and rolls back when it fails, so that every table,
# cursor and the definition move together or not at all. A second process
# syncing the same project waits for the first (SQLite: an immediate
# transaction takes the write lock up front; PostgreSQL: a transaction-level
# advisory lock per project). Errors of the database become
# ec5_error_store; every other error passes through after the rollback.
store_sync <- function(store, code, call = rlang::caller_env()) {
  store_try(store_lock(store), "lock", store_where(store), call)
  done <- FALSE
  on.exit(if (!done) store_rollback(store), add = TRUE)
  value <- store_try(force(code), "write", store_where(store), call)
  store_try(store_end(store, "COMMIT"), "write", store_where(store), call)
  done <- TRUE
  value
}

store_rollback <- function(store) {
  if (DBI::dbIsValid(store$con)) try(store_end(store, "ROLLBACK"), silent = TRUE)
}

# SQLite's transaction is begun in SQL (BEGIN IMMEDIATE), so it ends in SQL.
# A COMMIT that SQLite refuses while a reader holds the file leaves the
# transaction open, so it is tried again until the reader is done.
store_end <- function(store, what) {
  if (store$dialect != "sqlite") {
    return(if (what == "COMMIT") DBI::dbCommit(store$con) else DBI::dbRollback(store$con))
  }
  if (what == "ROLLBACK") {
    return(DBI::dbExecute(store$con, what))
  }
  store_wait(store, function() sqlite_try(store$con, "COMMIT"), "committed")
}

# Takes the project's lock and begins the transaction.
store_lock <- function(store) {
  con <- store$con
  attempt <- switch(store$dialect,
    sqlite = function() sqlite_try(con, "BEGIN IMMEDIATE"),
    postgres = function() {
      DBI::dbBegin(con)
      key <- store_lock_key(store$slug)
      got <- isTRUE(DBI::dbGetQuery(con, paste0("SELECT pg_try_advisory_xact_lock(", key, ") AS got"))$got)
      if (!got) DBI::dbRollback(con)
      got
    },
    function() {
      DBI::dbBegin(con)
      TRUE
    }
  )
  store_wait(store, attempt, "locked")
}

# TRUE when SQLite ran `sql`, FALSE when the file was busy (after the busy
# timeout of a second).
sqlite_try <- function(con, sql) {
  tryCatch({
    DBI::dbExecute(con, sql)
    TRUE
  }, error = function(e) {
    if (!grepl("locked|busy", conditionMessage(e))) stop(e)
    FALSE
  })
}

# Calls `attempt()` until it returns TRUE, in steps short enough for Esc to
# interrupt, for up to getOption("epicollect5.lock_timeout") seconds (600).
store_wait <- function(store, attempt, what, call = rlang::caller_env(2)) {
  timeout <- getOption("epicollect5.lock_timeout", 600)
  started <- Sys.time()
  while (!attempt()) {
    if (as.numeric(difftime(Sys.time(), started, units = "secs")) > timeout) {
      ec5_abort(
        c("The local copy of {.val {store$slug}} could not be {what}: another process holds it.",
          "x" = "It was still held after {timeout} second{?s}.",
          "i" = "Wait for the other sync or reader to end, or raise {.code options(epicollect5.lock_timeout)}."),
        class = c("locked", "store"), call = call
      )
    }
    Sys.sleep(0.2)
  }
  invisible(TRUE)
}

# A 31-bit key per slug for pg_try_advisory_xact_lock().
store_lock_key <- function(slug) {
  bytes <- as.integer(charToRaw(slug))
  key <- 0
  for (b in bytes) key <- (key * 31 + b) %% 2147483647
  sprintf("%.0f", key)
}

# Evaluates `expr`; an error that is not already an ec5_error becomes an
# ec5_error_store that says what the database refused and what to do.
store_try <- function(expr, what, where, call) {
  tryCatch(expr, error = function(e) {
    if (inherits(e, "ec5_error")) stop(e)
    store_error(e, what, where, call)
  })
}

store_error <- function(e, what, where, call) {
  reason <- conditionMessage(e)
  hint <- if (grepl("readonly|read-only|read only", reason, ignore.case = TRUE)) {
    "The database is read-only: open a connection that may write, or choose another {.arg dir}."
  } else if (grepl("full|no space|quota", reason, ignore.case = TRUE)) {
    "The disk (or the database's size limit) is full: free some space, then sync again."
  } else if (grepl("not a database|malformed|corrupt", reason, ignore.case = TRUE)) {
    "The file is damaged: delete the copy with {.fn ec5_cache_clear}, then sync again."
  } else if (grepl("invalid|closed|expired|disconnect", reason, ignore.case = TRUE)) {
    "The connection was lost: connect again and pass the new connection."
  } else {
    "The copy is as it was before this sync."
  }
  verb <- switch(what, open = "open", lock = "lock", read = "read", "write")
  ec5_abort(
    c("Could not {verb} the local copy in {where}.",
      "x" = "{reason}",
      "i" = hint),
    class = "store", parent = NULL, call = call
  )
}

# --- the bookkeeping of a project ------------------------------------------------

# The stored definition and its structure version, or NULL.
store_project <- function(store) {
  row <- store_select(store, "ec5_projects", store$slug, c("structure_version", "definition", "synced_at"))
  if (!nrow(row)) {
    return(NULL)
  }
  list(
    version = row$structure_version[[1]],
    project = unserialize(row$definition[[1]]),
    synced_at = decode_time(row$synced_at)
  )
}

store_write_project <- function(store, project, version, synced_at) {
  store_delete_where(store, "ec5_projects", store$slug)
  row <- data.frame(
    slug = store$slug, name = project$project$name, server = store$base_url,
    structure_version = version %|NA|% NA_character_,
    synced_at = encode_time(synced_at, store$dialect)
  )
  row$definition <- blob::as_blob(list(serialize(project, NULL)))
  store_append(store, "ec5_projects", row)
}

# The ec5_sync rows of a project: one per table.
store_tables <- function(store) {
  rows <- store_select(store, "ec5_sync", store$slug)
  if (nrow(rows)) rows$cursor <- decode_time(rows$cursor)
  rows[order(rows$position), ]
}

store_select <- function(store, table, slug, columns = NULL) {
  con <- store$con
  what <- if (is.null(columns)) "*" else paste(DBI::dbQuoteIdentifier(con, columns), collapse = ", ")
  DBI::dbGetQuery(con, paste0(
    "SELECT ", what, " FROM ", DBI::dbQuoteIdentifier(con, table),
    " WHERE slug = ", DBI::dbQuoteString(con, slug)
  ))
}

store_delete_where <- function(store, table, slug, table_name = NULL) {
  con <- store$con
  DBI::dbExecute(con, paste0(
    "DELETE FROM ", DBI::dbQuoteIdentifier(con, table),
    " WHERE slug = ", DBI::dbQuoteString(con, slug),
    if (!is.null(table_name)) paste0(" AND table_name = ", DBI::dbQuoteString(con, table_name))
  ))
}
