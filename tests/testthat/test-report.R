# The demo project, fetched once per test from the local server.
demo_data <- function(.local_envir = parent.frame()) {
  srv <- local_client_server(.local_envir = .local_envir)
  ec5_project_data("ec5-demo", base_url = srv$url)
}

test_that("ec5_counts() has one labelled row per table, with located entries", {
  x <- demo_data()
  counts <- ec5_counts(x)
  h <- attr(x, "hierarchy")
  expect_named(counts, c("table", "kind", "parent", "entries", "located", "last_upload"))
  expect_equal(counts$table, h$table)
  expect_equal(counts$entries, h$rows)
  top <- x[[1]]
  expect_equal(counts$located[1], sum(!is.na(top$lat_14_where)))
  expect_true(is.na(counts$located[counts$table == "15_Staff"]))
  expect_equal(counts$last_upload[1], max(top$uploaded_at))
  expect_s3_class(counts$last_upload, "POSIXct")
})

test_that("ec5_uploads() counts every upload once, by the period's first day", {
  x <- demo_data()
  weeks <- ec5_uploads(x)
  months <- ec5_uploads(x, "month")
  for (t in names(x)) {
    n <- sum(!is.na(x[[t]]$uploaded_at))
    expect_equal(sum(weeks$entries[weeks$table == t]), n)
    expect_equal(max(months$total[months$table == t]), n)
  }
  expect_true(all(format(weeks$period, "%u") == "1"))
  expect_true(all(format(months$period, "%d") == "01"))
  expect_equal(weeks$total[weeks$table == "University"],
               cumsum(weeks$entries[weeks$table == "University"]))
  expect_snapshot(ec5_uploads(x, "year"), error = TRUE)
})

test_that("ec5_completeness() counts answers the way each type is answered", {
  x <- demo_data()
  done <- ec5_completeness(x)
  top <- x[[1]]
  row <- function(column) done[done$table == "University" & done$column == column, ]
  expect_equal(row("1_Name")$answered, sum(!is.na(top$`1_Name`) & nzchar(trimws(top$`1_Name`))))
  expect_equal(row("14_where")$answered, sum(!is.na(top$lat_14_where)))
  expect_equal(row("21_Faculties")$answered, sum(lengths(top$`21_Faculties`) > 0))
  expect_equal(row("1_Name")$percent, round(100 * row("1_Name")$answered / nrow(top), 1))
  expect_false(any(c("4_Facilities", "15_Staff") %in% done$column))
  expect_true(all(done$answered <= done$entries))
  expect_equal(unique(done$table), names(x))
})

test_that("ec5_choices() counts each answer, unchosen ones and check boxes included", {
  x <- demo_data()
  chosen <- ec5_choices(x)
  top <- x[[1]]
  colour <- chosen[chosen$table == "University" & chosen$column == "18_Favourite_colour", ]
  expect_equal(colour$answer, levels(top$`18_Favourite_colour`))
  expect_equal(colour$entries, as.integer(table(top$`18_Favourite_colour`)))
  faculties <- chosen[chosen$column == "21_Faculties", ]
  expect_equal(sum(faculties$entries), sum(!is.na(unlist(top$`21_Faculties`))))
  expect_equal(nrow(faculties), 5)
  expect_setequal(unique(chosen$column[chosen$table == "University"]),
                  c("18_Favourite_colour", "20_Type_of_universit", "21_Faculties"))
})

