# Prepares what the fuzz targets need, from an installed epicollect5:
#   Rscript tools/fuzz/corpus.R <out-dir>
# writes
#   <out-dir>/specs.rds         column specs (ec5_column_spec()) of every form
#                               and branch of every fixture definition, and
#                               the CSV plan rows of all their questions;
#   <out-dir>/seeds/definition  the fixture definitions and the local server's
#                               /api/export/project responses;
#   <out-dir>/seeds/entries     entries pages, each prefixed by one byte that
#                               selects its spec in specs.rds;
#   <out-dir>/seeds/csv         the fixture CSV files and CSV pages of the
#                               local server;
#   <out-dir>/seeds/json        every JSON body above, the server's error
#                               bodies and token responses.
# Run from the package's root folder.
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[[1]] else stop("usage: corpus.R <out-dir>")
suppressPackageStartupMessages(library(epicollect5))
options(epicollect5.verbose = FALSE, epicollect5.cache_dir = file.path(tempdir(), "cache"))

json_dir <- "tests/testthat/fixtures/json"
csv_dir <- "tests/testthat/fixtures/csv"
project_dir <- "inst/extdata/projects"
for (d in file.path(out, "seeds", c("definition", "entries", "csv", "json"))) {
  dir.create(d, recursive = TRUE, showWarnings = FALSE)
}

read_bytes <- function(path) readBin(path, "raw", file.size(path))

seed <- function(target, name, bytes) {
  writeBin(bytes, file.path(out, "seeds", target, name))
}

# --- specs ---------------------------------------------------------------------

# Every form (form mode) and every branch question (branch mode) of a project.
project_specs <- function(project, label) {
  specs <- list()
  for (f in seq_len(nrow(project$forms))) {
    form <- project$forms$ref[[f]]
    specs[[length(specs) + 1]] <- list(
      id = paste0(label, "/", project$forms$slug[[f]]),
      cs = suppressWarnings(epicollect5:::ec5_column_spec(project, form = form))
    )
    branches <- project$inputs$ref[project$inputs$type %in% "branch" &
      project$inputs$form_ref == form]
    for (b in branches) {
      specs[[length(specs) + 1]] <- list(
        id = paste0(label, "/", project$forms$slug[[f]], "/", b),
        cs = suppressWarnings(epicollect5:::ec5_column_spec(project, form = form, branch = b))
      )
    }
  }
  specs
}

# Minimal definitions (EC5_AUTO names only) for the fixture pages whose real
# definitions are not available, as tests/testthat/helper-parse.R builds them.
synthetic_definition <- function(slug, questions) {
  inputs <- lapply(seq_along(questions), function(i) {
    q <- questions[[i]]
    list(
      ref = paste0("p_f1_q", i), type = q[[1]], question = q[[2]],
      datetime_format = if (length(q) > 2 && !is.na(q[[3]])) q[[3]],
      is_title = FALSE, is_required = FALSE,
      possible_answers = lapply(seq_along(q$answers), function(k) {
        list(answer_ref = paste0("a", k), answer = q$answers[[k]])
      }),
      branch = lapply(seq_along(q$branch), function(k) {
        list(ref = paste0("p_f1_q", i, "_q", k), type = q$branch[[k]][[1]],
             question = q$branch[[k]][[2]], possible_answers = list())
      })
    )
  })
  body <- list(data = list(project = list(
    ref = "p", name = slug, slug = slug, access = "public", status = "active",
    forms = list(list(ref = "p_f1", name = "Form", slug = "form", inputs = inputs))
  )))
  as.character(jsonlite::toJSON(body, auto_unbox = TRUE, null = "null"))
}

synthetic <- list(
  "ec5-api-test" = synthetic_definition("ec5-api-test", list(
    list("text", "Name"), list("integer", "Age"), list("date", "Date of birth", "dd/MM/YYYY"),
    list("radio", "Sex", NA, answers = c("Female", "Male")), list("photo", "Photo"),
    list("branch", "Family Members", NA, branch = list(list("text", "Name"), list("integer", "Age")))
  )),
  "thirdparty" = synthetic_definition("thirdparty", list(
    list("text", "Share your nick with us"), list("date", "Date", "dd/MM/YYYY"),
    list("time", "Time", "HH:mm:ss"), list("location", "Location")
  )),
  "heiligenstadt-wien" = synthetic_definition("heiligenstadt-wien", list(
    list("text", "Moments Description"), list("location", "GPS Location(hint: turn on GPS)"),
    list("photo", "Moment Photo 01"), list("photo", "Moment Photo 02"),
    list("photo", "Moment Photo 03"), list("photo", "Moment Photo 04"),
    list("audio", "Interview"), list("video", "Video"),
    list("date", "DATE", "dd/MM/YYYY"), list("time", "TIME", "HH:mm")
  ))
)

definition_files <- list.files(project_dir, "\\.json$", full.names = TRUE)
projects <- lapply(definition_files, function(p) ec5_project_from_json(read_bytes(p)))
names(projects) <- vapply(projects, function(p) p$project$slug, "")
for (slug in names(synthetic)) projects[[slug]] <- ec5_project_from_json(synthetic[[slug]])

specs <- unlist(lapply(names(projects), function(slug) project_specs(projects[[slug]], slug)),
                recursive = FALSE)
if (length(specs) > 256) stop("more than 256 specs: one selector byte is not enough")
spec_index <- function(id) match(id, vapply(specs, `[[`, "", "id")) - 1L

