# Runs the test suite the way R CMD check does: against the installed package,
# so that the local Epicollect5 server (a webfakes subprocess) can load it too.
#   Rscript tools/run-tests.R            all tests
#   Rscript tools/run-tests.R entries    only test-entries*.R
# The package is installed into a private library (EC5_TEST_LIB, default a
# folder under tempdir()), never into the user's library. With
# EC5_TEST_INSTALLED=true the package already in EC5_TEST_LIB is tested as it
# is (tools/sanitize.sh and tools/valgrind.sh install instrumented builds).
# The tests need the development packages (tools/setup.sh --dev): after the
# README's set-up alone they are installed here first, so that running the
# tests is one command.
# Runs that test a package installed beforehand (EC5_TEST_INSTALLED, the
# sanitizer and valgrind runs) come after a set-up and skip this.
missing <- if (!identical(Sys.getenv("EC5_TEST_INSTALLED"), "true")) {
  system2("Rscript", c("tools/install-deps.R", "--missing", "--dev"), stdout = TRUE)
}
missing <- grep("^[[:alpha:]][[:alnum:].]*$", missing, value = TRUE)
if (length(missing)) {
  message("Installing what the tests need: ", paste(missing, collapse = ", "))
  if (system2("bash", c("tools/setup.sh", "--dev", "--deps")) != 0) {
    stop("tools/setup.sh --dev --deps failed; see its output above.", call. = FALSE)
  }
}
args <- commandArgs(trailingOnly = TRUE)
filter <- if (length(args)) args[[1]] else NULL

lib <- Sys.getenv("EC5_TEST_LIB", file.path(tempdir(), "ec5-test-lib"))
dir.create(lib, showWarnings = FALSE, recursive = TRUE)
if (!identical(Sys.getenv("EC5_TEST_INSTALLED"), "true")) {
  status <- system2(
    file.path(R.home("bin"), "R"),
    c("CMD", "INSTALL", "--no-multiarch", "--no-docs", "--no-test-load", "-l", shQuote(lib), "."),
    stdout = "", stderr = ""
  )
  if (status != 0) stop("R CMD INSTALL failed", call. = FALSE)
}

# Subprocesses (the local server) must find the same installation.
Sys.setenv(R_LIBS = paste(c(lib, .libPaths()), collapse = .Platform$path.sep))
.libPaths(c(lib, .libPaths()))
Sys.setenv(NOT_CRAN = "true")

testthat::set_max_fails(Inf)
results <- testthat::test_local(
  ".",
  filter = filter,
  load_package = "installed",
  reporter = testthat::ProgressReporter$new(show_praise = FALSE),
  stop_on_failure = FALSE
)
df <- as.data.frame(results)
failed <- sum(df$failed) + sum(df$error)
cat(sprintf(
  "\ntests: %d passed, %d failed, %d skipped\n",
  sum(df$passed), failed, sum(df$skipped)
))
quit(status = if (failed > 0) 1 else 0)
