# The names of a table's columns, stated once. Tables come with the export
# names of the website's CSV files (`1_Name`, `lat_14_where`), or with clean
# names: syntactic, unique, lower snake case, without the number prefix
# (`name`, `where_lat`). Every function that returns a table names its
# columns here, and every function that takes a table back asks here for the
# export name of each column (a clean column keeps it in its attribute
# `ec5_name`), so tables of either naming can be written, mapped and
# reported. Which columns are system columns and which are the six parts of
# a location is the table layout's (R/table-layout.R).

col_names_choices <- c("export", "clean")

# The naming asked for: "export" or "clean". Its default is an option, not
# the choices, so both together are refused (unlike check_choice()).
check_col_names <- function(col_names, call = rlang::caller_env()) {
  if (!rlang::is_string(col_names) || !col_names %in% col_names_choices) {
    abort_argument(
      col_names, "col_names", "{.or {.val {col_names_choices}}}",
      bullets = c("i" = "The default is {.code getOption(\"epicollect5.col_names\", \"export\")}."),
      call = call
    )
  }
  col_names
}

# `table` (a tibble with export names) in the naming asked for. The
# problems table names the columns the same way.
name_columns <- function(table, col_names) {
  if (col_names == "export") {
    return(table)
  }
  export <- names(table)
  clean <- clean_names(export)
  for (j in which(clean != export)) attr(table[[j]], "ec5_name") <- export[[j]]
  names(table) <- clean
  problems <- attr(table, "problems")
  if (NROW(problems)) {
    at <- match(problems$column, export)
    problems$column[!is.na(at)] <- clean[at[!is.na(at)]]
    attr(table, "problems") <- problems
  }
  table
}

# The clean names of the columns of a table with these export names:
# system columns keep theirs; a location `lat_14_where` ... `UTM_Zone_14_where`
# becomes `where_lat` ... `where_utm_zone`; any other column loses its
# number prefix and becomes lower snake case. Names taken by an earlier
# column, a system column or a location part get `_2`, `_3`, ...
clean_names <- function(export) {
  layout <- table_layout()
  part <- cpp_check(location_parts_cpp(export))
  system <- export %in% layout$system$name
  located <- part > 0L
  prefix <- layout$location$prefix
  question <- export
  question[located] <- substring(export[located], nchar(prefix[part[located]]) + 1L)
  stem <- clean_stem(question)
  # A location's six adjacent columns share the stem of its first.
  first <- part == 1L
  stem[first] <- unique_names(stem[first], taken = export[system])
  stem[located] <- stem[first][cumsum(first)[located]]
  out <- export
  out[located] <- paste(stem[located], clean_text(prefix)[part[located]], sep = "_")
  other <- !system & !located
  out[other] <- unique_names(stem[other], taken = out[!other])
  out
}

# An export name without its number prefix (`14_`), cleaned; the whole
# name when nothing else is left.
clean_stem <- function(x) {
  stripped <- sub("^[0-9]+_", "", x)
  clean_text(ifelse(grepl("[A-Za-z0-9]", stripped), stripped, x))
}

# Lower snake case of ASCII letters and digits, starting with a letter, not
# a reserved word: `Heart_rate_(bpm)` -> `heart_rate_bpm`, `2nd` -> `x2nd`,
# `if` -> `if_`, nothing -> `x`.
clean_text <- function(x) {
  x <- tolower(gsub("[^A-Za-z0-9]+", "_", x, perl = TRUE))
  x <- gsub("^_+|_+$", "", x)
  x[!nzchar(x)] <- "x"
  x <- ifelse(grepl("^[0-9]", x), paste0("x", x), x)
  reserved <- make.names(x) != x
  x[reserved] <- paste0(x[reserved], "_")
  x
}

# `x` made unique, in order, and distinct from `taken`: a repeat gets the
# first free suffix `_2`, `_3`, ... (a loop over columns, not rows).
unique_names <- function(x, taken = character()) {
  seen <- taken
  for (i in seq_along(x)) {
    name <- x[[i]]
    k <- 1L
    while (name %in% seen) {
      k <- k + 1L
      name <- paste0(x[[i]], "_", k)
    }
    x[[i]] <- name
    seen <- c(seen, name)
  }
  x
}

# The export name of each column of a table of either naming: its attribute
# `ec5_name`, else its name.
export_names <- function(x) {
  own <- vapply(x, function(col) {
    name <- attr(col, "ec5_name", exact = TRUE)
    if (rlang::is_string(name)) name else NA_character_
  }, character(1), USE.NAMES = FALSE)
  ifelse(is.na(own), names(x), own)
}

# The columns of `x` by their export names: a named vector, names the export
# names, values the names in `x`.
columns_by_export_name <- function(x) {
  stats::setNames(names(x), export_names(x))
}

# The locations of a table of either naming (a latitude and a longitude
# column of one question): a data frame with `location` (the question's
# export name, or its clean stem in a clean table: `14_where`, `where`),
# `lat` and `long` (the columns' names in `x`).
table_locations <- function(x) {
  export <- export_names(x)
  prefix <- location_prefixes()
  lat <- which(startsWith(export, prefix[["latitude"]]))
  question <- substring(export[lat], nchar(prefix[["latitude"]]) + 1L)
  long <- match(location_column(question, "longitude"), export)
  keep <- !is.na(long)
  lat <- lat[keep]
  data.frame(
    location = location_names(names(x)[lat], export[lat]),
    lat = names(x)[lat],
    long = names(x)[long[keep]],
    stringsAsFactors = FALSE
  )
}

# The name of each location whose latitude column is named `lat`, with
# export name `export`: `14_where` (export names) or `where` (clean names),
# as ec5_as_sf() takes it.
location_names <- function(lat, export) {
  prefix <- location_prefixes()[["latitude"]]
  suffix <- paste0("_", clean_text(prefix), "$")
  ifelse(lat != export, sub(suffix, "", lat), substring(export, nchar(prefix) + 1L))
}

# The naming of project data: "clean" when its tables carry clean names
# (a project's definition, or tables named as exported, are "export").
project_data_naming <- function(x) {
  if (!inherits(x, "ec5_project_data")) {
    return("export")
  }
  renamed <- vapply(x, function(t) !identical(names(t), export_names(t)), logical(1))
  if (any(renamed)) "clean" else "export"
}
