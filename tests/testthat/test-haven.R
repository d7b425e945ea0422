# A column as written and as read back from a Stata or SPSS file: values,
# value labels and the variable label. Neither format has missing strings,
# and texts come back without trailing spaces; SPSS keeps the first 256
# bytes of a variable label and 120 of a value label.
expect_same_column <- function(back, sent, label, format) {
  trimmed <- function(x) if (is.null(x)) x else sub(" +$", "", x)
  expect_kept(attr(back, "label", exact = TRUE), trimmed(attr(sent, "label", exact = TRUE)),
              if (format == "sav") 256 else Inf, label)
  if (haven::is.labelled(sent)) {
    expect_equal(unclass(attr(back, "labels")), unclass(attr(sent, "labels")), ignore_attr = TRUE, label = label)
    expect_kept(names(attr(back, "labels")), trimmed(names(attr(sent, "labels"))),
                if (format == "sav") 120 else Inf, label)
  }
  if (is.character(sent)) {
    expect_equal(as.vector(back), trimmed(ifelse(is.na(sent), "", sent)), ignore_attr = TRUE, label = label)
  } else {
    expect_equal(as.numeric(back), as.numeric(sent), tolerance = 1e-9, label = label)
  }
}

# Texts read back equal to those sent, or their start when they were longer
# than `bytes`.
expect_kept <- function(read, sent, bytes, label) {
  if (is.null(sent)) {
    return(expect_null(read, label = label))
  }
  long <- nchar(sent, "bytes") > bytes
  expect_identical(read[!long], sent[!long], label = label)
  expect_true(all(startsWith(sent[long], read[long]) & nchar(read[long], "bytes") > bytes - 6), label = label)
}

test_that("every table of every served project goes to Stata and SPSS and back with its codes and labels", {
  skip_if_not_installed("haven")
  srv <- local_client_server(entries = 6)
  data <- served_data(srv)
  for (slug in names(data)) {
    x <- data[[slug]]
    h <- ec5_as_haven(x)
    expect_s3_class(h, "ec5_project_data")
    for (t in names(h)) {
      expect_false(any(vapply(h[[t]], function(v) is.list(v) || is.factor(v), logical(1))))
      expect_true(all(grepl("^[A-Za-z][A-Za-z0-9_]{0,31}$", names(h[[t]]))), label = paste(slug, t))
      for (format in c("dta", "sav")) {
        path <- withr::local_tempfile(fileext = paste0(".", format))
        if (format == "dta") haven::write_dta(h[[t]], path) else haven::write_sav(h[[t]], path)
        back <- if (format == "dta") haven::read_dta(path) else haven::read_sav(path)
        expect_equal(names(back), names(h[[t]]), label = paste(slug, t, format))
        expect_equal(nrow(back), nrow(x[[t]]))
        for (j in names(h[[t]])) expect_same_column(back[[j]], h[[t]][[j]], paste(slug, t, j, format), format)
      }
    }
  }
})

test_that("choice questions get codes in definition order and question texts as labels", {
  skip_if_not_installed("haven")
  srv <- local_client_server(entries = 6)
  x <- ec5_entries("ec5-demo", base_url = srv$url)
  h <- ec5_as_haven(x)
  colour <- x$`18_Favourite_colour`
  coded <- h$v18_Favourite_colour
  expect_s3_class(coded, "haven_labelled")
  expect_equal(attr(coded, "labels"), stats::setNames(seq_along(levels(colour)), levels(colour)))
  expect_equal(as.integer(unclass(coded)), as.integer(colour))
  expect_equal(attr(coded, "label"), "Favourite colour")
  book <- ec5_codebook(ec5_project("ec5-demo", base_url = srv$url))
  expect_equal(book$choices[book$column == "18_Favourite_colour"][1],
               paste0(attr(coded, "labels"), "=", names(attr(coded, "labels")), collapse = "; "))
  faculties <- h[grep("^v21_Faculties_", names(h))]
  expect_length(faculties, 5)
  expect_equal(attr(faculties[[1]], "labels"), c(No = 0L, Yes = 1L))
  expect_equal(as.integer(unclass(faculties[[2]])),
               as.integer(vapply(x$`21_Faculties`, function(v) "Science" %in% v, logical(1))))
  expect_equal(h$v1_Name, x$`1_Name`)
  expect_equal(attr(h$v1_Name, "label"), "Name")
})

test_that("names are made valid for Stata and SPSS and stay unique", {
  expect_equal(epicollect5:::haven_names(c("1_Name", "lat_14_where", "a b", "a_b", strrep("x", 40), strrep("x", 35))),
               c("v1_Name", "lat_14_where", "a_b", "a_b_1", strrep("x", 32), paste0(strrep("x", 30), "_1")))
  expect_error(ec5_as_haven("x"), class = "ec5_error_argument")
})
