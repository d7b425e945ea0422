skip_if_not_installed("jsonlite")

projects <- component$srv_load_projects()
store_of <- function(slug, seed = 1L) component$srv_generate_store(projects[[slug]], seed)

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

