skip_if_not_installed("jsonlite")

projects <- epicollect5:::server_load_projects()
key_order <- epicollect5:::mysql_key_order

store_of <- function(slug, seed = 1L) epicollect5:::generate_store(projects[[slug]], seed)

# Every stored answer of a store with the type of its question.
typed_answers <- function(project, store) {
  inputs <- list()
  walk <- function(xs) for (x in xs) {
    inputs[[x$ref]] <<- x$type
    walk(c(x$group, x$branch))
  }
  for (form in project$definition$forms) walk(form$inputs)
  values <- unlist(lapply(store$answers, function(a) lapply(a, `[[`, "answer")), recursive = FALSE)
  refs <- unlist(lapply(store$answers, names))
  list(type = unname(unlist(inputs[refs])), value = unname(values))
}

test_that("the server hosts every shipped definition", {
  expect_setequal(names(projects), c(
    "ec5-demo", "test", "test-cleaning", "word-chars-test", "ec5-demo-project",
    "proyecto-api-python", "cronus-sept17", "hinganghat-wardha-ddr"
  ))
  access <- vapply(projects, `[[`, "", "access")
  expect_equal(names(access[access == "private"]),
               c("proyecto-api-python", "cronus-sept17", "hinganghat-wardha-ddr"))
  expect_equal(length(projects[["ec5-demo"]]$definition$forms), 4)
})

test_that("EC5_AUTO is built exactly as the server builds it", {
  # Both files carry the mapping the real server made.
  for (slug in c("proyecto-api-python", "ec5-demo-project")) {
    real <- projects[[slug]]$mappings[[1]]
    built <- epicollect5:::mapping_auto(projects[[slug]]$definition)
    expect_identical(key_order(built$forms), key_order(real$forms), label = slug)
    expect_equal(built[c("name", "map_index", "is_default")], real[c("name", "map_index", "is_default")])
  }
})

test_that("EC5_AUTO names: counter across forms, readme skipped, 20 bytes", {
  map <- projects[["test-cleaning"]]$mappings[[1]]$forms[[1]]
  names <- vapply(map, `[[`, "", "map_to")
  expect_equal(unname(names), c("1_Name", "2_Sex", "3_As_a_male_favorite", "4_As_a_female_pick_a",
                                "5_Family_Members", "12_A_Group"))
  branch <- map[["77ceaef2b5634ee3b20765d25e0047d1_5a252849399f6_5a252a65d889c"]]$branch
  expect_equal(unname(vapply(branch, `[[`, "", "map_to"))[1:2], c("6_Name", "7_Relationship"))
  auto <- epicollect5:::auto_map_to
  expect_equal(auto(3, "  Ubicaci\u00f3n  "), "3_Ubicacin")
  expect_equal(auto(13, "N\u00b0 CHILD_Subformulario1"), "13_N_CHILD_Subformul")
  expect_equal(auto(1, "Q1 \u2018 \u2019 \u201a \ufffd"), "1_Q1____")
})

test_that("custom mappings rename, hide and relabel; defaults stay single", {
  cleaning <- projects[["test-cleaning"]]
  expect_equal(epicollect5:::map_indexes(cleaning), c(0L, 1L))
  expect_equal(epicollect5:::default_map_index(cleaning), 0L)
  plan <- epicollect5:::mapping_plan(cleaning, cleaning$definition$forms[[1]]$ref, "", 1L)
  expect_equal(plan$map_to, c("name", "sex", "colours", "family", "q1", "q2", "phone"))
  expect_equal(unname(plan$labels[[2]]), c("M", "F"))
  expect_equal(unname(plan$labels[[3]])[4], "yellow, or gold")
  words <- projects[["word-chars-test"]]
  expect_equal(epicollect5:::map_indexes(words), c(0L, 2L))
  expect_equal(epicollect5:::default_map_index(words), 2L)
  defaults <- vapply(words$mappings, `[[`, TRUE, "is_default")
  expect_equal(defaults, c(FALSE, TRUE))
})

