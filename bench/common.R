# The set-up of the benchmarks that read pages (csv.R, flatten.R), sourced
# once they have found `bench_dir`: the package from EC5_BENCH_LIB when set,
# bench, the pages and projects (pages.R) and the clock (clock.R).

lib <- Sys.getenv("EC5_BENCH_LIB")
if (nzchar(lib)) .libPaths(c(lib, .libPaths()))
suppressPackageStartupMessages({
  library(epicollect5)
  library(bench)
})
source(file.path(bench_dir, "pages.R"))
source(file.path(bench_dir, "clock.R"))

# Text columns are made lazily (src/lazy_text.h): their R strings are made
# when they are first read. The table with every string read once (is.na()
# reads each element) is what a user who looks at all of them pays.
read_every_string <- function(table) {
  for (column in table) if (is.character(column)) is.na(column)
  table
}
