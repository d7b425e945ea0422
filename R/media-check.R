# Whether a media file on disk is whole: of the type its name says and not
# cut short. Only the head and the tail of the file are read (for MP4, the
# 8 or 16 header bytes of each top-level box), so checking a folder of large
# videos before skipping them stays cheap. A server that sends an HTML page
# as `image/jpeg`, or a body cut short under a matching Content-Length,
# produces files that fail here.

# NA when `path` is a whole file of the type of `file`'s extension (and of
# `expected` bytes, when that is known), else the reason it is not.
media_check <- function(path, file = path, expected = NA_real_) {
  size <- file.size(path)
  if (is.na(size)) {
    return("The file cannot be read.")
  }
  if (!is.na(expected) && size != expected) {
    return(sprintf("The server announced %.0f bytes but sent %.0f.", expected, size))
  }
  con <- file(path, "rb")
  on.exit(close(con))
  check <- switch(tolower(tools::file_ext(file)),
    jpg = ,
    jpeg = media_check_jpeg,
    png = media_check_png,
    wav = media_check_wav,
    mp4 = media_check_mp4,
    function(con, size) NA_character_
  )
  check(con, size)
}

# `n` bytes from `offset`, fewer at the end of the file.
read_at <- function(con, offset, n) {
  seek(con, offset)
  readBin(con, "raw", n)
}

starts_with_bytes <- function(x, prefix) {
  length(x) >= length(prefix) && identical(x[seq_along(prefix)], prefix)
}

# Start of image FF D8 FF; end of image FF D9, which some cameras follow
# with zero padding.
media_check_jpeg <- function(con, size) {
  if (!starts_with_bytes(read_at(con, 0, 3), as.raw(c(0xff, 0xd8, 0xff)))) {
    return("It does not start as a JPEG image does.")
  }
  tail <- read_at(con, max(0, size - 64), 64)
  tail <- tail[seq_len(max(c(0L, which(tail != as.raw(0)))))]
  if (!identical(utils::tail(tail, 2), as.raw(c(0xff, 0xd9)))) {
    return("The JPEG image is cut short: it lacks its end marker.")
  }
  NA_character_
}

# The signature, and the IEND chunk as the last 12 bytes.
media_check_png <- function(con, size) {
  signature <- as.raw(c(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a))
  if (!starts_with_bytes(read_at(con, 0, 8), signature)) {
    return("It does not start as a PNG image does.")
  }
  iend <- as.raw(c(0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82))
  if (size < 20 || !identical(read_at(con, size - 12, 12), iend)) {
    return("The PNG image is cut short: it does not end with its IEND chunk.")
  }
  NA_character_
}

# RIFF, its length (little-endian, counting what follows the first 8 bytes)
# and WAVE.
media_check_wav <- function(con, size) {
  head <- read_at(con, 0, 12)
  if (length(head) < 12 || !identical(head[1:4], charToRaw("RIFF")) ||
    !identical(head[9:12], charToRaw("WAVE"))) {
    return("It does not start as a WAV file does.")
  }
  riff <- sum(as.numeric(head[5:8]) * 256^(0:3)) + 8
  if (riff != size) {
    return(sprintf("The WAV file says it holds %.0f bytes but has %.0f.", riff, size))
  }
  NA_character_
}

# Top-level boxes, the first `ftyp`, whose sizes add up to the file's: each
# box header is a 32-bit big-endian size and a type; size 1 means a 64-bit
# size follows, size 0 that the box runs to the end of the file.
media_check_mp4 <- function(con, size) {
  offset <- 0
  for (i in seq_len(media_max_boxes)) {
    header <- read_at(con, offset, 16)
    if (length(header) < 8) {
      return("The MP4 file is cut short inside a box header.")
    }
    if (offset == 0 && !identical(header[5:8], charToRaw("ftyp"))) {
      return("It does not start as an MP4 file does.")
    }
    box <- sum(as.numeric(header[1:4]) * 256^(3:0))
    if (box == 1) {
      box <- if (length(header) == 16) sum(as.numeric(header[9:16]) * 256^(7:0)) else 0
      if (box < 16) {
        return("The MP4 file has a box of impossible size.")
      }
    } else if (box == 0) {
      box <- size - offset
    } else if (box < 8) {
      return("The MP4 file has a box of impossible size.")
    }
    offset <- offset + box
    if (offset == size) {
      return(NA_character_)
    }
    if (offset > size) {
      return(sprintf("The MP4 file is cut short: its boxes need %.0f bytes, it has %.0f.", offset, size))
    }
  }
  "The MP4 file has more top-level boxes than a recording would."
}

# Fragmented recordings have a pair of boxes per fragment: thousands, not more.
media_max_boxes <- 100000L
