test_that("an export response becomes an ec5_project", {
  p <- fixture_project()
  expect_s3_class(p, "ec5_project")
  expect_named(p, c("project", "forms", "inputs", "mappings", "mapping_inputs", "stats"))
  expect_equal(p$project$slug, "proyecto-api-python")
  expect_equal(p$project$access, "private")
  expect_equal(p$project$small_description, "Proyecto para app en Python")
  expect_true(is.na(p$project$homepage))

  expect_s3_class(p$forms, "tbl_df")
  expect_equal(p$forms$name, c("primer_formulario", "CHILD_Subformulario1"))
  expect_equal(p$forms$level, 1:2)
  expect_equal(p$forms$parent_ref, c(NA, p$forms$ref[1]))

  inputs <- p$inputs
  expect_named(inputs, c(
    "ref", "form_ref", "parent_ref", "branch_ref", "type", "question", "map_to",
    "datetime_format", "min", "max", "is_title", "is_required", "possible_answers"
  ))
  # Depth-first, definition order: a group or branch before its children.
  expect_equal(inputs$type, c(
    "barcode", "group", "location", "date", "text", "photo", "branch", "integer",
    "group", "text", "integer", "time", "integer", "group", "location", "checkbox",
    "branch", "integer", "location"
  ))
  expect_equal(inputs$map_to[1:7], c(
    "1_prueba_barcode", "2_Grupo1", "3_Ubicacin", "4_Fecha", "5_Nombre", "6_Foto",
    "7_BRANCH_Subformular"
  ))
  branch <- inputs$ref[7]
  group_in_branch <- inputs$ref[9]
  expect_equal(inputs$branch_ref[8:12], rep(branch, 5))
  expect_equal(inputs$parent_ref[10:12], rep(group_in_branch, 3))
  expect_true(all(is.na(inputs$branch_ref[c(1:7, 13:17)])))
  expect_equal(inputs$form_ref[13], p$forms$ref[2])
  expect_equal(inputs$datetime_format[c(4, 12)], c("dd/MM/YYYY", "HH:mm:ss"))
  expect_equal(
    inputs$possible_answers[[16]],
    tibble::tibble(answer_ref = "5c645ba76a7db", answer = "I am a placeholder answer")
  )
  expect_equal(nrow(inputs$possible_answers[[1]]), 0L)

  expect_equal(p$mappings, tibble::tibble(
    map_index = 0L, name = "EC5_AUTO", is_default = TRUE, generated = FALSE
  ))
  mi <- p$mapping_inputs
  expect_equal(nrow(mi), 19L)
  expect_setequal(mi$input_ref, inputs$ref)
  expect_equal(
    mi$answers[[match(inputs$ref[16], mi$input_ref)]],
    c("5c645ba76a7db" = "I am a placeholder answer")
  )

  expect_equal(p$stats$total_entries, 2)
  expect_equal(p$stats$form_counts$count, 2)
  expect_equal(p$stats$form_counts$first_entry_created, "2019-02-12 14:26:39")
  expect_equal(nrow(p$stats$branch_counts), 0L)
  expect_named(p$stats$branch_counts, c("branch_ref", "count", "first_entry_created", "last_entry_created"))
  expect_equal(p$stats$structure_last_updated, "2019-02-13 19:23:09")
})

test_that("a raw vector reads like a string", {
  path <- definition_file("pyepicollect_export_project_private_proyecto-api-python.json")
  raw <- readBin(path, "raw", file.size(path))
  expect_equal(ec5_project_from_json(raw), fixture_project())
})

test_that("the generated EC5_AUTO names are the server's", {
  skip_if_not_installed("jsonlite")
  # The definition with its mapping removed must give the real mapping back.
  for (name in c(
    "pyepicollect_export_project_private_proyecto-api-python.json",
    "ec5-demo-project_api-project_response_mobile-app-asset_2022.json"
  )) {
    full <- fixture_project(name)
    body <- jsonlite::fromJSON(json_fixture(name), simplifyVector = FALSE)
    body$meta <- NULL
    bare <- ec5_project_from_json(as.character(jsonlite::toJSON(body, auto_unbox = TRUE, null = "null")))
    expect_true(bare$mappings$generated)
    real <- full$mapping_inputs[full$mapping_inputs$map_index == 0L, ]
    made <- bare$mapping_inputs
    expect_setequal(made$input_ref, real$input_ref)
    k <- match(real$input_ref, made$input_ref)
    expect_equal(made$map_to[k], real$map_to, label = name)
    expect_equal(made$answers[k], real$answers, label = name)
    expect_equal(bare$inputs$map_to, full$inputs$map_to)
  }
})

