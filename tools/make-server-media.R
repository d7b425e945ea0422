# Builds the small JPEG files the local Epicollect5 server sends as media
# (inst/extdata/server/media/). They are drawn here, so they carry no third
# party content. The two placeholders are padded with a JPEG comment segment
# to the exact byte sizes of the real server's placeholders (API-NOTES.md §6),
# because clients recognise placeholders by those sizes.
#
# Run from the package root: Rscript tools/make-server-media.R
dir <- "inst/extdata/server/media"
dir.create(dir, recursive = TRUE, showWarnings = FALSE)

draw <- function(file, width, height, colour, label, quality = 75) {
  grDevices::jpeg(file, width = width, height = height, quality = quality,
                  type = "cairo")
  on.exit(grDevices::dev.off())
  graphics::par(mar = c(0, 0, 0, 0), bg = colour)
  graphics::plot.new()
  graphics::rect(0.1, 0.1, 0.9, 0.9, col = grDevices::adjustcolor("white", 0.35),
                 border = NA)
  graphics::text(0.5, 0.5, label, cex = max(width / 160, 0.6), col = "grey15")
}

# Inserts COM segments after the JFIF header (SOI plus APP0) until the file
# is `size` bytes.
pad_jpeg <- function(file, size) {
  bytes <- readBin(file, "raw", file.size(file))
  stopifnot(identical(bytes[3:4], as.raw(c(0xFF, 0xE0))))
  head <- 4L + as.integer(bytes[5]) * 256L + as.integer(bytes[6])
  missing <- size - length(bytes)
  stopifnot(missing >= 4)
  segments <- list()
  while (missing > 0) {
    len <- min(missing - 2L, 65535L)
    if ((missing - (len + 2L)) %in% 1:3) len <- len - 4L
    payload <- rep(as.raw(0x20), len - 2L)
    segments[[length(segments) + 1L]] <- c(
      as.raw(c(0xFF, 0xFE, len %/% 256L, len %% 256L)), payload
    )
    missing <- missing - (len + 2L)
  }
  writeBin(c(bytes[seq_len(head)], unlist(segments), bytes[-seq_len(head)]), file)
  stopifnot(file.size(file) == size)
}

colours <- c("#8fbc8f", "#87a8d0", "#e0b070")
for (i in seq_along(colours)) {
  draw(file.path(dir, sprintf("photo-%d.jpg", i)), 320, 240, colours[i],
       sprintf("ec5 demo photo %d", i))
  draw(file.path(dir, sprintf("thumb-%d.jpg", i)), 100, 100, colours[i],
       sprintf("thumb %d", i), quality = 70)
}
draw(file.path(dir, "logo-512.jpg"), 512, 512, "#6a5acd", "ec5 demo logo")
draw(file.path(dir, "logo-128.jpg"), 128, 128, "#6a5acd", "logo")

unsynced <- file.path(dir, "placeholder-unsynced-512.jpg")
draw(unsynced, 512, 512, "grey80", "photo not synced", quality = 60)
pad_jpeg(unsynced, 40073L)

generic <- file.path(dir, "placeholder-256.jpg")
draw(generic, 256, 256, "grey85", "no image", quality = 40)
pad_jpeg(generic, 3735L)

print(file.size(list.files(dir, full.names = TRUE)))
