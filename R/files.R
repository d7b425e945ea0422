# Every file the package writes (CSV, media, the token cache) is written
# under a temporary name beside its final path and renamed into place only
# when whole: a reader never sees half a file, and an interrupted or failed
# write leaves the old file as it was.

# A temporary name beside `path`, unique to this process and call, so that
# processes writing into one folder never write into each other's file.
temp_beside <- function(path) {
  tempfile(paste0(basename(path), ".", Sys.getpid(), "-"), tmpdir = dirname(path), fileext = ".part")
}

# Renames `tmp` to `path`; whether it worked (a failed rename leaves `tmp`).
move_into_place <- function(tmp, path) {
  suppressWarnings(file.rename(tmp, path))
}

# Writes `bytes` to `path` as a whole or not at all; an ec5_error_io that
# says why when it cannot.
write_atomic <- function(bytes, path, call = rlang::caller_env()) {
  tmp <- temp_beside(path)
  on.exit(unlink(tmp), add = TRUE)
  failed <- tryCatch(
    {
      writeBin(bytes, tmp)
      if (!identical(file.size(tmp), as.double(length(bytes)))) "The file was written only in part."
    },
    error = conditionMessage,
    warning = conditionMessage
  )
  if (is.null(failed) && !move_into_place(tmp, path)) {
    failed <- "It could not be moved into place."
  }
  if (!is.null(failed)) {
    ec5_abort(c("Could not write {.file {path}}.", "x" = "{failed}"), class = "io", call = call)
  }
}
