# Installs the R packages epicollect5 needs, at the minimum versions that
# DESCRIPTION states, from the repositories configured for this R
# (getOption("repos")). tools/setup.sh first installs Debian's prebuilt
# r-cran-* packages for those that Debian has new enough (see --debian), so
# that only the rest is compiled here.
#   Rscript tools/install-deps.R                  what using the package needs
#   Rscript tools/install-deps.R --dev            also what developing it needs
#   Rscript tools/install-deps.R --debian [--dev] print the r-cran-* packages to
#                                                 install with apt, install nothing
#   Rscript tools/install-deps.R --missing [--dev] print the packages missing or
#                                                 too old, install nothing
args <- commandArgs(trailingOnly = TRUE)
dev <- "--dev" %in% args

# Using the package: Imports and LinkingTo (to compile it), plus the maps,
# the vignettes and the demo server (webfakes runs it in a process through
# callr, which webfakes only suggests).
use_extra <- c("sf", "maps", "knitr", "rmarkdown", "webfakes", "callr", "jsonlite")
# Developing it: the tests, the documentation and the benchmarks.
# The other formats and tools (Stata/SPSS, Excel, dm, targets) are optional:
# their functions ask for them; tests and vignettes need them.
dev_extra <- c("roxygen2", "bench", "RcppSimdJson", "haven", "readxl", "writexl", "dm", "targets")
base_pkgs <- c("R", rownames(utils::installed.packages(priority = "base")))

# "pkg (>= 1.2)" entries of DESCRIPTION fields as a named vector of minimum
# versions ("0.0" when none is stated).
requirements <- function(fields) {
  d <- read.dcf("DESCRIPTION", fields = fields)
  items <- trimws(unlist(strsplit(d[!is.na(d)], ",")))
  items <- items[nzchar(items)]
  name <- sub("[[:space:]]*\\(.*$", "", items)
  min <- ifelse(grepl(">=", items), sub("^.*>=[[:space:]]*([^)[:space:]]+).*$", "\\1", items), "0.0")
  min <- stats::setNames(min, name)
  min[!name %in% base_pkgs]
}

needed <- function(dev) {
  use <- requirements(c("Imports", "LinkingTo"))
  suggested <- requirements("Suggests")
  extra <- stats::setNames(rep("0.0", length(use_extra)), use_extra)
  extra[intersect(names(extra), names(suggested))] <- suggested[intersect(names(extra), names(suggested))]
  out <- c(use, extra[setdiff(names(extra), names(use))])
  if (dev) {
    roxygen <- read.dcf("DESCRIPTION", fields = "Config/roxygen2/version")[1, 1]
    more <- c(suggested, stats::setNames(rep("0.0", length(dev_extra)), dev_extra))
    if (!is.na(roxygen)) more["roxygen2"] <- roxygen
    out <- c(out, more[setdiff(names(more), names(out))])
  }
  out[!duplicated(names(out))]
}

# The version of each package that R finds, NA where none.
installed_version <- function(pkgs) {
  ip <- utils::installed.packages()
  ip <- ip[!duplicated(ip[, "Package"]), , drop = FALSE]
  unname(ip[match(pkgs, ip[, "Package"]), "Version"])
}

new_enough <- function(have, min) {
  ok <- !is.na(have)
  # vapply, not mapply: on a machine with none of them installed there is
  # nothing to compare, and mapply() would turn `ok` into an empty list.
  ok[ok] <- vapply(which(ok), function(i) package_version(have[i]) >= package_version(min[i]), logical(1))
  ok
}

# Debian's candidate versions of r-cran-<pkg> for each of `pkgs`, as R
# versions ("1.0-9+dfsg-1+b1" is "1.0-9"), NA where Debian has none. One
# apt-cache call for all, which reads one consistent package cache.
debian_versions <- function(pkgs) {
  debs <- paste0("r-cran-", tolower(pkgs))
  out <- suppressWarnings(system2("apt-cache", c("policy", debs), stdout = TRUE, stderr = FALSE))
  block <- cumsum(grepl("^[^[:space:]].*:$", out))
  name <- sub(":$", "", out[grepl("^[^[:space:]].*:$", out)])
  cand <- vapply(seq_along(name), function(b) {
    line <- grep("Candidate:", out[block == b], value = TRUE)
    if (length(line)) sub("^[[:space:]]*Candidate:[[:space:]]*", "", line[1]) else "(none)"
  }, character(1))
  upstream <- sub("[+~].*$", "", sub("-[^-]*$", "", sub("^[0-9]+:", "", cand)))
  upstream[cand == "(none)" | !grepl("^[0-9]+([.-][0-9]+)*$", upstream)] <- NA
  unname(upstream[match(debs, name)])
}

want <- needed(dev)
missing <- names(want)[!new_enough(installed_version(names(want)), want)]

if ("--missing" %in% args) {
  cat(missing, sep = "\n")
  quit(status = 0)
}

if ("--debian" %in% args) {
  if (nzchar(Sys.which("apt-cache")) && length(missing)) {
    deb <- debian_versions(missing)
    usable <- missing[new_enough(deb, want[missing])]
    cat(paste0("r-cran-", tolower(usable)), sep = "\n")
  }
  quit(status = 0)
}

if (length(missing)) {
  repos <- getOption("repos")
  if (is.null(repos) || identical(unname(repos["CRAN"]), "@CRAN@")) {
    stop("No CRAN mirror is configured: set options(repos = ...) in your .Rprofile.", call. = FALSE)
  }
  message("Installing R packages: ", paste(missing, collapse = ", "))
  utils::install.packages(missing, Ncpus = max(1L, parallel::detectCores()), quiet = TRUE)
}
still <- names(want)[!new_enough(installed_version(names(want)), want)]
if (length(still)) stop("Could not install: ", paste(still, collapse = ", "), call. = FALSE)