test_that("ec5_newest() gives one-line, bounded text, newest first", {
  x <- demo_data()
  top <- x[[1]]
  top$`1_Name`[which.max(top$uploaded_at)] <- paste0("first line\nsecond line | ", strrep("x", 80))
  x[[1]] <- top
  newest <- ec5_newest(x, n = 4, columns = 3, width = 30)
  expect_equal(nrow(newest), 4)
  expect_equal(names(newest), c("uploaded_at", "title", "1_Name", "2_Age", "3_DOB"))
  cells <- unlist(newest)
  expect_false(any(grepl("[\r\n\t]", cells)))
  expect_true(all(nchar(cells) <= 30))
  expect_equal(newest$`1_Name`[1], paste0("first line second line | ", strrep("x", 4), "\u2026"))
  expect_equal(newest$uploaded_at[1], format(max(top$uploaded_at), "%Y-%m-%d %H:%M", tz = "UTC"))
  faculties <- ec5_newest(x, columns = 20)$`21_Faculties`
  expect_true(any(grepl(", ", faculties)))
  expect_snapshot(error = TRUE, {
    ec5_newest(x, table = "Nowhere")
    ec5_newest(x, n = 0)
    ec5_newest(x, width = "wide")
    ec5_counts(x[[1]])
  })
})

test_that("ec5_dictionary() lists every question of every table from the definition", {
  x <- demo_data()
  dict <- ec5_dictionary(x)
  expect_named(dict, c("table", "column", "question", "type", "required", "answers"))
  expect_identical(dict, ec5_dictionary(attr(x, "project")))
  expect_equal(unique(dict$table), names(x))
  colours <- levels(x[[1]]$`18_Favourite_colour`)
  expect_equal(dict$answers[dict$column == "18_Favourite_colour"],
               paste0(seq_along(colours), "=", colours, collapse = "; "))
  expect_equal(dict$column[dict$type == "location"][1], "14_where")
  book <- ec5_codebook(x)
  expect_equal(nrow(dict), length(unique(paste(book$table, book$ref)[book$type != "system"])))
  expect_true(is.na(dict$answers[dict$column == "1_Name"]))
  expect_false(any(dict$type %in% c("group", "readme")))
  expect_snapshot(ec5_dictionary(list()), error = TRUE)
})

test_that("the uploads and the map are drawn, every located table on the map", {
  skip_if_not_installed("sf")
  skip_if_not_installed("maps")
  x <- demo_data()
  png_file <- withr::local_tempfile(fileext = ".png")
  grDevices::png(png_file)
  expect_identical(ec5_uploads_plot(x), x)
  points <- ec5_map_plot(x)
  grDevices::dev.off()
  expect_gt(file.size(png_file), 5000)
  counts <- ec5_counts(x)
  expect_equal(as.integer(table(factor(points$table, counts$table))),
               ifelse(is.na(counts$located), 0L, counts$located))
  view <- epicollect5:::map_view(sf::st_bbox(points[1, ]))
  expect_equal(diff(view$x), 20)
  expect_equal(diff(view$y), 10)
})

# Renders an R Markdown file in a fresh R process (it sets options and starts
# the demo server) and returns the HTML.
render_html <- function(input, ...) {
  skip_on_cran()
  skip_if_not(rmarkdown::pandoc_available(), "pandoc is not installed")
  skip_if_not_installed("callr")
  skip_if_not_installed("sf")
  skip_if_not_installed("maps")
  out <- withr::local_tempdir()
  html <- callr::r(
    function(input, out, ...) rmarkdown::render(input, output_dir = out, quiet = TRUE, ...),
    list(input = input, out = out, ...)
  )
  paste(readLines(html, encoding = "UTF-8", warn = FALSE), collapse = "\n")
}

# The first <table> after `after` in some HTML, as rows of cell texts.
html_table <- function(html, after) {
  rest <- strsplit(html, after, fixed = TRUE)[[1]][2]
  table <- sub("(?s)^.*?(<table.*?</table>).*$", "\\1", rest, perl = TRUE)
  rows <- regmatches(table, gregexpr("(?s)<tr.*?</tr>", table, perl = TRUE))[[1]]
  lapply(rows, function(r) {
    cells <- regmatches(r, gregexpr("(?s)<t[hd][^>]*>.*?</t[hd]>", r, perl = TRUE))[[1]]
    trimws(gsub("<[^>]+>", "", cells))
  })
}

