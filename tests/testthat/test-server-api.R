# E1-E7 of the local server against API-NOTES.md (rate limits are off here; see
# test-server-guard.R for them).
no_limits <- function() {
  component$srv_limits("code", entries = NULL, project = NULL, media = NULL,
                                  token = NULL, global = NULL, public_media = NULL,
                                  public_media_burst = NULL)
}
srv <- local_ec5_server(limits = no_limits())

demo <- list(
  university = "ec5de3000b3c4c34a00243e3b5b68a3b_56e6e4c64176f",
  department = "ec5de3000b3c4c34a00243e3b5b68a3b_5720ceeb6d118",
  student = "ec5de3000b3c4c34a00243e3b5b68a3b_5720cf256d11b",
  facilities = "ec5de3000b3c4c34a00243e3b5b68a3b_56e6e4c64176f_5720cc82fedd1"
)
entries <- function(slug = "ec5-demo", ..., .headers = character()) {
  srv_get(srv, paste0("/api/export/entries/", slug), ..., .headers = .headers)
}
all_entries <- function(slug = "ec5-demo", ...) {
  srv_json(entries(slug, ..., per_page = 1000))$data$entries
}
errors <- function(response) {
  vapply(srv_json(response)$errors, function(e) paste(e$code, e$source), "")
}
field <- function(items, name) vapply(items, function(e) as.character(e[[name]]), "")

# --- E1 ------------------------------------------------------------------------

test_that("E1 sends the current envelope", {
  r <- entries(per_page = 5)
  expect_equal(r$status, 200L)
  expect_equal(r$headers[["content-type"]], "application/vnd.api+json; charset=utf-8")
  json <- srv_json(r)
  expect_equal(names(json), c("meta", "data", "links"))
  expect_equal(names(json$meta), c("total", "per_page", "current_page", "last_page", "from", "to",
                                   "newest", "oldest"))
  expect_equal(json$meta[c("total", "per_page", "current_page", "last_page", "from", "to")],
               list(total = 60L, per_page = 5L, current_page = 1L, last_page = 12L, from = 1L, to = 12L))
  expect_match(json$meta$newest, "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.000Z$")
  expect_equal(names(json$data), c("id", "type", "entries", "mapping"))
  expect_equal(json$data$mapping, list(map_name = "EC5_AUTO", map_index = 0L))
  expect_equal(names(json$links), c("self", "first", "prev", "next", "last"))
  expect_null(json$links$prev)
  expect_equal(
    json$links$self,
    paste0(srv$url, "/api/export/entries/ec5-demo?form_ref=", demo$university,
           "&parent_form_ref=&branch=&branch_ref=&branch_owner_uuid=&parent_uuid=&uuid=",
           "&input_ref=&per_page=5&page=1&sort_by=created_at&sort_order=DESC&map_index=0",
           "&filter_by=&filter_from=&filter_to=&format=json&headers=true&title=")
  )
  expect_match(json$links$last, "&page=12&")
  first <- json$data$entries[[1]]
  expect_equal(names(first)[1:4], c("ec5_uuid", "created_at", "uploaded_at", "title"))
  expect_match(first$created_at, "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$")
  expect_false("created_by" %in% names(first))
})

test_that("E1 escapes like json_encode with JSON_UNESCAPED_SLASHES", {
  r <- entries(per_page = 60)
  text <- rawToChar(r$body)
  expect_false(any(r$body > as.raw(0x7f)))
  expect_match(text, "\\\\ud83d\\\\udc1d|\\\\ud835\\\\udd18")
  expect_match(text, "http://127.0.0.1:[0-9]+/api/export", fixed = FALSE)
  expect_false(grepl("\\/", text, fixed = TRUE))
})

test_that("E1 pages cover every entry once; links lead to the end", {
  seen <- character()
  url <- paste0(srv$url, "/api/export/entries/ec5-demo?per_page=7&sort_by=uploaded_at&sort_order=ASC")
  pages <- 0
  while (!is.null(url)) {
    json <- srv_json(srv_request(url))
    seen <- c(seen, field(json$data$entries, "ec5_uuid"))
    url <- json$links[["next"]]
    pages <- pages + 1
  }
  expect_equal(pages, 9)
  expect_equal(length(seen), 60)
  expect_false(anyDuplicated(seen) > 0)
  past <- srv_json(entries(per_page = 7, page = 10))
  expect_equal(past$data$entries, list())
  expect_false("mapping" %in% names(past$data))
  expect_equal(past$meta[c("current_page", "last_page", "from", "to")],
               list(current_page = 10L, last_page = 9L, from = 10L, to = 9L))
  expect_match(past$links$prev, "&page=9&")
  expect_null(past$links[["next"]])
})