test_that("EC5_AUTO skips readme, counts groups and branches, strips non-ASCII", {
  p <- fixture_project("formbuilder_project_test-cleaning_readme_phone_group.json")
  expect_true(p$mappings$generated)
  expect_equal(p$inputs$map_to, c(
    "1_Name", "2_Sex", "3_As_a_male_favorite", "4_As_a_female_pick_a", "5_Family_Members",
    "6_Name", "7_Relationship", "8_How_old_is_your_fa", "9_How_old_is_your_mo",
    "10_How_old_is_your_s", "11_How_old_is_your_b", NA, "12_A_Group", "13_Q1", "14_Q2", "15_Q3"
  ))
  w <- fixture_project("formbuilder_project_word-chars_unicode_questions.json")
  expect_equal(w$inputs$map_to, c(
    "1_Q1____", "2_A_branch", "3_Branch_Q1__fsdfs__", "4_A_nested_group",
    "5_Nested_group_Q1___", "6_A_group__sdfsd_123", "7_Group_Q1"
  ))
  expect_true(all(nchar(w$inputs$map_to) <= 20))
})

test_that("every formbuilder definition reads", {
  files <- list.files(dirname(definition_file("ec5-demo.json")), "^formbuilder_")
  expect_length(files, 5L)
  for (f in files) {
    p <- fixture_project(f)
    expect_s3_class(p, "ec5_project")
    expect_false(anyNA(p$inputs$ref), label = f)
    questions <- p$inputs[p$inputs$type != "readme", ]
    expect_false(anyNA(questions$map_to), label = f)
    expect_false(anyDuplicated(questions$map_to) > 0, label = f)
  }
  big <- fixture_project("formbuilder_project_hinganghat-wardha-ddr_large_jumps.json")
  expect_equal(sum(big$inputs$type == "radio"), 110L)
  university <- fixture_project("formbuilder_project_4forms_university_with_extra.json")
  expect_equal(university$forms$level, 1:4)
  expect_equal(university$forms$parent_ref[2:4], university$forms$ref[1:3])
})

test_that("the mobile app's /api/project shape reads, with custom mappings", {
  p <- fixture_project("ec5-demo-project_api-project_response_mobile-app-asset_2022.json")
  expect_equal(p$project$homepage, "http://localhost/project/ec5-demo-project")
  expect_equal(p$mappings$map_index, 0:2)
  expect_equal(p$mappings$name, c("EC5_AUTO", "Map Test", "My Maps"))
  expect_equal(p$mappings$is_default, c(TRUE, FALSE, FALSE))
  m1 <- p$mapping_inputs[p$mapping_inputs$map_index == 1L, ]
  expect_equal(sort(m1$map_to[m1$hide]), c("group", "pic", "time", "todays_date"))
  expect_equal(p$stats$total_entries, 50663)
})

test_that("a mapping list with a gap arrives as an object and still reads", {
  skip_if_not_installed("jsonlite")
  body <- jsonlite::fromJSON(
    json_fixture("ec5-demo-project_api-project_response_mobile-app-asset_2022.json"),
    simplifyVector = FALSE
  )
  maps <- body$meta$project_mapping
  body$meta$project_mapping <- list("0" = maps[[1]], "2" = maps[[3]])
  body$meta$project_stats$form_counts <- list()
  body$data$project$entries_limits <- list(p_f1 = "50")
  p <- ec5_project_from_json(as.character(jsonlite::toJSON(body, auto_unbox = TRUE, null = "null")))
  expect_equal(p$mappings$map_index, c(0L, 2L))
  expect_equal(unique(p$mapping_inputs$map_index), c(0L, 2L))
  expect_equal(nrow(p$stats$form_counts), 0L)
  expect_equal(p$project$entries_limits, c(p_f1 = "50"))
})

test_that("exactly one mapping is the default", {
  skip_if_not_installed("jsonlite")
  base <- jsonlite::fromJSON(
    json_fixture("ec5-demo-project_api-project_response_mobile-app-asset_2022.json"),
    simplifyVector = FALSE
  )
  set_defaults <- function(flags) {
    body <- base
    for (i in seq_along(flags)) body$meta$project_mapping[[i]]$is_default <- flags[i]
    ec5_project_from_json(as.character(jsonlite::toJSON(body, auto_unbox = TRUE, null = "null")))$mappings
  }
  expect_equal(set_defaults(c(FALSE, TRUE, TRUE))$is_default, c(FALSE, TRUE, FALSE))
  expect_equal(set_defaults(c(FALSE, FALSE, FALSE))$is_default, c(TRUE, FALSE, FALSE))
})

