# Columns of an entries table as SQL stores them, and back. The R types are
# never decided here: they come from the prototype of the table (a table of
# no rows made by the package's own parser from the column spec,
# store_prototype()), and decoding turns each stored column back into its
# prototype's class, levels and label.
#
# Stored forms: the factors of a row packed into one text column,
# `ec5_choices`, one character per factor (the code of its level + 33; "!"
# for NA): SQLite spends about as long on each value it extracts from a row
# as R does reading the whole table from RDS, and a survey has a hundred
# choice questions (bench/store.R). The view of the table unpacks them into
# labels (R/store-tables.R). POSIXct to the millisecond (the
# precision the API sends), as `YYYY-MM-DD HH:MM:SS.mmm` text in SQLite and
# as TIMESTAMP elsewhere; Dates as `YYYY-MM-DD` text in SQLite and DATE
# elsewhere; a list column (checkbox and search answers) as its answers
# joined with ", " in the table and, exactly, one row per answer in the
# table's side table of answers.

store_prototype <- function(cs) {
  entries_table(parser_finish(entries_parser(cs)), cs, provenance = NULL)
}

# The table's columns as a plain data frame for dbAppendTable().
store_encode <- function(table, dialect) {
  factors <- vapply(table, is.factor, logical(1))
  columns <- lapply(table[!factors], encode_column, dialect = dialect)
  if (any(factors)) columns$ec5_choices <- pack_choices(table[factors])
  structure(columns, class = "data.frame", row.names = c(NA, -nrow(table)))
}

# Per factor (not per row): its codes as single characters, pasted across.
pack_choices <- function(factors) {
  chars <- lapply(factors, function(x) {
    code <- as.integer(x)
    code[is.na(code)] <- 0L
    intToUtf8(code + 33L, multiple = TRUE)
  })
  if (!length(chars[[1]])) {
    return(character())
  }
  do.call(paste0, unname(chars))
}

# The factors' codes from `ec5_choices`, a list with one integer vector per
# factor (NA for "!").
unpack_choices <- function(packed, n) {
  codes <- utf8ToInt(paste(packed, collapse = "")) - 33L
  codes[codes == 0L] <- NA_integer_
  codes <- t(matrix(codes, nrow = n))
  lapply(seq_len(n), function(i) codes[, i])
}

encode_column <- function(x, dialect) {
  if (is.list(x)) {
    return(join_answers(x))
  }
  if (inherits(x, "POSIXct")) {
    return(encode_time(x, dialect))
  }
  if (inherits(x, "Date")) {
    return(if (dialect == "sqlite") format(x, "%Y-%m-%d") else structure(as.double(x), class = "Date"))
  }
  attributes(x) <- NULL
  x
}

encode_time <- function(x, dialect) {
  ms <- round(as.numeric(x) * 1000)
  if (dialect != "sqlite") {
    return(.POSIXct(ms / 1000, "UTC"))
  }
  if (!length(ms)) {
    return(character())
  }
  seconds <- format(.POSIXct(floor(ms / 1000), "UTC"), "%Y-%m-%d %H:%M:%S")
  out <- paste0(seconds, ".", formatC(ms %% 1000, width = 3, flag = "0", format = "d"))
  out[is.na(ms)] <- NA_character_
  out
}

# Milliseconds to seconds in one division, as src/columns.cpp
# (parse_datetime()) computes a time sent with a fraction, so a time comes
# back as the same double.
decode_time <- function(x) {
  if (is.character(x) || is.logical(x)) {
    x <- as.character(x)
    seconds <- as.numeric(as.POSIXct(substr(x, 1, 19), format = "%Y-%m-%d %H:%M:%S", tz = "UTC"))
    ms <- seconds * 1000 + as.numeric(substr(x, 21, 23))
  } else {
    ms <- round(as.numeric(x) * 1000)
  }
  .POSIXct(ms / 1000, "UTC")
}

# The answers of each row joined with ", " (NA for none), built per answer
# position rather than per row.
join_answers <- function(x) {
  lens <- lengths(x)
  flat <- as.character(unlist(x, use.names = FALSE))
  flat[is.na(flat)] <- ""
  start <- cumsum(lens) - lens
  out <- rep(NA_character_, length(x))
  for (j in seq_len(max(0L, lens))) {
    has <- lens >= j
    value <- flat[start[has] + j]
    out[has] <- if (j == 1L) value else paste(out[has], value, sep = ", ")
  }
  out
}

# One row per answer of the list columns: the row's key, the column, the
# answer's position and the answer (NULL for an answer that was NA).
encode_answers <- function(table, key) {
  lists <- names(table)[vapply(table, is.list, logical(1))]
  parts <- lapply(lists, function(column) {
    x <- table[[column]]
    lens <- lengths(x)
    out <- data.frame(
      key = rep(table[[key]], lens),
      column_name = rep(column, sum(lens)),
      position = sequence(lens),
      answer = as.character(unlist(x, use.names = FALSE)),
      stringsAsFactors = FALSE
    )
    names(out)[1] <- key
    out
  })
  if (!length(parts)) {
    return(NULL)
  }
  do.call(rbind, parts)
}

# The stored columns back as the prototype's: `rows` from the table (in
# order), `answers` from its side table.
store_decode <- function(rows, answers, proto, key) {
  factors <- names(proto)[vapply(proto, is.factor, logical(1))]
  if (length(factors)) rows[factors] <- unpack_choices(rows$ec5_choices, length(factors))
  # Row numbers as factor levels, made once for every list column.
  levels <- as.character(seq_len(nrow(rows)))
  columns <- lapply(names(proto), function(column) {
    p <- proto[[column]]
    x <- if (is.list(p)) decode_answers(answers, column, rows[[key]], key, levels) else decode_column(rows[[column]], p)
    for (a in column_attributes) attr(x, a) <- attr(p, a, exact = TRUE)
    x
  })
  names(columns) <- names(proto)
  tibble::new_tibble(columns, nrow = nrow(rows))
}

decode_column <- function(x, proto) {
  if (is.factor(proto)) {
    return(structure(as.integer(x), levels = levels(proto), class = "factor"))
  }
  if (inherits(proto, "POSIXct")) {
    return(decode_time(x))
  }
  if (inherits(proto, "Date")) {
    return(if (is.character(x) || is.logical(x)) as.Date(as.character(x)) else structure(as.double(unclass(x)), class = "Date"))
  }
  if (is.integer(proto)) {
    # Databases may return a 64-bit integer.
    return(as.integer(as.double(x)))
  }
  if (is.double(proto)) {
    return(as.double(x))
  }
  if (is.logical(proto)) {
    return(as.logical(x))
  }
  as.character(x)
}

# The answers of one list column, split by row (character(0) for a row
# without any).
decode_answers <- function(answers, column, keys, key, levels) {
  mine <- answers$column_name == column
  at <- match(answers[[key]][mine], keys)
  sorted <- order(at, answers$position[mine])
  rows <- structure(at[sorted], levels = levels, class = "factor")
  unname(split.default(as.character(answers$answer[mine][sorted]), rows))
}