test_that("E1 per_page and page follow the server's rules", {
  expect_equal(srv_json(entries(per_page = 0))$meta$per_page, 50L)
  expect_equal(srv_json(entries(page = 0))$meta$current_page, 1L)
  expect_equal(length(srv_json(entries(per_page = 1000))$data$entries), 60)
  expect_equal(errors(entries(per_page = 1001)), "ec5_335 api")
  expect_equal(entries(per_page = 1001)$status, 400L)
  expect_equal(errors(entries(per_page = 1001, format = "csv")), "ec5_335 api")
  expect_equal(errors(entries(per_page = "abc", page = "1.5")), c("ec5_27 page", "ec5_27 per_page"))
})

test_that("E1 validates every parameter, rule errors first and together", {
  r <- entries(page = "x", uuid = "short", map_index = -1, sort_by = "name", sort_order = "up",
               filter_by = "title", filter_from = "soon", filter_to = "2024-02-30",
               format = "xml", headers = "yes")
  expect_equal(r$status, 400L)
  expect_equal(errors(r), c("ec5_27 page", "ec5_43 uuid", "ec5_43 map_index", "ec5_29 sort_by",
                            "ec5_29 sort_order", "ec5_29 filter_by", "ec5_79 filter_from",
                            "ec5_79 filter_to", "ec5_29 format", "ec5_29 headers"))
  expect_equal(errors(entries(map_index = "abc")), "ec5_27 map_index")
  expect_equal(errors(entries(form_ref = "nope")), "ec5_15 nope")
  expect_equal(errors(entries(parent_form_ref = "nope2")), "ec5_15 nope2")
  expect_equal(errors(entries(branch_ref = "nope3")), "ec5_99 nope3")
  expect_equal(errors(entries(input_ref = "nope4")), "ec5_84 nope4")
  expect_equal(errors(entries(map_index = 7)), "ec5_322 map_index: 7")
  # The title comes from codes.php, and error bodies escape slashes.
  expect_match(entries(filter_from = "soon")$text, "Date\\/time format incorrect", fixed = TRUE)
  # A valid input_ref makes the real server fail (it reads a missing parameter).
  expect_equal(entries(input_ref = paste0(demo$university, "_5720bb4c5ec5e"))$status, 500L)
})

test_that("E1 sorts by dates and by title in natural order", {
  created <- field(all_entries(sort_by = "created_at", sort_order = "asc"), "created_at")
  expect_equal(substr(created, 1, 19), sort(substr(created, 1, 19)))
  default <- field(all_entries(), "created_at")
  expect_equal(substr(default, 1, 19), sort(substr(default, 1, 19), decreasing = TRUE))
  uploaded <- field(all_entries(sort_by = "uploaded_at", sort_order = "DESC"), "uploaded_at")
  expect_equal(uploaded, sort(uploaded, decreasing = TRUE))
  titles <- field(all_entries(sort_by = "title", sort_order = "asc"), "title")
  bytes <- nchar(titles, type = "bytes")
  expect_equal(bytes, sort(bytes))
})

test_that("E1 filters: only filter_from is exact; both widen to whole days", {
  rows <- all_entries(sort_by = "uploaded_at", sort_order = "asc")
  uploaded <- field(rows, "uploaded_at")
  mark <- uploaded[30]
  after <- all_entries(filter_by = "uploaded_at", filter_from = mark)
  expect_setequal(field(after, "ec5_uuid"), field(rows, "ec5_uuid")[uploaded >= mark])
  later <- sub("\\.000Z$", ".500Z", mark)
  expect_false(mark %in% field(all_entries(filter_by = "uploaded_at", filter_from = later), "uploaded_at"))
  before <- all_entries(filter_by = "uploaded_at", filter_to = mark)
  expect_setequal(field(before, "ec5_uuid"), field(rows, "ec5_uuid")[uploaded <= mark])
  day <- substr(mark, 1, 10)
  both <- all_entries(filter_by = "uploaded_at", filter_from = mark, filter_to = mark)
  expect_setequal(field(both, "ec5_uuid"), field(rows, "ec5_uuid")[substr(uploaded, 1, 10) == day])
  # Without filter_by the dates are ignored.
  expect_equal(length(all_entries(filter_from = "2100-01-01")), 60)
  created <- all_entries(filter_by = "created_at", filter_from = "2020-08-01T00:00:00.000Z")
  expect_true(all(field(created, "created_at") >= "2020-08-01"))
})