# The CSV plan rows of every question of every spec (first name wins).
csv_plan <- do.call(rbind, lapply(specs, function(s) {
  columns <- epicollect5:::table_columns(s$cs)
  columns <- columns[!is.na(columns$question), ]
  # The bounds R/csv.R's csv_plan_spec() gives the integer and decimal builders.
  bound <- function(b) if (is.null(b)) NA_real_ else as.double(b[columns$question])
  columns$min <- bound(s$cs$spec$min)
  columns$max <- bound(s$cs$spec$max)
  columns
}))
csv_plan <- csv_plan[!duplicated(csv_plan$name), c("name", "type", "format", "levels", "min", "max")]
rownames(csv_plan) <- NULL

saveRDS(list(
  specs = lapply(specs, function(s) list(id = s$id, spec = s$cs$spec, options = s$cs$options)),
  csv_plan = csv_plan
), file.path(out, "specs.rds"))

# --- seeds from the fixtures -----------------------------------------------------

for (p in definition_files) seed("definition", basename(p), read_bytes(p))
for (slug in names(synthetic)) seed("definition", paste0("synthetic-", slug, ".json"), charToRaw(synthetic[[slug]]))

entry_seed <- function(id, name, bytes) {
  seed("entries", sprintf("%03d-%s", spec_index(id), name), c(as.raw(spec_index(id)), bytes))
}
fixture_pages <- list(
  "docs_entries_form_public_ec5-api-test.json" = "ec5-api-test/form",
  "docs_branch_entries_all_owners_ec5-api-test.json" = "ec5-api-test/form/p_f1_q6",
  "docs_branch_entries_one_owner_ec5-api-test.json" = "ec5-api-test/form/p_f1_q6",
  "thirdparty_single_entry_with_utm_location_2019.json" = "thirdparty/form",
  "heiligenstadt_archive_single_2022.json" = "heiligenstadt-wien/form",
  "pyepicollect_entries_private.json" =
    specs[[which(startsWith(vapply(specs, `[[`, "", "id"), "proyecto-api-python/"))[1]]]$id
)
for (name in names(fixture_pages)) {
  entry_seed(fixture_pages[[name]], name, read_bytes(file.path(json_dir, name)))
}
for (p in list.files(csv_dir, "\\.csv$", full.names = TRUE)) seed("csv", basename(p), read_bytes(p))

# --- seeds from the local server -------------------------------------------------

# A few entries of every form and branch of every hosted project, as JSON and
# CSV pages, and each project's export/project response.
component <- epicollect5:::server_component()
server <- webfakes::local_app_process(
  component$srv_app(entries = 12L, limits = list()),
  opts = webfakes::server_opts(num_threads = 2)
)
base_url <- sub("/$", "", server$url())
clients <- component$srv_clients()
get <- function(slug, path, query = list()) {
  client <- clients[clients$slug == slug, ]
  auth <- if (nrow(client)) ec5_auth(client$client_id, client$client_secret, base_url = base_url)
  resp <- epicollect5:::ec5_api_get(base_url, path, query = query, auth = auth)
  resp$body
}
hosted <- component$srv_catalogue()$slug
for (slug in hosted) {
  seed("definition", paste0("server-", slug, ".json"), get(slug, paste0("/api/export/project/", slug)))
  for (s in specs[startsWith(vapply(specs, `[[`, "", "id"), paste0(slug, "/"))]) {
    query <- list(form_ref = s$cs$form_ref, per_page = 8)
    if (!is.na(s$cs$branch_ref)) query$branch_ref <- s$cs$branch_ref
    name <- gsub("[^A-Za-z0-9_-]+", "_", s$id)
    path <- paste0("/api/export/entries/", slug)
    entry_seed(s$id, paste0("server-", name, ".json"), get(slug, path, query))
    seed("csv", paste0("server-", name, ".csv"), get(slug, path, c(query, format = "csv")))
  }
}
# Every JSON body, plus error bodies and a token response of the server.
for (p in c(list.files(json_dir, "\\.json$", full.names = TRUE),
            list.files("inst/extdata/server", "\\.json$", full.names = TRUE))) {
  seed("json", basename(p), read_bytes(p))
}
for (p in list.files(file.path(out, "seeds", "definition"), full.names = TRUE)) {
  file.copy(p, file.path(out, "seeds", "json", basename(p)), overwrite = TRUE)
}
fetch <- function(path, method = "GET", body = NULL) {
  headers <- if (!is.null(body)) "Content-Type: application/json" else character()
  epicollect5:::ec5_request(paste0(base_url, path), method = method, headers = headers, body = body)$body
}
seed("json", "server-error-404.json", fetch("/api/export/project/no-such-project"))
seed("json", "server-error-400.json", fetch("/api/export/entries/ec5-demo?per_page=x"))
seed("json", "server-token.json", fetch("/api/oauth/token", "POST", charToRaw(sprintf(
  '{"grant_type":"client_credentials","client_id":%s,"client_secret":"%s"}',
  clients$client_id[1], clients$client_secret[1]
))))
server$stop()

cat(sprintf(
  "%d specs; seeds: %d definitions, %d entries pages, %d CSV files, %d JSON bodies\n", length(specs),
  length(list.files(file.path(out, "seeds", "definition"))),
  length(list.files(file.path(out, "seeds", "entries"))),
  length(list.files(file.path(out, "seeds", "csv"))),
  length(list.files(file.path(out, "seeds", "json")))
))
