# The PHP behaviours of the Epicollect5 server that show in its responses,
# reproduced byte for byte so that the client is tested against real
# encodings: json_encode(), fputcsv(), date(), (int) and float-to-string
# casts, Laravel's Str::slug(), and the GPoint UTM conversion. The client has
# its own readers and writers: these stay the server's, so that the tests
# compare two independent implementations.

# --- JSON ---------------------------------------------------------------------

# Encode an R value as PHP json_encode() does
#
# A named list is an object, an unnamed list an array; an empty list is `[]`
# either way, as PHP writes every empty array. `NULL` and `NA` are `null`,
# logicals booleans, integers ints, doubles floats, strings strings. A
# `php_number` (see `srv_php_number()`) is written as its text. Vectors longer
# than one are arrays. Non-ASCII characters become `\uXXXX` escapes (surrogate
# pairs beyond the BMP); `/` is escaped only when `slashes = TRUE` (the
# server's error bodies use flags 0, its data JSON_UNESCAPED_SLASHES).
srv_php_json <- function(x, slashes = FALSE) {
  if (is.null(x)) {
    return("null")
  }
  if (is.list(x) && !inherits(x, "php_number")) {
    if (length(x) == 0L) {
      return("[]")
    }
    values <- vapply(x, srv_php_json, "", slashes = slashes)
    if (is.null(names(x))) {
      return(paste0("[", paste(values, collapse = ","), "]"))
    }
    keys <- srv_php_json_string(names(x), slashes)
    return(paste0("{", paste0(keys, ":", values, collapse = ","), "}"))
  }
  values <- srv_php_json_scalars(x, slashes)
  if (length(values) == 1L) values else paste0("[", paste(values, collapse = ","), "]")
}

# One JSON token per element of an atomic vector (or php_number).
srv_php_json_scalars <- function(x, slashes = FALSE) {
  out <- if (inherits(x, "php_number")) {
    unclass(x)
  } else if (is.character(x)) {
    srv_php_json_string(x, slashes)
  } else if (is.logical(x)) {
    ifelse(x, "true", "false")
  } else if (is.integer(x)) {
    as.character(x)
  } else {
    srv_php_float_json(x)
  }
  out[is.na(x)] <- "null"
  out
}

# A number whose JSON and CSV text is given, e.g. an int64 beyond doubles
srv_php_number <- function(text) {
  structure(as.character(text), class = "php_number")
}

# JSON string literals, escaped as PHP json_encode() escapes them
srv_php_json_string <- function(x, slashes = FALSE) {
  x <- enc2utf8(as.character(x))
  x <- gsub("\\", "\\\\", x, fixed = TRUE)
  x <- gsub("\"", "\\\"", x, fixed = TRUE)
  if (slashes) {
    x <- gsub("/", "\\/", x, fixed = TRUE)
  }
  # Only strings with control or non-ASCII characters need per-character work.
  special <- !is.na(x) & grepl("[^ -~]", x, useBytes = TRUE)
  x[special] <- vapply(x[special], srv_php_escape_codepoints, "", USE.NAMES = FALSE)
  paste0("\"", x, "\"")
}

srv_php_escape_codepoints <- function(s) {
  cp <- utf8ToInt(s)
  out <- character(length(cp))
  plain <- cp >= 0x20 & cp < 0x80
  out[plain] <- intToUtf8(cp[plain], multiple = TRUE)
  ctrl <- cp < 0x20
  short <- c("8" = "\\b", "9" = "\\t", "10" = "\\n", "12" = "\\f", "13" = "\\r")
  out[ctrl] <- ifelse(
    as.character(cp[ctrl]) %in% names(short),
    short[as.character(cp[ctrl])],
    sprintf("\\u%04x", cp[ctrl])
  )
  bmp <- cp >= 0x80 & cp <= 0xFFFF
  out[bmp] <- sprintf("\\u%04x", cp[bmp])
  astral <- cp > 0xFFFF
  offset <- cp[astral] - 0x10000
  out[astral] <- sprintf("\\u%04x\\u%04x", 0xD800 + offset %/% 1024, 0xDC00 + offset %% 1024)
  paste(out, collapse = "")
}

