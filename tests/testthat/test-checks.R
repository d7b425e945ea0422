# --- what was supplied ---------------------------------------------------------

test_that("supplied() shows a value by its type", {
  supplied <- epicollect5:::supplied
  expect_identical(supplied(-1), "-1")
  expect_identical(supplied(2.5), "2.5")
  expect_identical(supplied(3L), "3")
  expect_identical(supplied("-1"), "\"-1\"")
  expect_identical(supplied(NA), "NA")
  expect_identical(supplied(NA_character_), "NA")
  expect_identical(supplied(TRUE), "TRUE")
  expect_identical(supplied(NULL), "NULL")
  expect_identical(supplied(Inf), "Inf")
  expect_identical(supplied(as.Date("2020-01-02")), "\"2020-01-02\"")
  expect_identical(supplied(factor("a")), "\"a\"")
  expect_identical(supplied(character()), "an empty character vector")
  expect_identical(
    supplied(c("University", "Student")),
    "a character vector of length 2: \"University\" and \"Student\""
  )
  expect_identical(supplied(1:7), "an integer vector of length 7: 1, 2, 3, 4, and 5, \u2026")
  expect_identical(supplied(mtcars), "a data frame")
  expect_identical(supplied(list(1)), "a list")
  expect_identical(supplied(strrep("a", 100)), paste0("\"", strrep("a", 57), "\u2026\""))
  # Braces in a value are shown, never interpreted.
  expect_identical(supplied("{x}"), "\"{x}\"")
  expect_snapshot(error = TRUE, epicollect5:::check_count("{.strong oops} {x}", "arg"))
})

# --- the checkers ----------------------------------------------------------------

test_that("each checker returns what it accepts and refuses the rest, classed", {
  ns <- asNamespace("epicollect5")
  expect_identical(ns$check_string("a"), "a")
  expect_null(ns$check_string(NULL, allow_null = TRUE))
  expect_identical(ns$check_string("", allow_empty = TRUE), "")
  expect_identical(ns$check_strings(c("a", "b")), c("a", "b"))
  expect_true(ns$check_bool(TRUE))
  expect_identical(ns$check_count(Inf, allow_inf = TRUE), Inf)
  expect_null(ns$check_count(NULL, allow_null = TRUE))
  expect_identical(ns$check_choice("b", values = c("a", "b")), "b")
  expect_identical(ns$check_choice(c("a", "b"), values = c("a", "b")), "a")
  expect_null(ns$check_choice(NULL, values = "a", allow_null = TRUE))
  bad <- list(
    quote(check_string(1)), quote(check_string("")), quote(check_string(NA_character_)),
    quote(check_string(c("a", "b"))), quote(check_strings(character())),
    quote(check_strings(c("a", NA))), quote(check_strings(c("a", ""))),
    quote(check_bool(NA)), quote(check_bool(c(TRUE, FALSE))), quote(check_bool("TRUE")),
    quote(check_count(Inf)), quote(check_count(-1)), quote(check_count(1.5)),
    quote(check_count(NA_real_)), quote(check_count("1")), quote(check_count(5, max = 4)),
    quote(check_count(as.Date("2020-01-01"))),
    quote(check_choice("c", values = c("a", "b"))), quote(check_choice(NA, values = "a")),
    quote(check_choice(NULL, values = "a")),
    quote(check_uuid("short")), quote(check_uuid(1)),
    quote(check_time("2020-13-45")), quote(check_time("yesterday")), quote(check_time(5)),
    quote(check_time(as.Date(c("2020-01-01", "2020-01-02")))), quote(check_time(as.Date(NA))),
    quote(check_data_frame(list())), quote(check_table_name("c", c("a", "b"))),
    quote(check_path("")), quote(check_form(c("a", "b")))
  )
  for (call in bad) {
    expect_error(eval(call, ns), class = "ec5_error_argument", label = deparse(call))
  }
})

test_that("check_choice() reads the choices from the caller's formals", {
  f <- function(size = c("small", "large")) epicollect5:::check_choice(size)
  expect_identical(f(), "small")
  expect_identical(f("large"), "large")
  expect_snapshot(error = TRUE, f("lareg"))
})

