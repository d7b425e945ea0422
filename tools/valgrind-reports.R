# Summarises the memcheck logs of tools/valgrind.sh:
#   Rscript tools/valgrind-reports.R <logs-dir> <package-source-dir>
# An error or a leak (definitely, indirectly or possibly lost) counts when a
# frame of its stacks is in the package: its shared library or its sources
# (an inlined Rcpp or RapidJSON frame is always called from those); the
# src/ folders of other packages (units, sf) do not count. The others are
# only tallied.
# Prints the package's reports in full; exit status 1 if there are any.
args <- commandArgs(trailingOnly = TRUE)
logs <- args[[1]]
src <- paste0(normalizePath(args[[2]]), "/src/")
ours <- function(block) {
  any(grepl("epicollect5.so", block, fixed = TRUE) | grepl(src, block, fixed = TRUE))
}
leak_pattern <- "bytes in [0-9,]+ blocks are (definitely|indirectly|possibly) lost"

counts <- list(errors = 0L, leaks = 0L, r_errors = 0L, r_leaks = 0L, r_leak_bytes = 0)
reports <- character()
summary_lines <- character()
for (f in list.files(logs, full.names = TRUE)) {
  lines <- sub("^==[0-9]+== ?", "", readLines(f, warn = FALSE))
  summary_lines <- c(summary_lines, grep("^ERROR SUMMARY", lines, value = TRUE))
  # Blocks are separated by empty lines; a report block starts at column 0
  # and its frames are indented.
  group <- cumsum(!nzchar(lines))
  for (block in split(lines, group)) {
    block <- block[nzchar(block)]
    if (!length(block) || grepl("^ ", block[1])) next
    head <- block[1]
    is_leak <- grepl(leak_pattern, head)
    is_error <- !is_leak && length(block) > 1 && grepl("^\\s+at 0x", block[2])
    if (!is_leak && !is_error) next
    if (ours(block)) {
      reports <- c(reports, paste(block, collapse = "\n"))
      if (is_leak) counts$leaks <- counts$leaks + 1L else counts$errors <- counts$errors + 1L
    } else if (is_leak) {
      counts$r_leaks <- counts$r_leaks + 1L
      counts$r_leak_bytes <- counts$r_leak_bytes +
        as.numeric(gsub(",", "", sub("^([0-9,]+) .*", "\\1", sub("^\\s*", "", head))))
    } else {
      counts$r_errors <- counts$r_errors + 1L
    }
  }
}

cat(sprintf("valgrind logs: %d process(es)\n", length(list.files(logs))))
cat(sprintf("  memcheck errors in the package:    %d\n", counts$errors))
cat(sprintf("  leaks in the package:              %d\n", counts$leaks))
cat(sprintf("  errors elsewhere (not counted):    %d\n", counts$r_errors))
cat(sprintf("  leaks elsewhere (not counted):     %d (%s bytes)\n", counts$r_leaks,
            format(counts$r_leak_bytes, big.mark = ",")))
for (s in summary_lines) cat("  ", s, "\n", sep = "")
for (r in reports) cat("\n", r, "\n", sep = "")
quit(status = if (length(reports)) 1 else 0)