test_that("odd value types in a definition do not break it", {
  json <- '{"data": {"project": {"ref": 7, "name": ["x"], "slug": "odd", "access": null,
    "forms": [5, {"ref": "p_f1", "name": "F", "inputs": [
      {"ref": "p_f1_q1", "type": "integer", "question": 12, "is_title": "1",
       "is_required": {}, "possible_answers": {}, "group": "no"},
      "not an input",
      {"ref": "p_f1_q2", "type": "radio", "question": "R",
       "possible_answers": [{"answer_ref": "a1", "answer": "A"}, 3]}]}]}},
    "meta": {"project_mapping": [], "project_stats": []}}'
  p <- ec5_project_from_json(json)
  expect_equal(p$project$ref, "7")
  expect_true(is.na(p$project$name))
  expect_equal(p$inputs$question, c("12", "R"))
  expect_equal(p$inputs$is_title, c(TRUE, FALSE))
  expect_equal(p$inputs$is_required, c(TRUE, FALSE))
  expect_equal(p$inputs$map_to, c("1_12", "2_R"))
  expect_equal(p$inputs$possible_answers[[2]]$answer, c("A", NA))
  expect_true(p$mappings$generated)
})

test_that("text that is not UTF-8 becomes NA instead of a broken string", {
  json <- charToRaw('{"data": {"project": {"ref": "p", "slug": "s", "forms": [{"ref": "p_f1",
    "inputs": [{"ref": "p_f1_q1", "type": "text", "question": "XX"}]}]}}}')
  json[gregexpr("XX", rawToChar(json))[[1]][1] + 0:1] <- as.raw(c(0xff, 0xfe))
  p <- ec5_project_from_json(json)
  expect_true(is.na(p$inputs$question))
})

test_that("keys that cannot be R strings are skipped", {
  # Found by the fuzzer (tools/fuzz): a NUL in a key reached Rf_mkCharLenCE.
  json <- '{"data": {"project": {"ref": "p", "slug": "s", "forms": [{"ref": "p_f1",
    "inputs": [{"ref": "p_f1_q1", "type": "text", "question": "Q"}]}],
    "entries_limits": {"p_f1": "5", "p\\u0000f1": "6"}}},
    "meta": {"project_mapping": [{"map_index": 0, "name": "EC5_AUTO", "is_default": true,
      "forms": {"p_f1": {"p_f1_q1": {"map_to": "Q", "hide": false, "possible_answers": [],
        "group": [], "branch": []}, "p_f1_q\\u00002": {"map_to": "X"}}}}],
      "project_stats": {"form_counts": {"\\u0000": {"count": 1}}}}}'
  p <- ec5_project_from_json(json)
  expect_equal(p$project$entries_limits, c(p_f1 = "5"))
  expect_equal(p$mapping_inputs$input_ref, "p_f1_q1")
  expect_equal(nrow(p$stats$form_counts), 0L)
})

test_that("broken definitions are classed parse errors", {
  expect_error(ec5_project_from_json("{"), class = "ec5_error_parse")
  expect_error(ec5_project_from_json("[1, 2]"), class = "ec5_error_parse")
  expect_error(ec5_project_from_json('{"data": {"project": {"forms": 3}}}'), class = "ec5_error_parse")
  expect_snapshot(error = TRUE, {
    ec5_project_from_json('{"data": {"id": "x"}}')
    ec5_project_from_json(json_fixture("docs_entries_form_public_ec5-api-test.json"))
    ec5_project_from_json('{"errors": [{"code": "ec5_11", "title": "Project does not exist.", "source": "project"}]}')
    ec5_project_from_json("{\"data\": ")
  })
})

