# The admin API of the local server: reset, project changes, runtime edits.
srv <- local_ec5_server(limits = component$srv_limits("code"))
demo_entries <- function(...) srv_get(srv, "/api/export/entries/ec5-demo", ...)

test_that("reset restores entries, tokens, limits and faults", {
  before <- srv_json(demo_entries(per_page = 1000))$data$entries
  srv$entries("ec5-demo", action = "delete", uuid = before[[1]]$ec5_uuid)
  token <- srv_token(srv, "proyecto-api-python")
  srv$faults(type = "error", status = 503, times = 5)
  srv$project("ec5-demo", status = "trashed")
  srv$reset()
  expect_identical(srv_json(demo_entries(per_page = 1000))$data$entries, before)
  r <- srv_get(srv, "/api/export/entries/proyecto-api-python", .headers = srv_bearer(token))
  expect_equal(r$status, 404L)
})

test_that("trashed projects are gone; locked ones still export", {
  srv$reset()
  srv$project("test-cleaning", status = "trashed")
  expect_equal(srv_json(srv_get(srv, "/api/export/entries/test-cleaning"))$errors[[1]]$code, "ec5_11")
  expect_equal(srv_json(srv_get(srv, "/api/projects/Test%20Cleaning"))$data, list())
  token <- srv_token(srv, "cronus-sept17")
  expect_equal(srv_get(srv, "/api/export/project/cronus-sept17", .headers = srv_bearer(token))$status, 200L)
  srv$reset()
})

test_that("runtime edits: add, edit and delete as an incremental sync sees them", {
  srv$reset()
  all <- function(...) srv_json(demo_entries(per_page = 1000, ...))$data$entries
  uuids <- function(x) vapply(x, `[[`, "", "ec5_uuid")
  before <- all(sort_by = "uploaded_at", sort_order = "ASC")
  mark <- before[[length(before)]]$uploaded_at
  expect_equal(length(all(filter_by = "uploaded_at", filter_from = mark)), sum(vapply(before, `[[`, "", "uploaded_at") == mark))

  added <- srv$entries("ec5-demo", action = "add", answers = list(
    "ec5de3000b3c4c34a00243e3b5b68a3b_56e6e4c64176f_5720bb4c5ec5e" = "Added university"
  ))
  expect_match(added$uploaded_at, "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.000Z$")
  edited_uuid <- before[[1]]$ec5_uuid
  edited <- srv$entries("ec5-demo", action = "edit", uuid = edited_uuid, answers = list(
    "ec5de3000b3c4c34a00243e3b5b68a3b_56e6e4c64176f_574ee25d194c4" = "321"
  ))
  expect_true(added$uploaded_at > mark)
  expect_true(edited$uploaded_at >= added$uploaded_at)
  # From the add's second: the edit can fall in the next second.
  changed <- all(filter_by = "uploaded_at", filter_from = added$uploaded_at)
  expect_setequal(uuids(changed), c(added$uuid, edited_uuid))
  row <- changed[[match(edited_uuid, uuids(changed))]]
  expect_equal(row$`2_Age`, 321L)
  expect_equal(row$created_at, before[[1]]$created_at)
  new <- changed[[match(added$uuid, uuids(changed))]]
  expect_equal(new$`1_Name`, "Added university")
  expect_match(new$title, "^Added university")

  owner <- uuids(all())[1]
  departments <- srv_json(srv_get(srv, "/api/export/entries/ec5-demo", per_page = 1000,
    form_ref = "ec5de3000b3c4c34a00243e3b5b68a3b_5720ceeb6d118"))$data$entries
  children <- Filter(function(e) e$ec5_parent_uuid == owner, departments)
  srv$entries("ec5-demo", action = "delete", uuid = owner)
  expect_false(owner %in% uuids(all()))
  after <- srv_json(srv_get(srv, "/api/export/entries/ec5-demo", per_page = 1000,
    form_ref = "ec5de3000b3c4c34a00243e3b5b68a3b_5720ceeb6d118"))$data$entries
  expect_false(any(uuids(children) %in% uuids(after)))
  branch <- srv_json(srv_get(srv, "/api/export/entries/ec5-demo", per_page = 1000,
    branch_ref = "ec5de3000b3c4c34a00243e3b5b68a3b_56e6e4c64176f_5720cc82fedd1",
    branch_owner_uuid = owner))$data$entries
  expect_equal(branch, list())
})

