# The SQL tables of a project (R/store-tables.R): readable names, typed
# columns, answers one per row, the codebook and the sync table.

test_that("table names are readable, unique and short enough for PostgreSQL", {
  plan <- tibble::tibble(
    table = c("University", "5_Branch_q", "university", strrep("Long form name ", 6), "6_Sub"),
    kind = c("form", "branch", "form", "form", "branch"),
    parent = c(NA, "University", NA, NA, strrep("Long form name ", 6))
  )
  names <- epicollect5:::store_table_names("ec5-demo", plan)
  expect_equal(names[1:3], c("ec5_demo__university", "ec5_demo__university__5_branch_q", "ec5_demo__university_1"))
  expect_true(all(nchar(names) <= 54))
  expect_equal(anyDuplicated(names), 0)
  expect_match(names, "^[a-z0-9_]+$")
})

test_store("the database holds typed tables, answers one per row, a codebook and a sync table", function(backend, con) {
  srv <- local_client_server()
  x <- ec5_sync("ec5-demo", con = con, base_url = srv$url)
  sync <- DBI::dbGetQuery(con, "SELECT * FROM ec5_sync ORDER BY position")
  expect_equal(sync$table_name, names(x))
  expect_equal(sync$slug, rep("ec5-demo", length(x)))
  expect_equal(sync$kind, attr(x, "hierarchy")$kind)
  expect_true(all(!is.na(sync$structure_version)))
  # Every table's cursor is its newest uploaded_at.
  newest <- vapply(x, function(t) if (nrow(t)) format(max(t$uploaded_at), "%Y-%m-%d %H:%M:%S", tz = "UTC") else NA_character_, "")
  cursor <- epicollect5:::decode_time(sync$cursor)
  expect_equal(format(cursor, "%Y-%m-%d %H:%M:%S", tz = "UTC"), unname(newest))
  for (i in seq_along(x)) {
    table <- x[[i]]
    rows <- DBI::dbGetQuery(con, paste("SELECT * FROM", sync$sql_table[i], "ORDER BY ec5_order"))
    expect_equal(nrow(rows), nrow(table))
    expect_equal(rows$title, table$title)
    lists <- names(table)[vapply(table, is.list, TRUE)]
    for (column in lists) {
      answers <- DBI::dbGetQuery(con, paste0(
        "SELECT * FROM ", sync$sql_table[i], "__answers WHERE column_name = '", column, "' ORDER BY position"
      ))
      key <- names(answers)[1]
      expect_equal(sort(answers$answer), sort(unlist(table[[column]])), label = column)
      expect_setequal(unique(answers[[key]]), table[[key]][lengths(table[[column]]) > 0])
    }
    factors <- names(table)[vapply(table, is.factor, TRUE)]
    for (column in factors) expect_equal(rows[[column]], as.character(table[[column]]), label = column)
  }
  codebook <- DBI::dbGetQuery(con, "SELECT * FROM ec5_codebook WHERE table_name = 'University' ORDER BY position")
  spec <- epicollect5:::ec5_column_spec(attr(x, "project"))$spec
  expect_equal(codebook$column_name, spec$name)
  expect_equal(codebook$question, spec$label)
  expect_equal(codebook$type, spec$type)
  expect_equal(codebook$choices, vapply(spec$levels, paste, "", collapse = " | "))
  project <- DBI::dbGetQuery(con, "SELECT slug, name, server FROM ec5_projects")
  expect_equal(project$name, attr(x, "project")$project$name)
  expect_equal(project$server, srv$url)
})

test_store("dates and times are typed columns that SQL can compare", function(backend, con) {
  srv <- local_client_server()
  x <- ec5_sync("ec5-demo", con = con, base_url = srv$url)
  sql <- DBI::dbGetQuery(con, "SELECT sql_table FROM ec5_sync WHERE position = 1")$sql_table
  cutoff <- sort(x[[1]]$uploaded_at)[10]
  literal <- format(cutoff, "%Y-%m-%d %H:%M:%S", tz = "UTC")
  n <- DBI::dbGetQuery(con, paste0("SELECT COUNT(*) AS n FROM ", sql, " WHERE uploaded_at <= '", literal, ".999'"))$n
  expect_equal(as.numeric(n), sum(x[[1]]$uploaded_at <= cutoff + 0.999))
})
