# Summarises the ASan/UBSan/LSan logs of tools/sanitize.sh:
#   Rscript tools/sanitizer-reports.R <logs-dir> <package-source-dir>
# Every ASan and UBSan report counts (only the package is instrumented). A
# leak counts when a frame of its allocation stack is in the package: R and
# the programs it starts (sed, sh) do not free all their memory at exit, and
# those leaks are only tallied. Prints the package's reports in full; exit status 1 if any.
args <- commandArgs(trailingOnly = TRUE)
logs <- args[[1]]
src <- paste0(normalizePath(args[[2]]), "/src/")
files <- list.files(logs, full.names = TRUE)
# Frames of the package: its shared library or, when symbolized, its sources
# (a frame of the Rcpp or RapidJSON headers inlined into the package is
# always called from one). Only this package's sources count: other packages
# (units, sf) were built from a src/ folder too.
ours <- function(frames) {
  any(grepl("epicollect5.so", frames, fixed = TRUE) | grepl(src, frames, fixed = TRUE))
}

asan <- ubsan <- character()
leaks <- list(ours = character(), ours_bytes = 0, other = 0L, other_bytes = 0)
processes <- 0L
for (f in files) {
  lines <- readLines(f, warn = FALSE)
  processes <- processes + 1L
  ubsan <- c(ubsan, grep("runtime error:", lines, value = TRUE))
  if (any(grepl("ERROR: AddressSanitizer", lines))) asan <- c(asan, paste(lines, collapse = "\n"))
  # Leak blocks: a "Direct/Indirect leak of N byte(s)" line, then its frames
  # up to the next blank line.
  starts <- grep("^(Direct|Indirect) leak of [0-9]+ byte", lines)
  for (s in starts) {
    end <- s + 1L
    while (end <= length(lines) && nzchar(lines[end])) end <- end + 1L
    block <- lines[s:(end - 1L)]
    bytes <- as.numeric(sub("^\\w+ leak of ([0-9]+) byte.*", "\\1", lines[s]))
    if (ours(block)) {
      leaks$ours <- c(leaks$ours, paste(block, collapse = "\n"))
      leaks$ours_bytes <- leaks$ours_bytes + bytes
    } else {
      leaks$other <- leaks$other + 1L
      leaks$other_bytes <- leaks$other_bytes + bytes
    }
  }
}

cat(sprintf("sanitizer logs: %d process(es) wrote reports\n", processes))
cat(sprintf("  AddressSanitizer errors:            %d\n", length(asan)))
cat(sprintf("  UndefinedBehaviorSanitizer reports: %d\n", length(ubsan)))
cat(sprintf("  leaks in the package:               %d (%s bytes)\n",
            length(leaks$ours), format(leaks$ours_bytes, big.mark = ",")))
cat(sprintf("  leaks elsewhere (not counted):      %d (%s bytes)\n",
            leaks$other, format(leaks$other_bytes, big.mark = ",")))
for (r in c(asan, unique(ubsan), leaks$ours)) cat("\n", r, "\n", sep = "")
quit(status = if (length(asan) + length(ubsan) + length(leaks$ours) > 0) 1 else 0)
