# The clock of the benchmarks (flatten.R, csv.R).

# Seconds per iteration: elapsed (bench::mark()), or with EC5_BENCH_CLOCK=cpu
# the CPU time of this process (user + system), which a machine shared with
# other work inflates less.
time_method <- function(expr, iterations) {
  if (identical(Sys.getenv("EC5_BENCH_CLOCK"), "cpu")) {
    env <- parent.frame()
    return(vapply(seq_len(iterations), function(i) {
      t0 <- proc.time()
      eval(expr, env)
      sum((proc.time() - t0)[c("user.self", "sys.self")])
    }, numeric(1)))
  }
  timing <- bench::mark(exprs = list(expr), iterations = iterations, memory = FALSE,
                        check = FALSE, filter_gc = FALSE, time_unit = "s", env = parent.frame())
  as.numeric(timing$time[[1]])
}