test_that("deep nesting never crashes", {
  deep <- paste0('{"data": {"project": {"forms": ', strrep("[", 10000), strrep("]", 10000), "}}}")
  expect_error(ec5_project_from_json(deep), class = "ec5_error_parse")
  nest <- function(depth) {
    if (depth == 0) {
      return('{"ref": "x", "type": "text", "question": "leaf"}')
    }
    paste0('{"ref": "g', depth, '", "type": "group", "question": "g", "group": [', nest(depth - 1), "]}")
  }
  json <- function(depth) {
    paste0('{"data": {"project": {"ref": "p", "forms": [{"ref": "f", "inputs": [', nest(depth), "]}]}}}")
  }
  expect_equal(nrow(ec5_project_from_json(json(3))$inputs), 4L)
  expect_snapshot(ec5_project_from_json(json(50)), error = TRUE)
  mapping <- paste0(
    '{"meta": {"project_mapping": [{"map_index": 0, "forms": {"f": {"x": ',
    strrep('{"map_to": "a", "group": {"x": ', 20), "{}", strrep("}}", 20),
    "}}}]}, ", substring(json(0), 2)
  )
  expect_error(ec5_project_from_json(mapping), class = "ec5_error_parse")
})

test_that("json must be text", {
  expect_snapshot(error = TRUE, {
    ec5_project_from_json(1)
    ec5_project_from_json(c("{}", "{}"))
    ec5_project_from_json(NA_character_)
  })
})

test_that("print shows forms, branches and mappings", {
  expect_snapshot({
    print(fixture_project())
    print(fixture_project("ec5-demo-project_api-project_response_mobile-app-asset_2022.json"))
    print(fixture_project("formbuilder_project_4forms_university_with_extra.json"))
  })
  expect_invisible(print(fixture_project()))
  expect_type(format(fixture_project()), "character")
})

# --- column spec -------------------------------------------------------------

test_that("the column spec of the top form follows the export order", {
  cs <- ec5_column_spec(fixture_project())
  expect_named(cs, c(
    "spec", "options", "form_ref", "form_name", "branch_ref", "branch_name",
    "map_index", "parent_form_ref"
  ))
  expect_equal(cs$spec$name, c(
    "1_prueba_barcode", "3_Ubicacin", "4_Fecha", "5_Nombre", "6_Foto", "7_BRANCH_Subformular"
  ))
  expect_equal(cs$spec$type, c("barcode", "location", "date", "text", "photo", "branch"))
  expect_equal(cs$spec$format, c(NA, NA, "dd/MM/YYYY", NA, NA, NA))
  expect_equal(cs$spec$label[2], "Ubicación")
  expect_equal(cs$options, list(mode = "form", child = FALSE, private = TRUE))
  expect_equal(cs$form_name, "primer_formulario")
  expect_true(is.na(cs$branch_ref))
  expect_true(is.na(cs$parent_form_ref))
  expect_identical(cs$map_index, 0L)
})

test_that("forms resolve by name, slug or ref", {
  p <- fixture_project()
  ref <- p$forms$ref[2]
  for (form in c("CHILD_Subformulario1", "child-subformulario1", ref)) {
    cs <- ec5_column_spec(p, form = form)
    expect_equal(cs$form_ref, ref)
  }
  expect_equal(cs$parent_form_ref, p$forms$ref[1])
  expect_true(cs$options$child)
  expect_equal(cs$spec$name, c(
    "13_N_CHILD_Subformul", "15_GPS_Grupo_Subform", "16_Check_Gurpo_Subfo", "17_BRANCH_CHILD_Subf"
  ))
  expect_equal(cs$spec$levels[[3]], "I am a placeholder answer")
})

test_that("branches resolve by question, export name or ref, groups flattened", {
  p <- fixture_project()
  ref <- p$inputs$ref[7]
  for (branch in c("BRANCH_Subformulario1", "7_BRANCH_Subformular", ref)) {
    cs <- ec5_column_spec(p, branch = branch)
    expect_equal(cs$branch_ref, ref)
    expect_equal(cs$form_ref, p$forms$ref[1])
  }
  expect_equal(cs$options$mode, "branch")
  expect_equal(cs$branch_name, "BRANCH_Subformulario1")
  expect_equal(cs$spec$name, c("8_Numero_Branch", "10_Tipo_de_cosas", "11_Cantidad_de_cosas", "12_Hora"))
  # The form of a branch is found from the branch when not given.
  child <- ec5_column_spec(p, branch = "BRANCH_CHILD_Subformulario1")
  expect_equal(child$form_ref, p$forms$ref[2])
  expect_true(child$options$child)
})