test_that("check_time() reads dates, times and ISO 8601 text", {
  check_time <- epicollect5:::check_time
  utc <- function(x) as.POSIXct(x, tz = "UTC")
  expect_null(check_time(NULL))
  expect_identical(check_time("2024-05-01"), utc("2024-05-01"))
  expect_identical(check_time("2024-05-01", end_of_day = TRUE), utc("2024-05-01 23:59:59"))
  expect_identical(check_time(as.Date("2024-05-01"), end_of_day = TRUE), utc("2024-05-01 23:59:59"))
  expect_identical(check_time("2024-05-01T12:30:00Z", end_of_day = TRUE), utc("2024-05-01 12:30:00"))
  expect_identical(check_time(utc("2024-05-01 12:30:00")), utc("2024-05-01 12:30:00"))
})

test_that("a missing required argument is named, not left to base R", {
  f <- function(path) epicollect5:::check_path(path, must = "a folder path")
  err <- expect_error(f(), class = "ec5_error_argument")
  expect_identical(err$argument, "path")
  expect_snapshot(error = TRUE, f())
})

# --- every exported function -------------------------------------------------------

# A small project as linked tables, without a server.
offline_project_data <- function() {
  project <- api_test_project()
  plan <- epicollect5:::project_data_plan(project, NULL, TRUE)
  tables <- lapply(seq_len(nrow(plan)), function(i) {
    branch <- if (plan$kind[i] == "branch") plan$ref[i]
    ec5_parse_entries(page_json(character()), project, form = plan$form_ref[i], branch = branch)
  })
  names(tables) <- plan$table
  epicollect5:::new_project_data(tables, project, plan)
}

# Bad calls of every exported function, one or more per argument (`arg`: the
# argument, or the option, the call gets wrong). They run against a closed
# port, so a call that sent a request would fail with a transport error, not
# an argument error.
bad <- function(arg, call) list(arg = arg, call = substitute(call))

