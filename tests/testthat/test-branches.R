test_that("a branch is found by ref, export name or question, for every owner", {
  srv <- local_client_server()
  p <- ec5_project("ec5-demo", base_url = srv$url)
  b <- p$inputs[p$inputs$type == "branch", ][1, ]
  by_ref <- ec5_branch_entries("ec5-demo", branch = b$ref, base_url = srv$url)
  by_name <- ec5_branch_entries("ec5-demo", branch = b$map_to, base_url = srv$url)
  by_question <- ec5_branch_entries("ec5-demo", branch = b$question, base_url = srv$url)
  expect_identical(by_ref$ec5_branch_uuid, by_name$ec5_branch_uuid)
  expect_identical(by_ref$ec5_branch_uuid, by_question$ec5_branch_uuid)
  expect_equal(names(by_ref)[1:3], c("ec5_branch_owner_uuid", "ec5_branch_uuid", "created_at"))
  total <- server_total(srv, "ec5-demo", list(branch_ref = b$ref))
  expect_equal(nrow(by_ref), total)
  owners <- ec5_entries("ec5-demo", base_url = srv$url)
  expect_true(all(by_ref$ec5_branch_owner_uuid %in% owners$ec5_uuid))
  # The owning form's branch column counts them.
  counts <- table(factor(by_ref$ec5_branch_owner_uuid, levels = owners$ec5_uuid))
  expect_equal(as.vector(counts), as.vector(owners[[b$map_to]]))
})

test_that("a quiet branch costs one request per page", {
  srv <- local_client_server()
  p <- ec5_project("ec5-demo", base_url = srv$url)
  b <- p$inputs[p$inputs$type == "branch", ][1, ]
  rows <- server_rows(srv, "ec5-demo", branch_ref = b$ref)
  for (per_page in c(7, 25)) {
    mark <- log_marker(srv)
    x <- ec5_branch_entries("ec5-demo", branch = b$ref, per_page = per_page, base_url = srv$url)
    expect_equal(x$ec5_branch_uuid, rows$ec5_branch_uuid)
    expect_equal(count_requests(mark(), "/api/export/entries/"), ceiling(nrow(rows) / per_page))
  }
})

test_that("the branch entries of one owner", {
  srv <- local_client_server()
  p <- ec5_project("ec5-demo", base_url = srv$url)
  b <- p$inputs[p$inputs$type == "branch", ][1, ]
  all <- ec5_branch_entries("ec5-demo", branch = b$ref, base_url = srv$url)
  owner <- all$ec5_branch_owner_uuid[1]
  mine <- ec5_branch_entries("ec5-demo", branch = b$ref, owner_uuid = owner, base_url = srv$url)
  expect_setequal(mine$ec5_branch_uuid, all$ec5_branch_uuid[all$ec5_branch_owner_uuid == owner])
})

test_that("a branch in a child form sends its form_ref", {
  srv <- local_client_server()
  auth <- server_auth(srv, "proyecto-api-python")
  p <- ec5_project("proyecto-api-python", auth = auth, base_url = srv$url)
  b <- p$inputs[p$inputs$type == "branch" & p$inputs$form_ref == p$forms$ref[2], ][1, ]
  srv$reset()
  x <- ec5_branch_entries("proyecto-api-python", branch = b$ref, auth = auth, base_url = srv$url)
  expect_equal(nrow(x), server_total(srv, "proyecto-api-python", list(form_ref = b$form_ref, branch_ref = b$ref), auth))
  query <- srv$log()$query[startsWith(srv$log()$path, "/api/export/entries/")][1]
  expect_true(grepl(paste0("form_ref=", b$form_ref), query, fixed = TRUE))
})

test_that("an unknown branch lists the valid ones", {
  srv <- local_client_server()
  expect_snapshot(error = TRUE, {
    ec5_branch_entries("ec5-demo", branch = "Nope", base_url = srv$url)
    ec5_branch_entries("ec5-demo", base_url = srv$url)
  })
})

test_that("branch entries edited, deleted and added between pages are not lost", {
  srv <- local_client_server()
  p <- ec5_project("ec5-demo", base_url = srv$url)
  b <- p$inputs[p$inputs$type == "branch" & p$inputs$form_ref == p$forms$ref[1], ][1, ]
  before <- server_rows(srv, "ec5-demo", form_ref = p$forms$ref[1], branch_ref = b$ref)
  owners <- server_rows(srv, "ec5-demo")$ec5_uuid
  keys <- before$ec5_branch_uuid
  schedule_live(srv, "ec5-demo", edited = keys[2:9], deleted = keys[c(12, 25, 35)],
                add = list(form_ref = p$forms$ref[1], branch_ref = b$ref, owner_uuid = owners[1]))
  x <- expect_no_warning(ec5_branch_entries("ec5-demo", branch = b$ref, per_page = 10, base_url = srv$url))
  after <- server_rows(srv, "ec5-demo", form_ref = p$forms$ref[1], branch_ref = b$ref)
  expect_lasting(x, before, after, key = "ec5_branch_uuid")
  expect_true(all(paste("Edited", 1:8) %in% x$title))
  expect_true(all(after$ec5_branch_uuid %in% x$ec5_branch_uuid))
})

test_that("branch entries take clean column names, keys kept", {
  srv <- local_client_server()
  p <- ec5_project("ec5-demo", base_url = srv$url)
  branch <- p$inputs$ref[p$inputs$type == "branch"][1]
  x <- ec5_branch_entries("ec5-demo", branch = branch, base_url = srv$url)
  clean <- ec5_branch_entries("ec5-demo", branch = branch, base_url = srv$url, col_names = "clean")
  expect_identical(names(clean), clean_names(names(x)))
  expect_identical(names(clean)[1:2], c("ec5_branch_owner_uuid", "ec5_branch_uuid"))
  expect_identical(make.names(names(clean)), names(clean))
  expect_identical(nrow(clean), nrow(x))
})
