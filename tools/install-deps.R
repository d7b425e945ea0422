# Installs the R packages that epicollect5 needs to build, test and run its
# demo, from the repositories configured for this R (getOption("repos")).
needed <- c(
  "Rcpp", "rapidjsonr", "cli", "rlang", "tibble", "filelock",
  "testthat", "webfakes", "jsonlite", "withr", "knitr", "rmarkdown",
  "roxygen2", "sf", "bench", "RcppSimdJson", "DBI", "RSQLite", "blob", "dbplyr", "dplyr",
  "RPostgres"
)
repos <- getOption("repos")
if (is.null(repos) || identical(unname(repos["CRAN"]), "@CRAN@")) {
  stop("No CRAN mirror is configured: set options(repos = ...) in your .Rprofile.", call. = FALSE)
}
missing <- setdiff(needed, rownames(utils::installed.packages()))
if (length(missing)) {
  message("Installing R packages: ", paste(missing, collapse = ", "))
  utils::install.packages(missing, Ncpus = max(1L, parallel::detectCores()))
}
still <- setdiff(needed, rownames(utils::installed.packages()))
if (length(still)) stop("Could not install: ", paste(still, collapse = ", "), call. = FALSE)