# --- numbers ------------------------------------------------------------------

# Doubles as json_encode() writes them (serialize_precision = -1)
#
# The shortest digits that read back to the same double, in fixed notation
# unless the exponent is below -4 or 15 and above; no forced ".0".
srv_php_float_json <- function(x) {
  srv_php_float_layout(x, srv_php_shortest_digits(x), 15L, "e")
}

# Doubles as PHP's (string) cast writes them (precision = 14)
#
# This is what fputcsv() prints for a float: 14 significant digits.
srv_php_float_string <- function(x) {
  srv_php_float_layout(x, rep(14L, length(x)), 14L, "E")
}

srv_php_shortest_digits <- function(x) {
  digits <- rep(17L, length(x))
  todo <- is.finite(x)
  for (p in 1:16) {
    exact <- todo & as.numeric(sprintf("%.*e", p - 1L, x)) == x
    digits[exact] <- p
    todo <- todo & !exact
  }
  digits
}

# Lays out doubles the way PHP's zend_gcvt() does: `digits` significant
# digits, exponential form below 1e-4 and from 10^sci_from on, written as
# "1.0e+25" (a lone digit gets ".0", the exponent has no leading zeros).
srv_php_float_layout <- function(x, digits, sci_from, e) {
  out <- rep("null", length(x))
  ok <- is.finite(x)
  s <- sprintf("%.*e", digits[ok] - 1L, abs(x[ok]))
  mantissa <- gsub(".", "", sub("e.*$", "", s), fixed = TRUE)
  mantissa <- sub("0+$", "", mantissa)
  mantissa[mantissa == ""] <- "0"
  exponent <- as.integer(sub("^.*e", "", s))
  exponent[mantissa == "0"] <- 0L
  sign <- ifelse(x[ok] < 0 | (x[ok] == 0 & 1 / x[ok] < 0), "-", "")
  sci <- mantissa != "0" & (exponent < -4L | exponent >= sci_from)
  text <- character(length(s))
  lead <- substr(mantissa, 1L, 1L)
  rest <- substring(mantissa, 2L)
  text[sci] <- sprintf(
    "%s.%s%s%s%d", lead[sci], ifelse(rest[sci] == "", "0", rest[sci]), e,
    ifelse(exponent[sci] < 0L, "-", "+"), abs(exponent[sci])
  )
  fixed <- !sci
  text[fixed] <- srv_php_fixed_notation(mantissa[fixed], exponent[fixed])
  out[ok] <- paste0(sign, text)
  out
}

srv_php_fixed_notation <- function(mantissa, exponent) {
  n <- nchar(mantissa)
  small <- exponent < 0L
  out <- character(length(mantissa))
  out[small] <- paste0("0.", strrep("0", -exponent[small] - 1L), mantissa[small])
  int_digits <- exponent[!small] + 1L
  m <- mantissa[!small]
  padded <- paste0(m, strrep("0", pmax(int_digits - n[!small], 0L)))
  int_part <- substr(padded, 1L, int_digits)
  frac <- substring(padded, int_digits + 1L)
  out[!small] <- ifelse(frac == "", int_part, paste0(int_part, ".", frac))
  out
}