bad_calls <- list(
  ec5_as_haven = list(
    bad("x", ec5_as_haven("x")),
    bad("project", ec5_as_haven(located, project = "ec5-demo"))
  ),
  ec5_as_sf = list(
    bad("x", ec5_as_sf(1)),
    bad("location", ec5_as_sf(located, location = 1)),
    bad("location", ec5_as_sf(located, location = "nowhere")),
    bad("na_rm", ec5_as_sf(located, na_rm = "yes"))
  ),
  ec5_auth = list(
    bad("client_id", ec5_auth(client_id = c("1", "2"), client_secret = "s", base_url = url)),
    bad("client_secret", ec5_auth(client_id = "1", client_secret = list("s"), base_url = url)),
    bad("base_url", ec5_auth(client_id = "1", client_secret = "s", base_url = "five.epicollect.net"))
  ),
  ec5_base_url = list(
    bad("epicollect5.base_url", withr::with_options(list(epicollect5.base_url = "ftp://x"), ec5_base_url()))
  ),
  ec5_branch_entries = list(
    bad("slug", ec5_branch_entries(base_url = url)),
    bad("slug", ec5_branch_entries("EC5 Demo", "b", base_url = url)),
    bad("slug", ec5_branch_entries("https://five.epicollect.net/project/ec5-demo", "b", base_url = url)),
    bad("branch", ec5_branch_entries("ec5-demo", base_url = url)),
    bad("branch", ec5_branch_entries("ec5-demo", c("a", "b"), base_url = url)),
    bad("form", ec5_branch_entries("ec5-demo", "b", form = 1, base_url = url)),
    bad("owner_uuid", ec5_branch_entries("ec5-demo", "b", owner_uuid = "short", base_url = url)),
    bad("map_index", ec5_branch_entries("ec5-demo", "b", map_index = "1", base_url = url)),
    bad("uuid", ec5_branch_entries("ec5-demo", "b", uuid = 1, base_url = url)),
    bad("title", ec5_branch_entries("ec5-demo", "b", title = 1, base_url = url)),
    bad("since", ec5_branch_entries("ec5-demo", "b", since = "2020-13-45", base_url = url)),
    bad("until", ec5_branch_entries("ec5-demo", "b", until = TRUE, base_url = url)),
    bad("date_field", ec5_branch_entries("ec5-demo", "b", date_field = "updated_at", base_url = url)),
    bad("sort_by", ec5_branch_entries("ec5-demo", "b", sort_by = 1, base_url = url)),
    bad("sort_order", ec5_branch_entries("ec5-demo", "b", sort_order = "up", base_url = url)),
    bad("max_entries", ec5_branch_entries("ec5-demo", "b", max_entries = -1, base_url = url)),
    bad("per_page", ec5_branch_entries("ec5-demo", "b", per_page = 1001, base_url = url)),
    bad("created_by", ec5_branch_entries("ec5-demo", "b", created_by = "hide", base_url = url)),
    bad("col_names", ec5_branch_entries("ec5-demo", "b", col_names = "snake", base_url = url)),
    bad("tz", ec5_branch_entries("ec5-demo", "b", tz = 1, base_url = url)),
    bad("auth", ec5_branch_entries("ec5-demo", "b", auth = "token", base_url = url)),
    bad("base_url", ec5_branch_entries("ec5-demo", "b", base_url = "localhost"))
  ),
  ec5_cache_clear = list(
    bad("slug", ec5_cache_clear(slug = "Bad Slug", path = folder)),
    bad("slug", ec5_cache_clear(slug = 1, path = folder)),
    bad("path", ec5_cache_clear(path = 1))
  ),
  ec5_cache_dir = list(
    bad("epicollect5.cache_dir", withr::with_options(list(epicollect5.cache_dir = 1), ec5_cache_dir()))
  ),
  ec5_cache_info = list(
    bad("path", ec5_cache_info(path = c("a", "b")))
  ),
  ec5_choices = list(bad("x", ec5_choices(located))),
  ec5_codebook = list(
    bad("project", ec5_codebook(list())),
    bad("map_index", ec5_codebook(project, map_index = "1"))
  ),
  ec5_completeness = list(bad("x", ec5_completeness(list()))),
  ec5_counts = list(bad("x", ec5_counts())),
  ec5_deauth = list(
    bad("client_id", ec5_deauth(client_id = NA, base_url = url)),
    bad("base_url", ec5_deauth(client_id = "1", base_url = "ftp://x"))
  ),
  ec5_demo = list(bad("slug", ec5_demo(slug = "EC5 Demo"))),
  ec5_demo_server = list(
    bad("stop", ec5_demo_server(stop = "yes")),
    bad("rate_limits", ec5_demo_server(rate_limits = "fast")),
    bad("set_base_url", ec5_demo_server(set_base_url = NA))
  ),
  ec5_dictionary = list(bad("x", ec5_dictionary("project"))),
  ec5_dm = list(bad("data", ec5_dm(list()))),
  ec5_entries = list(
    bad("slug", ec5_entries(base_url = url)),
    bad("slug", ec5_entries(c("a", "b"), base_url = url)),
    bad("slug", ec5_entries("EC5 Demo", base_url = url)),
    bad("slug", ec5_entries("https://five.epicollect.net/about", base_url = url)),
    bad("form", ec5_entries("ec5-demo", form = c("University", "Student"), base_url = url)),
    bad("map_index", ec5_entries("ec5-demo", map_index = -1, base_url = url)),
    bad("parent_uuid", ec5_entries("ec5-demo", parent_uuid = "short", base_url = url)),
    bad("uuid", ec5_entries("ec5-demo", uuid = NA, base_url = url)),
    bad("title", ec5_entries("ec5-demo", title = c("a", "b"), base_url = url)),
    bad("since", ec5_entries("ec5-demo", since = "2020-13-45", base_url = url)),
    bad("since", ec5_entries("ec5-demo", since = "2024-05-02", until = "2024-05-01", base_url = url)),
    bad("until", ec5_entries("ec5-demo", until = 5, base_url = url)),
    bad("date_field", ec5_entries("ec5-demo", date_field = "created", base_url = url)),
    bad("sort_by", ec5_entries("ec5-demo", sort_by = "name", base_url = url)),
    bad("sort_order", ec5_entries("ec5-demo", sort_order = c("desc", "asc", "x"), base_url = url)),
    bad("max_entries", ec5_entries("ec5-demo", max_entries = -1, base_url = url)),
    bad("per_page", ec5_entries("ec5-demo", per_page = "1000", base_url = url)),
    bad("created_by", ec5_entries("ec5-demo", created_by = NA, base_url = url)),
    bad("col_names", ec5_entries("ec5-demo", col_names = "snake", base_url = url)),
    bad("tz", ec5_entries("ec5-demo", tz = "Mars/Olympus_Mons", base_url = url)),
    bad("auth", ec5_entries("ec5-demo", auth = list(), base_url = url)),
    bad("base_url", ec5_entries("ec5-demo", base_url = NA))
  ),
  ec5_expand_choices = list(
    bad("x", ec5_expand_choices(1:3)),
    bad("x", ec5_expand_choices(located)),
    bad("columns", ec5_expand_choices(data, columns = "4_Faculties")),
    bad("project", ec5_expand_choices(located, project = 1))
  ),
  ec5_fingerprint = list(
    bad("slug", ec5_fingerprint("EC5 Demo", base_url = url)),
    bad("auth", ec5_fingerprint("ec5-demo", auth = "token", base_url = url)),
    bad("base_url", ec5_fingerprint("ec5-demo", base_url = "localhost"))
  ),
  ec5_join = list(
    bad("x", ec5_join(1, "a")),
    bad("child", ec5_join(data)),
    bad("child", ec5_join(data, "nope")),
    bad("child", ec5_join(data, "Form")),
    bad("parent", ec5_join(data, "6_Family_Members", parent = 1)),
    bad("suffix", ec5_join(data, "6_Family_Members", suffix = NA_character_))
  ),
  ec5_labels = list(bad("x", ec5_labels("x"))),
  ec5_local = list(
    bad("slug", ec5_local("Ec5-demo", path = folder, base_url = url)),
    bad("con", ec5_local("ec5-demo", con = "db.sqlite", base_url = url)),
    bad("path", ec5_local("ec5-demo", path = "", base_url = url)),
    bad("col_names", ec5_local("ec5-demo", path = folder, col_names = "snake", base_url = url)),
    bad("tz", ec5_local("ec5-demo", path = folder, tz = NA, base_url = url)),
    bad("base_url", ec5_local("ec5-demo", path = folder, base_url = 1))
  ),
  ec5_map_plot = list(
    bad("x", ec5_map_plot(located)),
    bad("main", ec5_map_plot(data, main = 1))
  ),
  ec5_media = list(
    bad("slug", ec5_media(1, "a_1.jpg", base_url = url)),
    bad("name", ec5_media("ec5-demo", base_url = url)),
    bad("name", ec5_media("ec5-demo", "photo.txt", base_url = url)),
    bad("format", ec5_media("ec5-demo", "a_1.jpg", format = "big", base_url = url)),
    bad("path", ec5_media("ec5-demo", "a_1.jpg", path = 1, base_url = url)),
    bad("type", ec5_media("ec5-demo", "a_1.jpg", type = "image", base_url = url)),
    bad("auth", ec5_media("ec5-demo", "a_1.jpg", auth = "token", base_url = url)),
    bad("base_url", ec5_media("ec5-demo", "a_1.jpg", base_url = "http://"))
  ),
  ec5_media_download = list(
    bad("x", ec5_media_download(1, folder, slug = "ec5-demo", base_url = url)),
    bad("path", ec5_media_download("a_1.jpg", slug = "ec5-demo", base_url = url)),
    bad("format", ec5_media_download("a_1.jpg", folder, format = "original", slug = "ec5-demo", base_url = url)),
    bad("overwrite", ec5_media_download("a_1.jpg", folder, overwrite = "yes", slug = "ec5-demo", base_url = url)),
    bad("layout", ec5_media_download("a_1.jpg", folder, layout = "tree", slug = "ec5-demo", base_url = url)),
    bad("slug", ec5_media_download("a_1.jpg", folder, base_url = url)),
    bad("slug", ec5_media_download("a_1.jpg", folder, slug = -1, base_url = url)),
    bad("auth", ec5_media_download("a_1.jpg", folder, slug = "ec5-demo", auth = 1, base_url = url)),
    bad("base_url", ec5_media_download("a_1.jpg", folder, slug = "ec5-demo", base_url = ""))
  ),
  ec5_newest = list(
    bad("x", ec5_newest(located)),
    bad("table", ec5_newest(data, table = "nope")),
    bad("n", ec5_newest(data, n = 0)),
    bad("columns", ec5_newest(data, columns = 2.5)),
    bad("width", ec5_newest(data, width = "wide"))
  ),
  ec5_parse_entries = list(
    bad("json", ec5_parse_entries(project = project)),
    bad("json", ec5_parse_entries(list(1), project)),
    bad("project", ec5_parse_entries(page)),
    bad("project", ec5_parse_entries(page, 1)),
    bad("form", ec5_parse_entries(page, project, form = NA)),
    bad("branch", ec5_parse_entries(page, project, branch = 1)),
    bad("map_index", ec5_parse_entries(page, project, map_index = "0")),
    bad("col_names", ec5_parse_entries(page, project, col_names = "Clean"))
  ),
  ec5_problems = list(bad("x", ec5_problems(NULL))),
  ec5_project = list(
    bad("slug", ec5_project(base_url = url)),
    bad("slug", ec5_project("http://localhost:1234/project/ec5-demo", base_url = url)),
    bad("auth", ec5_project("ec5-demo", auth = "token", base_url = url)),
    bad("base_url", ec5_project("ec5-demo", base_url = c(url, url)))
  ),
  ec5_project_data = list(
    bad("slug", ec5_project_data("ec5_demo", base_url = url)),
    bad("forms", ec5_project_data("ec5-demo", forms = 1, base_url = url)),
    bad("branches", ec5_project_data("ec5-demo", branches = "yes", base_url = url)),
    bad("...", ec5_project_data("ec5-demo", sice = "2024-01-01", base_url = url)),
    bad("...", ec5_project_data("ec5-demo", NULL, TRUE, "2024-01-01", base_url = url)),
    bad("col_names", ec5_project_data("ec5-demo", col_names = NA, base_url = url)),
    bad("tz", ec5_project_data("ec5-demo", tz = "", base_url = url)),
    bad("auth", ec5_project_data("ec5-demo", auth = TRUE, base_url = url)),
    bad("base_url", ec5_project_data("ec5-demo", base_url = "https://five.epicollect.net/project/ec5-demo?x"))
  ),
  ec5_project_from_json = list(
    bad("json", ec5_project_from_json()),
    bad("json", ec5_project_from_json(c("{}", "{}")))
  ),
  ec5_read_csv = list(
    bad("path", ec5_read_csv()),
    bad("path", ec5_read_csv(NA_character_)),
    bad("project", ec5_read_csv(csv, project = "project")),
    bad("form", ec5_read_csv(csv, project, form = c("a", "b"))),
    bad("branch", ec5_read_csv(csv, project, branch = TRUE)),
    bad("map_index", ec5_read_csv(csv, project, map_index = 0.5)),
    bad("col_names", ec5_read_csv(csv, project, col_names = 1)),
    bad("tz", ec5_read_csv(csv, project, tz = "Nowhere"))
  ),
  ec5_search_projects = list(
    bad("name", ec5_search_projects(base_url = url)),
    bad("name", ec5_search_projects("a/b", base_url = url)),
    bad("exact", ec5_search_projects("EC5", exact = "yes", base_url = url)),
    bad("base_url", ec5_search_projects("EC5", base_url = "ftp://x"))
  ),
  ec5_sitrep = list(bad("base_url", ec5_sitrep(base_url = "nowhere"))),
  ec5_sync = list(
    bad("slug", ec5_sync("ec5 demo", path = folder, base_url = url)),
    bad("con", ec5_sync("ec5-demo", con = "db.sqlite", base_url = url)),
    bad("full", ec5_sync("ec5-demo", path = folder, full = "yes", base_url = url)),
    bad("auth", ec5_sync("ec5-demo", path = folder, auth = "token", base_url = url)),
    bad("base_url", ec5_sync("ec5-demo", path = folder, base_url = NULL)),
    bad("path", ec5_sync("ec5-demo", path = NA, base_url = url)),
    bad("col_names", ec5_sync("ec5-demo", path = folder, col_names = "snake", base_url = url))
  ),
  ec5_tbl = list(
    bad("con", ec5_tbl("db", "ec5-demo", "Form")),
    bad("slug", ec5_tbl(con, "Ec5 Demo", "Form")),
    bad("table", ec5_tbl(con, "ec5-demo")),
    bad("col_names", ec5_tbl(con, "ec5-demo", "Form", col_names = "snake"))
  ),
  ec5_uploads = list(
    bad("x", ec5_uploads(project)),
    bad("unit", ec5_uploads(data, unit = "year"))
  ),
  ec5_uploads_plot = list(
    bad("x", ec5_uploads_plot(1)),
    bad("tables", ec5_uploads_plot(data, tables = 1)),
    bad("tables", ec5_uploads_plot(data, tables = "nope"))
  ),
  ec5_write_csv = list(
    bad("x", ec5_write_csv(mtcars, file.path(folder, "cars.csv"))),
    bad("x", ec5_write_csv("entries", file.path(folder, "cars.csv"))),
    bad("path", ec5_write_csv(located)),
    bad("path", ec5_write_csv(located, c("a.csv", "b.csv"))),
    bad("bom", ec5_write_csv(located, file.path(folder, "out.csv"), bom = "yes"))
  ),
  ec5_write_xlsx = list(
    bad("data", ec5_write_xlsx(list(), file.path(folder, "out.xlsx"))),
    bad("path", ec5_write_xlsx(data, 1)),
    bad("path", ec5_write_xlsx(data))
  )
)