test_that("branch and child entries can be added at run time", {
  srv$reset()
  owner <- srv_json(demo_entries(per_page = 1))$data$entries[[1]]$ec5_uuid
  added <- srv$entries("ec5-demo", action = "add",
                       branch_ref = "ec5de3000b3c4c34a00243e3b5b68a3b_56e6e4c64176f_573d7a8c6074c",
                       owner_uuid = owner)
  staff <- srv_json(srv_get(srv, "/api/export/entries/ec5-demo",
    branch_ref = "ec5de3000b3c4c34a00243e3b5b68a3b_56e6e4c64176f_573d7a8c6074c", uuid = added$uuid))
  expect_equal(staff$data$entries[[1]]$ec5_branch_owner_uuid, owner)
  child <- srv$entries("ec5-demo", action = "add", form_ref = "ec5de3000b3c4c34a00243e3b5b68a3b_5720ceeb6d118",
                       parent_uuid = owner)
  raw <- srv$raw_entries("ec5-demo", form_ref = "ec5de3000b3c4c34a00243e3b5b68a3b_5720ceeb6d118")
  mine <- Filter(function(e) e$id == child$uuid, raw)[[1]]
  expect_equal(names(mine), c("id", "type", "entry", "attributes", "relationships"))
  expect_equal(mine$relationships$parent$data,
               list(parent_form_ref = "ec5de3000b3c4c34a00243e3b5b68a3b_56e6e4c64176f", parent_entry_uuid = owner))
  expect_equal(mine$attributes$form, list(ref = "ec5de3000b3c4c34a00243e3b5b68a3b_5720ceeb6d118", type = "hierarchy"))
  answer <- mine$entry$answers[[1]]
  expect_equal(names(answer), c("answer", "was_jumped"))
  srv$reset()
})


test_that("scheduled changes reach the store after the k-th entries request", {
  srv$reset()
  page <- function() srv_json(demo_entries(per_page = 1000, sort_by = "uploaded_at", sort_order = "asc"))
  uuids <- function(x) vapply(x$data$entries, `[[`, "", "ec5_uuid")
  before <- uuids(page())
  scheduled <- srv$schedule("ec5-demo", 2, list(
    list(action = "edit", uuid = before[1], title = "Edited later"),
    list(action = "delete", uuid = before[2]),
    list(action = "bulk", n = 4, uploaded_at = 1.7e9)
  ))
  expect_equal(scheduled$changes, 3)
  # Another project's requests do not count.
  srv_get(srv, "/api/export/entries/test-cleaning")
  expect_identical(uuids(page()), before)
  second <- page()
  expect_identical(uuids(second), before)
  third <- page()
  now <- uuids(third)
  expect_false(before[2] %in% now)
  expect_equal(length(now), length(before) - 1 + 4)
  # The edit moved the entry to the end; the bulk upload shares one second,
  # in insertion order, before it.
  expect_equal(now[length(now)], before[1])
  expect_equal(third$data$entries[[length(now)]]$title, "Edited later")
  bulk <- third$data$entries[length(now) - 4:1]
  expect_equal(unique(vapply(bulk, `[[`, "", "uploaded_at")), "2023-11-14T22:13:20.000Z")
  # Once applied, a schedule is gone; DELETE clears pending ones.
  srv$schedule("ec5-demo", 1, list(list(action = "delete", uuid = now[1])))
  srv_request(paste0(srv$url, "/_test/schedule/ec5-demo"), method = "DELETE")
  page()
  expect_true(now[1] %in% uuids(page()))
  srv$reset()
})