# No progress, message or warning of the package in rendered HTML.
quiet_html <- function(html) {
  !grepl("Waiting |; waiting|Fetching|Warning message|server running", html)
}

test_that("the report template renders a complete, tidy report on the demo server", {
  dir <- withr::local_tempdir()
  rmd <- file.path(dir, "report.Rmd")
  rmarkdown::draft(rmd, template = "epicollect5-report", package = "epicollect5", edit = FALSE)
  html <- render_html(rmd)
  counts <- html_table(html, "Entries per form and branch</h2>")
  expect_equal(counts[[1]], c("Table", "Kind", "Parent", "Entries", "With a location", "Last upload"))
  expect_equal(vapply(counts[-1], `[`, "", 1),
               c("University", "4_Facilities", "15_Staff", "Department", "Student", "Class"))
  for (section in c("Uploads over time</h2>", "Where the entries were collected</h2>")) {
    rest <- strsplit(html, section, fixed = TRUE)[[1]][2]
    expect_true(startsWith(sub("^.*?<img ", "<img ", rest), "<img src=\"data:image/png;base64,"))
    expect_lt(regexpr("<img", rest, fixed = TRUE), regexpr("<h2", rest, fixed = TRUE))
  }
  newest <- html_table(html, "Newest entries of University</h2>")
  expect_length(newest, 11)
  expect_true(all(lengths(newest) == length(newest[[1]])))
  expect_true(all(nchar(unlist(newest[-1])) <= 60))
  for (section in c("Completeness</h2>", "Answers to the choice questions</h2>",
                    "Appendix: data dictionary</h2>")) {
    expect_gt(length(html_table(html, section)), 10)
  }
  expect_true(quiet_html(html))
})

test_that("every vignette renders on the demo server, quietly and without errors", {
  dir <- test_path("../../vignettes")
  skip_if_not(dir.exists(dir), "the vignettes' sources are not here")
  for (rmd in list.files(dir, "\\.Rmd$", full.names = TRUE)) {
    html <- render_html(rmd)
    expect_false(grepl("#&gt; Error", html, fixed = TRUE), label = basename(rmd))
    expect_true(quiet_html(html), label = basename(rmd))
    if (basename(rmd) == "reports.Rmd") {
      counts <- html_table(html, "have a location and the last")
      expect_equal(counts[[1]], c("table", "kind", "parent", "entries", "located", "last_upload"))
      expect_gte(lengths(regmatches(html, gregexpr("<img src=\"data:image/png", html, fixed = TRUE))), 2)
    }
    if (basename(rmd) == "epicollect5.Rmd") {
      printed <- "\\(recent\\)</span>\n<span[^>]*><a[^>]*></a><span class=\"co\">#&gt; \\[1\\] [1-9]"
      expect_true(grepl(printed, html, perl = TRUE))
    }
  }
})

test_that("the report functions take tables with clean names", {
  srv <- local_client_server()
  x <- ec5_project_data("ec5-demo", base_url = srv$url)
  clean <- ec5_project_data("ec5-demo", base_url = srv$url, col_names = "clean")
  expect_identical(ec5_counts(clean), ec5_counts(x))
  expect_identical(ec5_uploads(clean), ec5_uploads(x))
  done <- ec5_completeness(clean)
  expect_identical(done[-2], ec5_completeness(x)[-2])
  expect_true(all(c("name", "where", "faculties") %in% done$column))
  chosen <- ec5_choices(clean)
  expect_identical(chosen[-2], ec5_choices(x)[-2])
  expect_true("favourite_colour" %in% chosen$column)
  expect_named(ec5_newest(clean, columns = 2), c("uploaded_at", "title", "name", "age"))
  dict <- ec5_dictionary(clean)
  expect_identical(dict[-2], ec5_dictionary(x)[-2])
  expect_true(all(c("name", "where", "favourite_colour") %in% dict$column))
  skip_if_not_installed("sf")
  expect_identical(nrow(located_points(clean)), nrow(located_points(x)))
})