test_that("E1 title is a case-insensitive LIKE with wildcards", {
  rows <- all_entries()
  titles <- field(rows, "title")
  hits <- field(all_entries(title = "GARDEN"), "title")
  expect_setequal(hits, titles[grepl("garden", titles, ignore.case = TRUE)])
  expect_true(length(hits) > 0)
  wild <- field(all_entries(title = "north%2"), "title")
  expect_setequal(wild, titles[grepl("north.*2", titles, ignore.case = TRUE)])
})

test_that("E1 finds one entry by uuid, in its own form only", {
  rows <- all_entries()
  uuid <- rows[[5]]$ec5_uuid
  one <- all_entries(uuid = uuid)
  expect_equal(field(one, "ec5_uuid"), uuid)
  expect_equal(all_entries(uuid = uuid, form_ref = demo$department), list())
})

test_that("E1 child forms link to parents; parent_form_ref must be given", {
  children <- all_entries(form_ref = demo$department)
  expect_equal(names(children[[1]])[1:2], c("ec5_uuid", "ec5_parent_uuid"))
  parents <- field(all_entries(), "ec5_uuid")
  expect_true(all(field(children, "ec5_parent_uuid") %in% parents))
  parent <- names(sort(table(field(children, "ec5_parent_uuid")), decreasing = TRUE))[1]
  mine <- all_entries(form_ref = demo$department, parent_uuid = parent,
                      parent_form_ref = demo$university)
  expect_setequal(field(mine, "ec5_uuid"),
                  field(children, "ec5_uuid")[field(children, "ec5_parent_uuid") == parent])
  expect_equal(all_entries(form_ref = demo$department, parent_uuid = parent), list())
})

test_that("E1 branch mode lists branch entries by branch, owner or uuid", {
  branch <- all_entries(branch_ref = demo$facilities)
  expect_equal(names(branch[[1]])[1:5], c("ec5_branch_owner_uuid", "ec5_branch_uuid", "created_at",
                                          "uploaded_at", "title"))
  expect_false("ec5_uuid" %in% names(branch[[1]]))
  owners <- all_entries()
  counts <- vapply(owners, `[[`, 0L, "4_Facilities")
  expect_equal(sum(counts), length(branch))
  owner <- owners[[which.max(counts)]]$ec5_uuid
  expect_equal(length(all_entries(branch_ref = demo$facilities, branch_owner_uuid = owner)), max(counts))
  one <- all_entries(branch_ref = demo$facilities, uuid = branch[[1]]$ec5_branch_uuid)
  expect_equal(length(one), 1)
  # A branch of a non-top form needs its form_ref.
  cleaning <- "77ceaef2b5634ee3b20765d25e0047d1_5a252849399f6_5a252a65d889c"
  expect_equal(errors(entries(branch_ref = cleaning)), paste("ec5_99", cleaning))
  child_branch <- "d5b2da82934f4761aec0d4ba3de61313_5c64492c6a7d7_5c645c4a6a7dd"
  token <- srv_token(srv, "proyecto-api-python")
  expect_equal(errors(entries("proyecto-api-python", branch_ref = child_branch,
                              .headers = srv_bearer(token))), paste("ec5_99", child_branch))
  ok <- entries("proyecto-api-python", branch_ref = child_branch,
                form_ref = "d5b2da82934f4761aec0d4ba3de61313_5c64492c6a7d7", .headers = srv_bearer(token))
  expect_equal(ok$status, 200L)
})

test_that("E1 maps with the requested or the default mapping", {
  custom <- srv_json(entries("test-cleaning", map_index = 1, per_page = 60))
  expect_equal(custom$data$mapping, list(map_name = "R_friendly", map_index = 1L))
  keys <- names(custom$data$entries[[1]])
  expect_equal(keys[-(1:4)], c("name", "sex", "colours", "family", "q1", "q2", "phone"))
  expect_true(all(field(custom$data$entries, "sex") %in% c("M", "F", "")))
  words <- srv_json(entries("word-chars-test"))
  expect_equal(words$data$mapping, list(map_name = "ascii_default", map_index = 2L))
  expect_equal(names(words$data$entries[[1]])[-(1:4)], c("q1_quotes", "2_A_branch", "group_q1"))
  expect_match(words$links$self, "&map_index=2&")
})