test_that("a custom mapping renames, hides and relabels", {
  p <- fixture_project("ec5-demo-project_api-project_response_mobile-app-asset_2022.json")
  auto <- ec5_column_spec(p)
  expect_equal(auto$spec$name, c(
    "1_Whats_your_name", "2_How_old_are_you", "3_Where_are_you", "4_Profile_picture",
    "5_Whats_todays_date", "6_What_time_is_it", "8_Whats_your_favouri", "9_What_are_your_favo"
  ))
  expect_equal(auto$spec$levels[[7]][1:2], c("Red", "Blue"))
  custom <- ec5_column_spec(p, map_index = 1)
  # Hidden: todays_date, time, pic; the hidden group's children stay.
  expect_equal(custom$spec$name, c("name", "age", "location", "fave__color", "fave_animal"))
  expect_equal(custom$spec$levels[[4]][1:2], c("magenta", "blue"))
  expect_equal(custom$spec$levels[[5]][5], "None")
  expect_identical(custom$map_index, 1L)
})

test_that("a column spec is made once per project, form, branch and mapping", {
  p <- fixture_project()
  cs <- ec5_column_spec(p)
  expect_identical(ec5_column_spec(p), cs)
  # A modified copy of a project is another project.
  changed <- p
  first <- changed$mapping_inputs$map_to == cs$spec$name[1]
  changed$mapping_inputs$map_to[first] <- "renamed"
  expect_equal(ec5_column_spec(changed)$spec$name[1], "renamed")
  expect_equal(ec5_column_spec(p)$spec$name[1], cs$spec$name[1])
  expect_identical(ec5_column_spec(p, form = p$forms$ref[1]), cs)
})

test_that("readme, group and hidden questions give no column; branches a count", {
  p <- fixture_project("formbuilder_project_test-cleaning_readme_phone_group.json")
  cs <- ec5_column_spec(p)
  expect_equal(cs$spec$type, c("text", "radio", "dropdown", "checkbox", "branch", "text", "integer", "phone"))
  expect_false(any(cs$spec$type %in% c("readme", "group")))
  expect_equal(cs$spec$levels[[2]], c("Male", "Female"))
  expect_equal(cs$spec$levels[[1]], character(0))
})

test_that("unknown forms, branches and mappings are not_found errors", {
  p <- fixture_project()
  expect_error(ec5_column_spec(p, form = "nope"), class = "ec5_error_not_found")
  expect_error(ec5_column_spec(p, branch = "nope"), class = "ec5_error_not_found")
  expect_error(ec5_column_spec(p, map_index = 3), class = "ec5_error_not_found")
  expect_snapshot(error = TRUE, {
    ec5_column_spec(p, form = "nope")
    ec5_column_spec(p, branch = "nope")
    ec5_column_spec(p, form = "primer_formulario", branch = "BRANCH_CHILD_Subformulario1")
    ec5_column_spec(p, map_index = 3)
    ec5_column_spec(p, map_index = "zero")
    ec5_column_spec(fixture_project("formbuilder_project_4forms_university_with_extra.json"),
                    form = "Class", branch = "x")
    ec5_column_spec(list())
  })
})

test_that("a custom export name equal to a system column is warned about", {
  json <- make_project_json(list(F = list(q("text", "title"), q("integer", "n"))), meta = list(
    project_mapping = list(list(
      name = "EC5_AUTO", map_index = 0, is_default = TRUE,
      forms = list(p_f1 = list(
        p_f1_q1 = list(map_to = "title", hide = FALSE, group = list(), branch = list(), possible_answers = list()),
        p_f1_q2 = list(map_to = "n", hide = FALSE, group = list(), branch = list(), possible_answers = list())
      ))
    ))
  ))
  p <- ec5_project_from_json(json)
  expect_snapshot(cs <- ec5_column_spec(p))
  expect_warning(ec5_column_spec(p), class = "ec5_warning_name_collision")
  x <- parse_quietly(page_json(entry_json(uuid(1), title = '"answer"', n = "3")), p)
  expect_equal(names(x), c("ec5_uuid", "created_at", "uploaded_at", "title", "title_1", "n"))
  expect_equal(x$title_1, "answer", ignore_attr = TRUE)
  expect_equal(x$title, "answer")
})

test_that("questions missing from the mapping or with empty names are left out", {
  json <- make_project_json(list(F = list(q("text", "a"), q("text", "b"), q("text", "c"))), meta = list(
    project_mapping = list(list(
      name = "EC5_AUTO", map_index = 0, is_default = TRUE,
      forms = list(p_f1 = list(
        p_f1_q1 = list(map_to = "a", hide = FALSE),
        p_f1_q2 = list(map_to = "", hide = FALSE)
      ))
    ))
  ))
  expect_equal(ec5_column_spec(ec5_project_from_json(json))$spec$name, "a")
})