test_that("mapping plans flatten groups, drop readme and hidden, count branches", {
  cleaning <- projects[["test-cleaning"]]
  form <- cleaning$definition$forms[[1]]$ref
  plan <- epicollect5:::mapping_plan(cleaning, form, "", 0L)
  expect_equal(plan$map_to, c("1_Name", "2_Sex", "3_As_a_male_favorite", "4_As_a_female_pick_a",
                              "5_Family_Members", "13_Q1", "14_Q2", "15_Q3"))
  expect_equal(plan$type[5], "branch")
  branch <- "77ceaef2b5634ee3b20765d25e0047d1_5a252849399f6_5a252a65d889c"
  custom <- epicollect5:::mapping_plan(cleaning, form, branch, 1L)
  # "How old is your brother" is hidden in the custom mapping.
  expect_equal(custom$map_to, c("member_name", "relationship", "8_How_old_is_your_fa",
                                "9_How_old_is_your_mo", "10_How_old_is_your_s"))
  nested <- epicollect5:::mapping_plan(projects[["word-chars-test"]],
    "ec1d093782ba4a1aa9e94e8eecab258b_5a5f59a798e3b",
    "ec1d093782ba4a1aa9e94e8eecab258b_5a5f59a798e3b_5a5f59f4ab534", 0L)
  expect_equal(nested$map_to, c("3_Branch_Q1__fsdfs__", "5_Nested_group_Q1___"))
})

test_that("generated entries are deterministic for a seed", {
  a <- store_of("test-cleaning", 1L)
  expect_identical(a, store_of("test-cleaning", 1L))
  expect_false(identical(a$uuid, store_of("test-cleaning", 2L)$uuid))
  expect_equal(nrow(a[a$kind == "entry", ]), projects[["test-cleaning"]]$n_entries)
  expect_true(all(grepl("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", a$uuid)))
})

test_that("generated entries cover every input type of every definition", {
  for (slug in names(projects)) {
    project <- projects[[slug]]
    answers <- typed_answers(project, store_of(slug))
    filled <- vapply(answers$value, function(v) length(v) > 0 && !identical(v, ""), TRUE)
    used <- setdiff(unique(answers$type), "branch")
    expect_setequal(unique(answers$type[filled]), used)
    expect_true(any(!filled), label = paste(slug, "has empty answers"))
  }
  demo <- typed_answers(projects[["ec5-demo"]], store_of("ec5-demo"))
  expect_true(all(c("text", "integer", "decimal", "phone", "date", "time", "dropdown", "radio",
                    "checkbox", "searchsingle", "searchmultiple", "textarea", "location",
                    "barcode", "photo", "audio", "video") %in% demo$type))
})

test_that("generated entries hold the values that break naive clients", {
  all <- do.call(rbind, lapply(names(projects), function(slug) {
    a <- typed_answers(projects[[slug]], store_of(slug))
    data.frame(type = a$type, value = I(a$value))
  }))
  text <- unlist(Filter(is.character, all$value[all$type == "text"]))
  expect_true(any(utf8ToInt(paste(text, collapse = "")) > 0xFFFF))
  integers <- unlist(Filter(is.character, all$value[all$type == "integer"]))
  expect_true("99999999999999999999" %in% integers)
  expect_true(any(vapply(all$value[all$type == "phone"], inherits, TRUE, "php_number")))
  locations <- Filter(is.list, all$value[all$type == "location"])
  expect_true(any(vapply(locations, function(l) identical(l$latitude, 0L), TRUE)))
  expect_true(any(vapply(locations, function(l) identical(l$latitude, ""), TRUE)))
  jumped <- unlist(lapply(store_of("test-cleaning")$answers, function(a) lapply(a, `[[`, "was_jumped")))
  expect_true(any(jumped))
  searchsingle <- all$value[all$type == "searchsingle"]
  expect_true(all(vapply(searchsingle, function(v) is.list(v) && length(v) <= 1, TRUE)))
})

test_that("child and branch entries link to existing entries; uploads share seconds", {
  store <- store_of("ec5-demo")
  children <- store[store$kind == "entry" & nzchar(store$parent_uuid), ]
  expect_true(all(children$parent_uuid %in% store$uuid))
  parent_form <- store$form_ref[match(children$parent_uuid, store$uuid)]
  expect_equal(parent_form, children$parent_form_ref)
  branches <- store[store$kind == "branch", ]
  expect_true(all(branches$owner_uuid %in% store$uuid[store$kind == "entry"]))
  expect_true(anyDuplicated(store$uploaded[store$kind == "entry"]) > 0)
  expect_true(all(store$uploaded >= floor(store$created)))
})