test_that("E1 encodes each answer type as the server does", {
  rows <- all_entries()
  location <- rows[[1]]$`14_where`
  expect_equal(names(location), c("latitude", "longitude", "accuracy", "UTM_Northing",
                                  "UTM_Easting", "UTM_Zone"))
  values <- lapply(rows, `[[`, "21_Faculties")
  expect_true(all(vapply(values, is.list, TRUE)))
  expect_true(all(grepl("^\\d\\d/\\d\\d/\\d{4}$|^$", field(rows, "3_DOB"))))
  expect_true(all(grepl("^\\d\\d:\\d\\d:\\d\\d$|^$", field(rows, "19_time_of_the_day"))))
  departments <- all_entries(form_ref = demo$department)
  heads <- lapply(departments, `[[`, "27_Head_of_departmen")
  expect_true(all(vapply(heads, function(h) is.list(h) && length(h) <= 1, TRUE)))
  classes <- srv_json(entries(form_ref = "ec5de3000b3c4c34a00243e3b5b68a3b_5720cf706d122", per_page = 100))
  class <- classes$data$entries
  expect_true(all(grepl("^\\d{4}/\\d\\d/\\d\\d$|^$", field(class, "41_Class_date"))))
  expect_true(all(grepl("^\\d\\d/\\d{4}$|^$", field(class, "42_Term"))))
  expect_true(all(grepl("^\\d\\d:\\d\\d$|^$", field(class, "44_Start_time"))))
  # Integers beyond 64 bits saturate, as PHP's (int) does.
  everything <- paste(vapply(c("ec5-demo", "test-cleaning", "test"), function(s) {
    entries(s, per_page = 1000)$text
  }, ""), collapse = "")
  expect_match(everything, ":9223372036854775807[,}]")
  expect_match(everything, ":\"\"[,}]")
})

test_that("E1 private projects add created_by and bare media names", {
  token <- srv_token(srv, "proyecto-api-python")
  rows <- srv_json(entries("proyecto-api-python", per_page = 100, .headers = srv_bearer(token)))$data$entries
  expect_equal(names(rows[[1]])[1:5], c("ec5_uuid", "created_at", "uploaded_at", "created_by", "title"))
  expect_true(all(field(rows, "created_by") %in% c(paste0("user", 1:3, "@example.org"), "n/a")))
  photos <- field(rows, "6_Foto")
  expect_true(all(grepl("^$|^[0-9a-f-]{36}_[0-9]+\\.jpg$", photos)))
})

test_that("E1 CSV is fputcsv text sent as text/html", {
  r <- entries("test-cleaning", format = "csv", map_index = 1, per_page = 60)
  expect_equal(r$status, 200L)
  expect_equal(r$headers[["content-type"]], "text/html; charset=UTF-8")
  lines <- strsplit(r$text, "\n(?=[0-9a-f]{8}-)", perl = TRUE)[[1]]
  expect_equal(lines[1], "ec5_uuid,created_at,uploaded_at,title,name,sex,colours,family,q1,q2,phone")
  expect_equal(length(lines), 61)
  expect_match(r$text, "\"\"\"yellow, or gold\"\"", fixed = TRUE)
  no_header <- entries("test-cleaning", format = "csv", headers = "false", per_page = 2)$text
  expect_match(no_header, "^[0-9a-f]{8}-")
  past <- entries("test-cleaning", format = "csv", page = 99)
  expect_equal(past$text, "ec5_uuid,created_at,uploaded_at,title,1_Name,2_Sex,3_As_a_male_favorite,4_As_a_female_pick_a,5_Family_Members,13_Q1,14_Q2,15_Q3\n")
  located <- entries("ec5-demo", format = "csv", per_page = 1)$text
  expect_match(located, "lat_14_where,long_14_where,accuracy_14_where,UTM_Northing_14_where,UTM_Easting_14_where,UTM_Zone_14_where", fixed = TRUE)
})

test_that("E1 slugifies the project in the path; newest/oldest read now when empty", {
  r <- entries("EC5%20Demo", per_page = 1)
  expect_equal(r$status, 200L)
  json <- srv_json(r)
  expect_equal(json$data$id, "ec5-demo")
  expect_match(json$links$self, "/api/export/entries/EC5%20Demo?", fixed = TRUE)
  empty <- srv_json(entries(title = "no such title at all"))
  expect_equal(empty$meta$total, 0L)
  expect_equal(empty$meta$last_page, 1L)
  expect_equal(empty$meta$newest, empty$meta$oldest)
  expect_equal(substr(empty$meta$newest, 1, 10), format(Sys.time(), "%Y-%m-%d", tz = "UTC"))
  expect_equal(errors(entries("no-such-project")), "ec5_11 middleware")
  expect_equal(srv_get(srv, "/api/export/entries")$status, 404L)
  expect_equal(errors(srv_get(srv, "/api/export/entries")), "ec5_21 middleware")
})

