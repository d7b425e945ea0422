# Helpers for the definition and entries tests.

# A JSON fixture: entries pages live in tests/testthat/fixtures/json; the
# real project definitions once only, in the package's extdata/projects
# (the local server hosts them too).
fixture_file <- function(name) {
  path <- test_path("fixtures", "json", name)
  if (file.exists(path)) path else definition_file(name)
}

definition_file <- function(name) {
  system.file("extdata", "projects", name, package = "epicollect5", mustWork = TRUE)
}

json_fixture <- function(name) {
  path <- fixture_file(name)
  readChar(path, file.size(path), useBytes = TRUE)
}

fixture_project <- function(name = "pyepicollect_export_project_private_proyecto-api-python.json") {
  ec5_project_from_json(json_fixture(name))
}

# A question for make_project(): `answers` are labels (refs a1, a2, ... are
# made up), `group` / `branch` lists of further questions, `min` and `max`
# its bounds (as the server sends them: a number, numeric text or "").
q <- function(type, question, format = NULL, answers = NULL, group = NULL, branch = NULL,
              min = NULL, max = NULL) {
  list(
    type = type, question = question, datetime_format = format,
    answers = answers, group = group, branch = branch, min = min, max = max
  )
}

# The JSON of a definition without meta (EC5_AUTO is generated), with refs
# made up from positions: forms p_f1, p_f2; questions p_f1_q1, p_f1_q1_q1.
make_project_json <- function(forms, access = "public", slug = "test-project",
                              meta = NULL) {
  skip_if_not_installed("jsonlite")
  input <- function(x, ref) {
    kids <- function(list) lapply(seq_along(list), function(i) input(list[[i]], paste0(ref, "_q", i)))
    list(
      ref = ref, type = x$type, question = x$question,
      datetime_format = x$datetime_format, min = x$min, max = x$max,
      is_title = FALSE, is_required = FALSE,
      possible_answers = lapply(seq_along(x$answers), function(i) {
        list(answer_ref = paste0("a", i), answer = x$answers[[i]])
      }),
      group = kids(x$group), branch = kids(x$branch), jumps = list()
    )
  }
  form_list <- lapply(seq_along(forms), function(i) {
    ref <- paste0("p_f", i)
    list(
      ref = ref, name = names(forms)[i], slug = tolower(gsub(" ", "-", names(forms)[i])),
      type = "hierarchy",
      inputs = lapply(seq_along(forms[[i]]), function(k) input(forms[[i]][[k]], paste0(ref, "_q", k)))
    )
  })
  body <- list(data = list(id = "p", type = "project", project = list(
    ref = "p", name = "Test project", slug = slug, access = access,
    status = "active", forms = form_list
  )))
  if (!is.null(meta)) body <- c(list(meta = meta), body)
  as.character(jsonlite::toJSON(body, auto_unbox = TRUE, null = "null"))
}

make_project <- function(...) ec5_project_from_json(make_project_json(...))

# The definition of `ec5-api-test` as its pages show it (docs fixtures).
api_test_project <- function() {
  make_project(list(Form = list(
    q("text", "Name"),
    q("integer", "Age"),
    q("date", "Date of birth", format = "dd/MM/YYYY"),
    q("radio", "Sex", answers = c("Female", "Male")),
    q("photo", "Photo"),
    q("branch", "Family Members", branch = list(q("text", "Name"), q("integer", "Age")))
  )), slug = "ec5-api-test")
}

# An entries page around entries given as JSON text.
page_json <- function(entries, meta = NULL) {
  paste0(
    '{', if (!is.null(meta)) paste0('"meta":', meta, ','),
    '"data":{"id":"test-project","type":"entries","entries":[',
    paste(entries, collapse = ","), ']}}'
  )
}

# One entry with the system keys and the given answer key/values (JSON text).
entry_json <- function(uuid, ..., created_at = "2024-05-01T10:00:00.000Z") {
  answers <- c(...)
  paste0(
    '{"ec5_uuid":"', uuid, '","created_at":"', created_at,
    '","uploaded_at":"2024-05-01T10:05:00.000Z","title":"', uuid, '"',
    if (length(answers)) paste0(",", paste0('"', names(answers), '":', answers, collapse = ",")),
    "}"
  )
}

uuid <- function(i) sprintf("00000000-0000-4000-8000-%012d", i)

# Flattens pages silently (warnings are tested on their own).
parse_quietly <- function(json, project, ...) {
  suppressWarnings(ec5_parse_entries(json, project, ...))
}

# A form with a question of every type the table contract distinguishes.
contract_project <- function() {
  make_project(list(F = list(
    q("integer", "int"),
    q("decimal", "dec"),
    q("date", "dmy", format = "dd/MM/YYYY"),
    q("date", "mdy", format = "MM/dd/YYYY"),
    q("date", "ymd", format = "YYYY/MM/dd"),
    q("date", "my", format = "MM/YYYY"),
    q("date", "dm", format = "dd/MM"),
    q("time", "hms", format = "HH:mm:ss"),
    q("time", "hm", format = "hh:mm"),
    q("time", "ms", format = "mm:ss"),
    q("radio", "radio", answers = c("yes", "no", "1")),
    q("checkbox", "check", answers = c("a", "b")),
    q("searchsingle", "search", answers = c("x", "y")),
    q("location", "where"),
    q("phone", "phone"),
    q("text", "text"),
    q("branch", "kids", branch = list(q("text", "kid")))
  )))
}
