skip_if_not_installed("jsonlite")

projects <- component$srv_load_projects()
key_order <- component$srv_mysql_key_order

store_of <- function(slug, seed = 1L) component$srv_generate_store(projects[[slug]], seed)

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
    built <- component$srv_mapping_auto(projects[[slug]]$definition)
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
  auto <- component$srv_auto_map_to
  expect_equal(auto(3, "  Ubicaci\u00f3n  "), "3_Ubicacin")
  expect_equal(auto(13, "N\u00b0 CHILD_Subformulario1"), "13_N_CHILD_Subformul")
  expect_equal(auto(1, "Q1 \u2018 \u2019 \u201a \ufffd"), "1_Q1____")
})

test_that("custom mappings rename, hide and relabel; defaults stay single", {
  cleaning <- projects[["test-cleaning"]]
  expect_equal(component$srv_map_indexes(cleaning), c(0L, 1L))
  expect_equal(component$srv_default_map_index(cleaning), 0L)
  plan <- component$srv_mapping_plan(cleaning, cleaning$definition$forms[[1]]$ref, "", 1L)
  expect_equal(plan$map_to, c("name", "sex", "colours", "family", "q1", "q2", "phone"))
  expect_equal(unname(plan$labels[[2]]), c("M", "F"))
  expect_equal(unname(plan$labels[[3]])[4], "yellow, or gold")
  words <- projects[["word-chars-test"]]
  expect_equal(component$srv_map_indexes(words), c(0L, 2L))
  expect_equal(component$srv_default_map_index(words), 2L)
  defaults <- vapply(words$mappings, `[[`, TRUE, "is_default")
  expect_equal(defaults, c(FALSE, TRUE))
})

test_that("mapping plans flatten groups, drop readme and hidden, count branches", {
  cleaning <- projects[["test-cleaning"]]
  form <- cleaning$definition$forms[[1]]$ref
  plan <- component$srv_mapping_plan(cleaning, form, "", 0L)
  expect_equal(plan$map_to, c("1_Name", "2_Sex", "3_As_a_male_favorite", "4_As_a_female_pick_a",
                              "5_Family_Members", "13_Q1", "14_Q2", "15_Q3"))
  expect_equal(plan$type[5], "branch")
  branch <- "77ceaef2b5634ee3b20765d25e0047d1_5a252849399f6_5a252a65d889c"
  custom <- component$srv_mapping_plan(cleaning, form, branch, 1L)
  # "How old is your brother" is hidden in the custom mapping.
  expect_equal(custom$map_to, c("member_name", "relationship", "8_How_old_is_your_fa",
                                "9_How_old_is_your_mo", "10_How_old_is_your_s"))
  nested <- component$srv_mapping_plan(projects[["word-chars-test"]],
    "ec1d093782ba4a1aa9e94e8eecab258b_5a5f59a798e3b",
    "ec1d093782ba4a1aa9e94e8eecab258b_5a5f59a798e3b_5a5f59f4ab534", 0L)
  expect_equal(nested$map_to, c("3_Branch_Q1__fsdfs__", "5_Nested_group_Q1___"))
})

test_that("project stats and key order follow the server", {
  project <- projects[["ec5-demo"]]
  stats <- component$srv_project_stats(project, store_of("ec5-demo"))
  expect_equal(names(stats), c("total_entries", "total_files", "total_bytes", "form_counts",
                               "branch_counts", "structure_last_updated"))
  expect_equal(names(stats$form_counts[[1]]), c("count", "first_entry_created", "last_entry_created"))
  expect_equal(names(key_order(list(map_to = 1, hide = 2, group = 3, branch = 4, possible_answers = 5))),
               c("hide", "group", "branch", "map_to", "possible_answers"))
})