# PHP (int) casts of stored answers, as decimal text
#
# Strings are read as PHP reads them: leading whitespace, then the longest
# numeric prefix (no prefix gives 0); a value beyond 64 bits saturates. The
# text keeps integers beyond 2^53 exact.
srv_php_int_text <- function(x) {
  if (inherits(x, "php_number")) {
    x <- unclass(x)
  }
  if (is.numeric(x)) {
    return(srv_php_int_from_double(trunc(as.numeric(x))))
  }
  x <- as.character(x)
  match <- regexpr("^[ \t\n\r\v\f]*[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?", x)
  has <- match > 0
  prefix <- trimws(regmatches(x, match))
  value <- rep("0", length(x))
  integral <- grepl("^[+-]?[0-9]+$", prefix)
  value[has][integral] <- srv_php_int_from_digits(prefix[integral])
  value[has][!integral] <- srv_php_int_from_double(trunc(as.numeric(prefix[!integral])))
  value
}

srv_php_int_from_digits <- function(text) {
  negative <- startsWith(text, "-")
  digits <- sub("^0+(?=[0-9])", "", sub("^[+-]", "", text), perl = TRUE)
  limit <- ifelse(negative, "9223372036854775808", "9223372036854775807")
  over <- nchar(digits) > 19L | (nchar(digits) == 19L & digits > limit)
  digits[over] <- limit[over]
  ifelse(negative & digits != "0", paste0("-", digits), digits)
}

srv_php_int_from_double <- function(x) {
  x <- as.numeric(x)
  out <- sprintf("%.0f", x)
  out[x >= 9223372036854775807] <- "9223372036854775807"
  out[x <= -9223372036854775808] <- "-9223372036854775808"
  out[!is.finite(x)] <- "0"
  out
}

# PHP truthiness of stored scalars ("", "0", 0 and NULL are false)
srv_php_truthy <- function(x) {
  if (is.null(x) || length(x) != 1L || is.na(x)) {
    return(FALSE)
  }
  if (inherits(x, "php_number")) {
    x <- unclass(x)
  }
  if (is.character(x)) {
    return(!x %in% c("", "0"))
  }
  isTRUE(as.logical(x != 0))
}

# --- CSV ----------------------------------------------------------------------

# Rows of cells as PHP fputcsv() writes them
#
# `cells` is a character matrix, one row per line. A cell is quoted when it
# holds a comma, quote, backslash, space, tab, CR or LF; inside quotes `"` is
# doubled except right after a backslash (PHP's non-RFC escape character).
# Lines end in "\n".
srv_php_fputcsv <- function(cells) {
  if (!length(cells)) {
    return(character())
  }
  quoted <- srv_php_csv_cell(as.vector(cells))
  dim(quoted) <- dim(cells)
  paste0(apply(quoted, 1L, paste, collapse = ","), "\n")
}

srv_php_csv_cell <- function(x) {
  x <- enc2utf8(x)
  needs <- grepl("[,\"\\\\ \t\r\n]", x)
  plain <- needs & !grepl("\\", x, fixed = TRUE)
  x[plain] <- gsub("\"", "\"\"", x[plain], fixed = TRUE)
  escaped <- needs & !plain
  x[escaped] <- vapply(x[escaped], srv_php_csv_escape, "", USE.NAMES = FALSE)
  x[needs] <- paste0("\"", x[needs], "\"")
  x
}

# A quote right after a backslash is not doubled (fputcsv's escape rule).
srv_php_csv_escape <- function(s) {
  chars <- strsplit(s, "", fixed = TRUE)[[1]]
  after_escape <- c(FALSE, chars[-length(chars)] == "\\")
  # A backslash that is itself escaped does not escape the next character.
  for (i in seq_along(chars)[-1]) {
    after_escape[i] <- chars[i - 1L] == "\\" && !after_escape[i - 1L]
  }
  double <- chars == "\"" & !after_escape
  chars[double] <- "\"\""
  paste(chars, collapse = "")
}

# --- dates ---------------------------------------------------------------------

