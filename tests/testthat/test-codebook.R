test_that("ec5_codebook() has a row per column of every table of every served project", {
  srv <- local_client_server(entries = 2)
  data <- served_data(srv)
  for (slug in names(data)) {
    x <- data[[slug]]
    book <- ec5_codebook(x)
    expect_named(book, c("table", "column", "clean", "question", "type", "required", "min", "max",
                         "format", "choices", "group", "branch", "ref"))
    expect_identical(book, ec5_codebook(attr(x, "project")))
    expect_equal(unique(book$table), names(x), label = slug)
    for (t in names(x)) {
      rows <- book[book$table == t, ]
      expect_equal(rows$column, names(x[[t]]), label = paste(slug, t))
      expect_equal(rows$clean, names(name_columns(x[[t]], "clean")), label = paste(slug, t))
      labels <- ec5_labels(x[[t]])
      at <- match(labels$column, rows$column)
      # A location's parts are labelled with the part ("where: latitude").
      part <- rows$type[at] == "location"
      expect_equal(rows$question[at][!part], labels$label[!part])
      expect_true(all(startsWith(labels$label[part], paste0(rows$question[at][part], ": "))))
      expect_true(all(is.na(rows$question[rows$type == "system"])))
      factors <- names(x[[t]])[vapply(x[[t]], is.factor, logical(1))]
      for (f in factors) {
        lv <- levels(x[[t]][[f]])
        expect_equal(rows$choices[rows$column == f],
                     if (length(lv)) paste0(seq_along(lv), "=", lv, collapse = "; ") else NA_character_)
      }
    }
    inputs <- attr(x, "project")$inputs
    q <- book[!is.na(book$ref), ]
    expect_equal(q$required, inputs$is_required[match(q$ref, inputs$ref)])
    branch_rows <- book$table %in% attr(x, "hierarchy")$table[attr(x, "hierarchy")$kind == "branch"]
    expect_true(all(!is.na(book$branch[branch_rows])))
    expect_true(all(is.na(book$branch[!branch_rows])))
  }
})

test_that("ec5_codebook() gives limits, formats, choices, groups and branches of the demo", {
  srv <- local_client_server(entries = 2)
  book <- ec5_codebook(ec5_project("ec5-demo", base_url = srv$url))
  student <- book[book$table == "Student" & book$question %in% "Age", ]
  expect_equal(c(student$min, student$max), c(16, 95))
  expect_true(is.na(book$min[book$column == "1_Name"]))
  colours <- book$choices[book$column == "18_Favourite_colour"]
  expect_match(colours, "^1=[^;]+; 2=[^;]+$")
  where <- book[book$type == "location" & book$table == "University", ]
  expect_equal(nrow(where), 6)
  expect_equal(unique(where$group), "Address details")
  expect_true(is.na(book$group[book$column == "1_Name"]))
  contact <- book[book$question %in% "Contact name", ]
  expect_equal(c(contact$group, contact$branch, contact$table), c("Contact", "Facilities", "4_Facilities"))
  expect_equal(book$format[book$question %in% "time of the day"], "HH:mm:ss")
  expect_equal(book$type[book$column == "ec5_uuid"][1], "system")
  expect_true(book$required[book$column == "1_Name"])

  path <- withr::local_tempfile(fileext = ".csv")
  utils::write.csv(book, path, row.names = FALSE, fileEncoding = "UTF-8")
  back <- utils::read.csv(path, encoding = "UTF-8", stringsAsFactors = FALSE)
  expect_equal(back$column, book$column)
  expect_equal(back$choices, book$choices)
})

test_that("ec5_codebook() follows the mapping and refuses other objects", {
  srv <- local_client_server(entries = 2)
  project <- ec5_project("ec5-demo", base_url = srv$url)
  maps <- project$mappings$map_index
  other <- ec5_codebook(project, map_index = maps[length(maps)])
  expect_equal(nrow(other), nrow(ec5_codebook(project)))
  expect_error(ec5_codebook(list()), class = "ec5_error_argument")
  expect_error(ec5_codebook(project, map_index = 99), class = "ec5_error_not_found")
})
