# A form with a check box whose answers contain one another, and entries
# that chose them (one chose an answer deleted from the form since).
nested_answers <- function() {
  project <- make_project(list(F = list(
    q("checkbox", "Subjects", answers = c("Art", "Art history", "History", "C++ / C#")),
    q("radio", "Sex", answers = c("Female", "Male"))
  )))
  json <- page_json(c(
    entry_json(uuid(1), "1_Subjects" = '["Art history"]'),
    entry_json(uuid(2), "1_Subjects" = '["Art", "History"]'),
    entry_json(uuid(3), "1_Subjects" = '[]'),
    entry_json(uuid(4), "1_Subjects" = '["C++ / C#", "Pottery"]')
  ))
  list(project = project, x = parse_quietly(json, project))
}

test_that("answers are matched exactly, never by substring, in definition order", {
  d <- nested_answers()
  expect_warning(wide <- ec5_expand_choices(d$x, project = d$project), class = "ec5_warning_unknown_answers")
  new <- c("1_Subjects_Art", "1_Subjects_Art_history", "1_Subjects_History", "1_Subjects_C_C",
           "1_Subjects_Pottery")
  expect_equal(names(wide), c(setdiff(names(d$x), "1_Subjects")[1:4], new, "2_Sex"))
  expect_equal(wide$`1_Subjects_Art`, c(FALSE, TRUE, FALSE, FALSE), ignore_attr = TRUE)
  expect_equal(wide$`1_Subjects_Art_history`, c(TRUE, FALSE, FALSE, FALSE), ignore_attr = TRUE)
  expect_equal(wide$`1_Subjects_History`, c(FALSE, TRUE, FALSE, FALSE), ignore_attr = TRUE)
  expect_equal(wide$`1_Subjects_C_C`, c(FALSE, FALSE, FALSE, TRUE), ignore_attr = TRUE)
  expect_equal(wide$`1_Subjects_Pottery`, c(FALSE, FALSE, FALSE, TRUE), ignore_attr = TRUE)
  expect_equal(attr(wide$`1_Subjects_Art`, "label"), "Subjects: Art")
  expect_equal(attr(wide, "unknown_answers"),
               tibble::tibble(column = "1_Subjects", answer = "Pottery"))
  expect_identical(wide$`2_Sex`, d$x$`2_Sex`)
  expect_identical(attr(wide, "provenance"), attr(d$x, "provenance"))
})

test_that("unreadable answers give NA and names stay unique", {
  project <- make_project(list(F = list(
    q("checkbox", "Pick", answers = c("a b", "a-b", "???"))
  )))
  x <- parse_quietly(page_json(c(
    entry_json(uuid(1), "1_Pick" = '["a b", "???"]'),
    entry_json(uuid(2), "1_Pick" = '[{"x": 1}]')
  )), project)
  wide <- ec5_expand_choices(x, project = project)
  expect_equal(grep("^1_Pick", names(wide), value = TRUE), c("1_Pick_a_b", "1_Pick_a_b_1", "1_Pick_3"))
  expect_equal(wide$`1_Pick_a_b`, c(TRUE, NA), ignore_attr = TRUE)
  expect_equal(wide$`1_Pick_3`, c(TRUE, NA), ignore_attr = TRUE)
})

test_that("every multi-answer column of every served project is expanded", {
  srv <- local_client_server(entries = 8)
  data <- served_data(srv)
  for (slug in names(data)) {
    x <- data[[slug]]
    wide <- ec5_expand_choices(x)
    expect_s3_class(wide, "ec5_project_data")
    expect_identical(attr(wide, "hierarchy"), attr(x, "hierarchy"))
    book <- ec5_codebook(x)
    for (t in names(x)) {
      expect_false(any(vapply(wide[[t]], is.list, logical(1))), label = paste(slug, t))
      multi <- book[book$table == t & book$type %in% c("checkbox", "searchsingle", "searchmultiple"), ]
      for (i in seq_len(nrow(multi))) {
        col <- x[[t]][[multi$column[i]]]
        answers <- strsplit(multi$choices[i], "; ", fixed = TRUE)[[1]]
        answers <- sub("^[0-9]+=", "", answers)
        for (a in answers) {
          name <- names(wide[[t]])[vapply(wide[[t]], function(v) identical(attr(v, "label"), paste0(multi$question[i], ": ", a)), logical(1))]
          expect_length(name, 1)
          expected <- vapply(col, function(v) if (length(v) && all(is.na(v))) NA else a %in% v, logical(1))
          expect_equal(wide[[t]][[name]], expected, ignore_attr = TRUE)
        }
      }
    }
  }
  # A single table fetched in this session finds its definition itself.
  one <- ec5_entries("ec5-demo", form = "Department", base_url = srv$url)
  expect_equal(ec5_expand_choices(one), ec5_expand_choices(data[["ec5-demo"]])$Department,
               ignore_attr = "provenance")
})

test_that("ec5_expand_choices() refuses what it cannot expand", {
  d <- nested_answers()
  expect_error(ec5_expand_choices(d$x, columns = "2_Sex", project = d$project), class = "ec5_error_argument")
  expect_error(ec5_expand_choices(d$x), class = "ec5_error_argument")
  expect_error(ec5_expand_choices(1:3), class = "ec5_error_argument")
  expect_snapshot(ec5_expand_choices(d$x, columns = "nope", project = d$project), error = TRUE)
})