# Epicollect5 datetime_format -> R format of the PHP date() pattern the
# server uses (config/epicollect/mappings.php); 12-hour formats are rendered
# as 24-hour, as the server does.
srv_php_date_formats <- c(
  "dd/MM/YYYY" = "%d/%m/%Y", "MM/dd/YYYY" = "%m/%d/%Y", "YYYY/MM/dd" = "%Y/%m/%d",
  "MM/YYYY" = "%m/%Y", "dd/MM" = "%d/%m", "HH:mm:ss" = "%H:%M:%S",
  "hh:mm:ss" = "%H:%M:%S", "HH:mm" = "%H:%M", "hh:mm" = "%H:%M", "mm:ss" = "%M:%S"
)

# Stored ISO dates or times formatted as the export shows them
#
# `""` stays `""`; an unknown or missing format gives `""`.
srv_php_date <- function(iso, format) {
  out <- character(length(iso))
  pattern <- if (is.null(format) || is.na(format)) NA else srv_php_date_formats[format]
  ok <- nzchar(iso) & !is.na(pattern)
  if (any(ok)) {
    time <- as.POSIXct(substr(iso[ok], 1L, 19L), tz = "UTC", format = "%Y-%m-%dT%H:%M:%S")
    out[ok] <- format(time, pattern, tz = "UTC")
  }
  out
}

# Timestamps (seconds since the epoch) as the API writes them
srv_iso_time <- function(seconds, millis = rep(0L, length(seconds))) {
  base <- format(as.POSIXct(floor(seconds), origin = "1970-01-01", tz = "UTC"),
                 "%Y-%m-%dT%H:%M:%S", tz = "UTC")
  sprintf("%s.%03dZ", base, as.integer(millis))
}

# Timestamps as MySQL DATETIME text (project-level fields)
srv_mysql_time <- function(seconds) {
  format(as.POSIXct(floor(seconds), origin = "1970-01-01", tz = "UTC"),
         "%Y-%m-%d %H:%M:%S", tz = "UTC")
}

# Date strings the server's `date` validation accepts, as seconds
#
# A subset of what PHP strtotime() reads: a calendar date (`YYYY-MM-DD` or
# `YYYY/MM/DD`), optionally a time with fractions, optionally `Z` or an
# offset. Anything else, or an impossible date, is NA (the server's ec5_79).
srv_parse_filter_date <- function(x) {
  m <- regmatches(x, regexec(paste0(
    "^\\s*([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})",
    "(?:[T ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(\\.[0-9]+)?)?)?",
    "\\s*(Z|[+-][0-9]{2}:?[0-9]{2})?\\s*$"
  ), x, perl = TRUE))[[1]]
  if (!length(m)) {
    return(NA_real_)
  }
  n <- suppressWarnings(as.numeric(m[2:7]))
  n[is.na(n)] <- 0
  day <- as.Date(sprintf("%04d-%02d-%02d", n[1], n[2], n[3]), optional = TRUE)
  if (is.na(day) || format(day, "%m-%d") != sprintf("%02d-%02d", n[2], n[3]) ||
      n[4] > 23 || n[5] > 59 || n[6] > 59) {
    return(NA_real_)
  }
  seconds <- as.numeric(day) * 86400 + n[4] * 3600 + n[5] * 60 + n[6]
  if (nzchar(m[8])) seconds <- seconds + as.numeric(paste0("0", m[8]))
  zone <- m[9]
  if (nzchar(zone) && zone != "Z") {
    hm <- as.numeric(c(substr(zone, 2, 3), substring(gsub(":", "", zone), 4)))
    seconds <- seconds - ifelse(startsWith(zone, "-"), -1, 1) * (hm[1] * 3600 + hm[2] * 60)
  }
  seconds
}

# --- names ---------------------------------------------------------------------

# Laravel's Str::slug(), as the server applies it to project slugs
#
# Transliteration to ASCII goes through iconv, close to (but not exactly)
# the voku/portable-ascii tables Laravel uses.
srv_str_slug <- function(x) {
  x <- enc2utf8(x)
  ascii <- iconv(x, "UTF-8", "ASCII//TRANSLIT", sub = "")
  x <- ifelse(is.na(ascii), x, ascii)
  x <- gsub("_+", "-", x)
  x <- gsub("@", "-at-", x, fixed = TRUE)
  x <- gsub("[^-a-z0-9[:space:]]+", "", tolower(x))
  x <- gsub("[-[:space:]]+", "-", x)
  gsub("^-+|-+$", "", x)
}