# --- texts: HTML entities ---------------------------------------------------------

test_that("question texts and possible answers are decoded once, export names made from the stored text", {
  p <- make_project(list(F = list(
    q("radio", "Budget &amp; staff &lt;5", answers = c(
      "R&amp;D", "Arts &amp;amp; more", "&#39;quoted&#x27; &quot;x&quot;", "AT&T", "&bogus; &#0; &"
    ))
  )))
  expect_identical(p$inputs$question, "Budget & staff <5")
  expect_identical(p$inputs$possible_answers[[1]]$answer, c(
    "R&D", "Arts &amp; more", "'quoted' \"x\"", "AT&T", "&bogus; &#0; &"
  ))
  # The server names the column from the text it stores, entities and all.
  expect_identical(p$inputs$map_to, "1_Budget_amp_staff_l")
  expect_identical(unname(p$mapping_inputs$answers[[1]][1:2]), c("R&D", "Arts &amp; more"))
  cs <- ec5_column_spec(p)
  expect_identical(cs$spec$label, "Budget & staff <5")
  expect_identical(cs$spec$levels[[1]][1:2], c("R&D", "Arts &amp; more"))
})

test_that("mapped answer labels of a stored mapping are decoded too", {
  json <- make_project_json(
    list(F = list(q("radio", "Pick", answers = c("A &amp; B", "C")))),
    meta = list(project_mapping = list(list(
      name = "EC5_AUTO", map_index = 0L, is_default = TRUE,
      forms = list(p_f1 = list(p_f1_q1 = list(
        map_to = "1_Pick", hide = FALSE, group = list(), branch = list(),
        possible_answers = list(a1 = list(map_to = "A &amp; B"), a2 = list(map_to = "C &lt; D"))
      )))
    )))
  )
  p <- ec5_project_from_json(json)
  expect_identical(unname(p$mapping_inputs$answers[[1]]), c("A & B", "C < D"))
  expect_identical(ec5_column_spec(p)$spec$levels[[1]], c("A & B", "C < D"))
})

test_that("a readme question is its plain text; other questions keep a typed <", {
  p <- make_project(list(F = list(
    q("readme", paste0(
      "&lt;p&gt;&lt;b&gt;Read&lt;/b&gt; this &amp;amp; that&lt;br&gt;next&lt;/p&gt;",
      "&lt;p&gt;a &amp;lt; b&amp;nbsp;c&lt;/p&gt;"
    )),
    q("text", "&lt;b&gt; is not bold here")
  )))
  expect_identical(p$inputs$question, c("Read this & that\nnext\na < b\u00a0c", "<b> is not bold here"))
})

test_that("no real definition keeps an entity or a tag in a question or an answer", {
  files <- list.files(dirname(definition_file("ec5-demo.json")), "\\.json$")
  for (f in files) {
    p <- fixture_project(f)
    answers <- unlist(lapply(p$inputs$possible_answers, `[[`, "answer"))
    texts <- c(p$inputs$question, answers, unlist(p$mapping_inputs$answers))
    expect_false(any(grepl("&(amp|lt|gt|quot|#[0-9]+);|</?p>", texts)), label = f)
  }
  demo <- fixture_project("ec5-demo.json")
  expect_identical(demo$inputs$question[1], "Describe one university per entry.")
  expect_true("R&D" %in% unlist(lapply(demo$inputs$possible_answers, `[[`, "answer")))
  survey <- fixture_project("formbuilder_project_hinganghat-wardha-ddr_large_jumps.json")
  readme <- survey$inputs$question[survey$inputs$type == "readme"]
  expect_false(any(grepl("<", readme, fixed = TRUE)))
})

# --- numeric bounds ------------------------------------------------------------------

test_that("min and max are read as numbers, NA when unset", {
  p <- make_project(list(F = list(
    q("integer", "a", min = 16, max = "95"),
    q("integer", "b", min = "", max = NULL),
    q("decimal", "c", min = "0.5", max = "x")
  )))
  expect_identical(p$inputs$min, c(16, NA, 0.5))
  expect_identical(p$inputs$max, c(95, NA, NA))
  cs <- ec5_column_spec(p)
  expect_identical(cs$spec$min, c(16, NA, 0.5))
})
