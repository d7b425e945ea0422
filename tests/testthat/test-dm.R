test_that("ec5_dm() links the tables of every served project by their keys", {
  skip_if_not_installed("dm")
  srv <- local_client_server(entries = 6)
  data <- served_data(srv)
  for (slug in names(data)) {
    x <- data[[slug]]
    h <- attr(x, "hierarchy")
    model <- ec5_dm(x)
    expect_s3_class(model, "dm")
    expect_equal(names(dm::dm_get_tables(model)), h$table, label = slug)
    pks <- dm::dm_get_all_pks(model)
    expect_equal(pks$table, h$table)
    expect_equal(vapply(pks$pk_col, function(k) k[[1]], ""),
                 ifelse(h$kind == "branch", "ec5_branch_uuid", "ec5_uuid"))
    fks <- dm::dm_get_all_fks(model)
    children <- h[!is.na(h$parent), ]
    expect_equal(fks$child_table[order(match(fks$child_table, h$table))], children$table)
    expect_equal(fks$parent_table[match(children$table, fks$child_table)], children$parent)
    expect_equal(vapply(fks$child_fk_cols[match(children$table, fks$child_table)], function(k) k[[1]], ""),
                 as.character(ifelse(children$kind == "branch", "ec5_branch_owner_uuid", "ec5_parent_uuid")))
    checked <- dm::dm_examine_constraints(model)
    expect_true(all(checked$is_key), label = slug)
    expect_equal(nrow(dm::dm_get_tables(model)[[h$table[1]]]), nrow(x[[1]]))
  }
})

test_that("a broken link fails the dm's constraint check", {
  skip_if_not_installed("dm")
  srv <- local_client_server(entries = 6)
  x <- ec5_project_data("ec5-demo", base_url = srv$url)
  x[["Department"]]$ec5_parent_uuid[1] <- "00000000-0000-4000-8000-000000000000"
  checked <- dm::dm_examine_constraints(ec5_dm(x))
  expect_false(all(checked$is_key))
  expect_error(ec5_dm(list()), class = "ec5_error_argument")
})