test_that("entries export as the server maps them", {
  project <- projects[["proyecto-api-python"]]
  store <- store_of("proyecto-api-python")
  form <- project$definition$forms[[1]]$ref
  plan <- epicollect5:::mapping_plan(project, form, "", 0L)
  rows <- store[store$kind == "entry" & store$form_ref == form, ][1:5, ]
  ctx <- list(mode = "form", top = TRUE, private = TRUE, slug = project$slug,
              base_url = "http://x", branch_counts = epicollect5:::branch_counts(store))
  entries <- lapply(epicollect5:::export_json(rows, plan, ctx), jsonlite::fromJSON, simplifyVector = FALSE)
  expect_equal(names(entries[[1]]), c("ec5_uuid", "created_at", "uploaded_at", "created_by", "title",
                                      "1_prueba_barcode", "3_Ubicacin", "4_Fecha", "5_Nombre",
                                      "6_Foto", "7_BRANCH_Subformular"))
  location <- entries[[1]][["3_Ubicacin"]]
  expect_equal(names(location), c("latitude", "longitude", "accuracy", "UTM_Northing",
                                  "UTM_Easting", "UTM_Zone"))
  counts <- vapply(entries, `[[`, 0L, "7_BRANCH_Subformular")
  expect_equal(counts, unname(vapply(rows$uuid, function(u) {
    sum(store$owner_uuid == u & store$kind == "branch" &
        store$branch_ref == "d5b2da82934f4761aec0d4ba3de61313_5c62cc39cf393_5c64446f6a7cd")
  }, 0L)))
  photos <- vapply(entries, `[[`, "", "6_Foto")
  expect_true(all(grepl("^$|^[0-9a-f-]{36}_[0-9]+\\.jpg$", photos)))

  csv <- epicollect5:::export_csv(rows, plan, ctx)
  header <- strsplit(sub("\n.*", "", csv), ",")[[1]]
  expect_equal(header[6:12], c("1_prueba_barcode", "lat_3_Ubicacin", "long_3_Ubicacin",
                               "accuracy_3_Ubicacin", "UTM_Northing_3_Ubicacin",
                               "UTM_Easting_3_Ubicacin", "UTM_Zone_3_Ubicacin"))
  expect_equal(epicollect5:::export_csv(rows[0, ], plan, ctx, headers = FALSE), "")
})

test_that("public media become E7 URLs with a version", {
  project <- projects[["ec5-demo"]]
  store <- store_of("ec5-demo")
  student <- project$definition$forms[[3]]$ref
  plan <- epicollect5:::mapping_plan(project, student, "", 0L)
  rows <- store[store$form_ref == student & store$kind == "entry", ]
  ctx <- list(mode = "form", top = FALSE, private = FALSE, slug = "ec5-demo",
              base_url = "http://127.0.0.1:9", branch_counts = integer())
  entries <- lapply(epicollect5:::export_json(rows, plan, ctx), jsonlite::fromJSON, simplifyVector = FALSE)
  photos <- vapply(entries, `[[`, "", "34_Profile_picture")
  urls <- photos[nzchar(photos)]
  expect_true(length(urls) > 0)
  expect_true(all(grepl(paste0("^http://127\\.0\\.0\\.1:9/api/media/ec5-demo\\?type=photo&",
                               "format=entry_original&name=[0-9a-f-]{36}_[0-9]+\\.jpg&v=[0-9]+$"), urls)))
  expect_true(all(vapply(entries, function(e) "ec5_parent_uuid" %in% names(e), TRUE)))
})

test_that("project stats and key order follow the server", {
  project <- projects[["ec5-demo"]]
  stats <- epicollect5:::project_stats(project, store_of("ec5-demo"))
  expect_equal(names(stats), c("total_entries", "total_files", "total_bytes", "form_counts",
                               "branch_counts", "structure_last_updated"))
  expect_equal(names(stats$form_counts[[1]]), c("count", "first_entry_created", "last_entry_created"))
  expect_equal(names(key_order(list(map_to = 1, hide = 2, group = 3, branch = 4, possible_answers = 5))),
               c("hide", "group", "branch", "map_to", "possible_answers"))
})