# What the bad calls refer to.
bad_call_env <- function(.local_envir = parent.frame()) {
  env <- new.env(parent = asNamespace("epicollect5"))
  env$url <- "http://127.0.0.1:9"
  env$folder <- withr::local_tempdir(.local_envir = .local_envir)
  env$project <- api_test_project()
  env$data <- offline_project_data()
  env$page <- page_json(character())
  env$located <- tibble::tibble(ec5_uuid = "u", lat_where = 51.5, long_where = -0.12)
  env$csv <- file.path(env$folder, "entries.csv")
  writeLines("ec5_uuid,title\nu,t", env$csv)
  env$con <- DBI::dbConnect(RSQLite::SQLite(), ":memory:")
  withr::defer(DBI::dbDisconnect(env$con), envir = .local_envir)
  env
}

test_that("every exported function and each of its arguments has bad calls", {
  exports <- sort(getNamespaceExports("epicollect5"))
  expect_identical(setdiff(exports, names(bad_calls)), character(0))
  for (fn in exports) {
    args <- as.character(names(formals(getExportedValue("epicollect5", fn))))
    covered <- vapply(bad_calls[[fn]], `[[`, "", "arg")
    expect_identical(setdiff(args, covered), character(0), label = paste("untested arguments of", fn))
  }
})

for (fn in names(bad_calls)) {
  test_that(paste0(fn, "() refuses bad arguments with ec5_error_argument"), {
    withr::local_options(epicollect5.verbose = FALSE)
    env <- bad_call_env()
    shown <- character()
    for (row in bad_calls[[fn]]) {
      label <- paste(deparse(row$call, width.cutoff = 500L), collapse = " ")
      err <- expect_error(eval(row$call, env), class = "ec5_error_argument", label = label)
      message <- conditionMessage(err)
      expect_true(grepl(paste0("`", row$arg, "`"), message, fixed = TRUE), label = paste(label, "names", row$arg))
      shown <- c(shown, paste0("> ", label), message, "")
    }
    expect_snapshot(writeLines(shown))
  })
}