# PHP LIKE patterns (`%`, `_`) as case-insensitive regular expressions
srv_like_regex <- function(pattern, anchored_start = FALSE) {
  chars <- strsplit(enc2utf8(pattern), "", fixed = TRUE)[[1]]
  literal <- !chars %in% c("%", "_")
  chars[literal] <- gsub("([][{}()^$.|*+?\\\\])", "\\\\\\1", chars[literal])
  chars[chars == "%"] <- ".*"
  chars[chars == "_"] <- "."
  paste0(if (anchored_start) "^" else "", paste(chars, collapse = ""))
}

# --- UTM -------------------------------------------------------------------------

# UTM northing, easting and zone of WGS 84 coordinates
#
# The USGS Bulletin 1532 equations of the GPoint class the server uses
# (including the Norway and Svalbard zone exceptions); northing and easting
# are truncated to integers as PHP's (int) does.
srv_utm_from_latlong <- function(lat, long) {
  a <- 6378137
  e2 <- 0.00669438
  k0 <- 0.9996
  long_temp <- (long + 180) - trunc((long + 180) / 360) * 360 - 180
  zone <- trunc((long_temp + 180) / 6) + 1
  zone[lat >= 56 & lat < 64 & long_temp >= 3 & long_temp < 12] <- 32
  svalbard <- lat >= 72 & lat < 84
  zone[svalbard & long_temp >= 0 & long_temp < 9] <- 31
  zone[svalbard & long_temp >= 9 & long_temp < 21] <- 33
  zone[svalbard & long_temp >= 21 & long_temp < 33] <- 35
  zone[svalbard & long_temp >= 33 & long_temp < 42] <- 37
  origin <- (zone - 1) * 6 - 180 + 3
  lat_rad <- lat * pi / 180
  ep2 <- e2 / (1 - e2)
  n <- a / sqrt(1 - e2 * sin(lat_rad)^2)
  t <- tan(lat_rad)^2
  cc <- ep2 * cos(lat_rad)^2
  aa <- cos(lat_rad) * (long_temp - origin) * pi / 180
  m <- a * ((1 - e2 / 4 - 3 * e2^2 / 64 - 5 * e2^3 / 256) * lat_rad -
    (3 * e2 / 8 + 3 * e2^2 / 32 + 45 * e2^3 / 1024) * sin(2 * lat_rad) +
    (15 * e2^2 / 256 + 45 * e2^3 / 1024) * sin(4 * lat_rad) -
    (35 * e2^3 / 3072) * sin(6 * lat_rad))
  easting <- k0 * n * (aa + (1 - t + cc) * aa^3 / 6 +
    (5 - 18 * t + t^2 + 72 * cc - 58 * ep2) * aa^5 / 120) + 500000
  northing <- k0 * (m + n * tan(lat_rad) * (aa^2 / 2 + (5 - t + 9 * cc + 4 * cc^2) * aa^4 / 24 +
    (61 - 58 * t + t^2 + 600 * cc - 330 * ep2) * aa^6 / 720))
  northing[lat < 0] <- northing[lat < 0] + 10000000
  list(
    northing = trunc(northing),
    easting = trunc(easting),
    zone = paste0(zone, srv_utm_letter(lat))
  )
}

srv_utm_letter <- function(lat) {
  bands <- c("C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "Q",
             "R", "S", "T", "U", "V", "W", "X")
  index <- floor((lat + 80) / 8) + 1
  index[lat >= 72 & lat <= 84] <- 20
  out <- bands[pmin(pmax(index, 1), 20)]
  out[lat > 84 | lat < -80] <- "Z"
  out
}
