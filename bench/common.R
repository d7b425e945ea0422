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