# --- E2, E6 -------------------------------------------------------------------------

test_that("E2 exports the definition, mappings and stats", {
  r <- srv_get(srv, "/api/export/project/test-cleaning")
  json <- srv_json(r)
  expect_equal(names(json), c("meta", "data"))
  expect_equal(names(json$meta), c("project_mapping", "project_stats"))
  expect_null(names(json$meta$project_mapping))
  expect_equal(vapply(json$meta$project_mapping, `[[`, 0L, "map_index"), c(0L, 1L))
  expect_equal(names(json$meta$project_mapping[[1]]), c("name", "forms", "map_index", "is_default"))
  expect_equal(json$data[c("id", "type")], list(id = "77ceaef2b5634ee3b20765d25e0047d1", type = "project"))
  project <- json$data$project
  keys <- names(project)
  expect_equal(tail(keys, 2), c("created_at", "homepage"))
  stored <- head(keys, -2)
  expect_equal(stored, stored[order(nchar(stored), stored)])
  expect_equal(project$homepage, paste0(srv$url, "/project/test-cleaning"))
  stats <- json$meta$project_stats
  expect_equal(stats$total_entries, 60L)
  expect_equal(names(stats$form_counts), "77ceaef2b5634ee3b20765d25e0047d1_5a252849399f6")
  expect_match(stats$structure_last_updated, "^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$")
  # A gap in map indexes turns the list into an object.
  words <- srv_json(srv_get(srv, "/api/export/project/word-chars-test"))
  expect_equal(names(words$meta$project_mapping), c("0", "2"))
  expect_equal(errors(srv_get(srv, "/api/export/project/proyecto-api-python")), "ec5_256 middleware")
})

test_that("E6 gives the structure version without auth and without slugify", {
  r <- srv_get(srv, "/api/project-version/cronus-sept17")
  json <- srv_json(r)
  expect_equal(json$data$type, "project-version")
  expect_equal(json$data$id, "cronus-sept17")
  attributes <- json$data$attributes
  expect_equal(attributes$version,
               format(as.numeric(as.POSIXct(attributes$structure_last_updated, tz = "UTC")), scientific = FALSE))
  expect_equal(errors(srv_get(srv, "/api/project-version/EC5%20Demo")), "ec5_11 version")
  expect_equal(srv_get(srv, "/api/project-version/nope")$status, 400L)
  before <- srv_json(srv_get(srv, "/api/project-version/ec5-demo"))$data$attributes$version
  srv$project("ec5-demo", bump_version = TRUE)
  after <- srv_json(srv_get(srv, "/api/project-version/ec5-demo"))$data$attributes$version
  expect_true(as.numeric(after) > as.numeric(before))
  stats <- srv_json(srv_get(srv, "/api/export/project/ec5-demo"))$meta$project_stats
  expect_equal(as.numeric(as.POSIXct(stats$structure_last_updated, tz = "UTC")), as.numeric(after))
})

# --- E4 -------------------------------------------------------------------------------

test_that("E4 matches name prefixes, exact names, and no empty name", {
  search <- function(name, ...) srv_json(srv_get(srv, paste0("/api/projects/", name), ...))$data
  hits <- search("TEST")
  expect_equal(names(hits[[1]]), c("type", "id", "project"))
  expect_equal(names(hits[[1]]$project), c("name", "slug", "access", "ref"))
  # The exact (case-insensitive) match comes first, then the newest.
  expect_equal(vapply(hits, function(h) h$project$slug, ""), c("test", "test-cleaning"))
  expect_equal(length(search("%25demo")), 2)
  expect_equal(search("ec5%20demo%20p")[[1]]$project$slug, "ec5-demo-project")
  expect_equal(length(search("EC5")), 2)
  private <- search("proyecto_api_python", exact = "true")
  expect_equal(private[[1]]$project$access, "private")
  expect_equal(search("proyecto", exact = "true"), list())
  expect_equal(srv_json(srv_get(srv, "/api/projects"))$data, list())
})
