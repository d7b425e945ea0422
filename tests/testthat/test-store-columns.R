# Columns as the store keeps them (R/store-columns.R), and back.

project <- ec5_project_from_json('{"data": {"project": {"ref": "p1", "name": "Birds",
  "slug": "birds", "access": "public", "forms": [{"ref": "p1_f1", "name": "Sighting",
  "slug": "sighting", "inputs": [
  {"ref": "p1_f1_q1", "type": "integer", "question": "How many?"},
  {"ref": "p1_f1_q2", "type": "date", "question": "When?", "datetime_format": "dd/MM/YYYY"},
  {"ref": "p1_f1_q3", "type": "radio", "question": "Kind?", "possible_answers": [
    {"answer_ref": "a1", "answer": "Owl"}, {"answer_ref": "a2", "answer": "Hawk"}]},
  {"ref": "p1_f1_q4", "type": "checkbox", "question": "Seen where?", "possible_answers": [
    {"answer_ref": "b1", "answer": "Tree, high"}, {"answer_ref": "b2", "answer": "Field"}]},
  {"ref": "p1_f1_q5", "type": "text", "question": "Notes"}]}]}}}')

page <- '{"data": {"entries": [
  {"ec5_uuid": "u1", "created_at": "2024-05-01T10:00:00.123Z", "uploaded_at": "2024-05-01T10:05:00.000Z",
   "title": "1", "1_How_many": 3, "2_When": "01/05/2024", "3_Kind": "Owl",
   "4_Seen_where": ["Tree, high", "Field"], "5_Notes": "ok"},
  {"ec5_uuid": "u2", "created_at": "2024-05-01T10:00:00.999Z", "uploaded_at": "2024-05-01T10:06:00.000Z",
   "title": "2", "1_How_many": 9007199254740993, "2_When": "", "3_Kind": "Bat",
   "4_Seen_where": [], "5_Notes": ""},
  {"ec5_uuid": "u3", "created_at": "1969-12-31T23:59:59.001Z", "uploaded_at": "2024-05-01T10:07:00.000Z",
   "title": "3", "1_How_many": "", "2_When": "02/05/2024", "3_Kind": "",
   "4_Seen_where": ["Field", ""], "5_Notes": "a, b"}]}}'

test_that("every column comes back as the parser made it, on every dialect", {
  table <- suppressWarnings(ec5_parse_entries(page, project))
  cs <- epicollect5:::ec5_column_spec(project)
  proto <- epicollect5:::store_prototype(cs)
  expect_identical(names(proto), names(table))
  for (dialect in c("sqlite", "postgres")) {
    encoded <- epicollect5:::store_encode(table, dialect)
    answers <- epicollect5:::encode_answers(table, "ec5_uuid")
    back <- epicollect5:::store_decode(encoded, answers, proto, "ec5_uuid")
    attributes(table) <- attributes(table)[c("names", "row.names", "class")]
    expect_identical(back, table, label = dialect)
  }
})

test_that("SQLite keeps readable times and dates, choices as codes, and answers joined and one per row", {
  table <- suppressWarnings(ec5_parse_entries(page, project))
  encoded <- epicollect5:::store_encode(table, "sqlite")
  expect_equal(encoded$created_at, c("2024-05-01 10:00:00.123", "2024-05-01 10:00:00.999", "1969-12-31 23:59:59.001"))
  expect_equal(encoded[["2_When"]], c("2024-05-01", NA, "2024-05-02"))
  # The choices of a row, one character each: code + 33, "!" for NA.
  expect_null(encoded[["3_Kind"]])
  expect_equal(encoded$ec5_choices, c("\"", "!", "!"))
  expect_equal(encoded[["4_Seen_where"]], c("Tree, high, Field", NA, "Field, "))
  answers <- epicollect5:::encode_answers(table, "ec5_uuid")
  expect_equal(answers$ec5_uuid, c("u1", "u1", "u3", "u3"))
  expect_equal(answers$position, c(1L, 2L, 1L, 2L))
  expect_equal(answers$answer, c("Tree, high", "Field", "Field", NA))
})

test_that("a stored column comes back with its prototype's type, whatever the values", {
  decode <- epicollect5:::decode_column
  expect_identical(decode(c(1, NA, -5), 0L), c(1L, NA, -5L))
  expect_identical(decode(logical(), 0L), integer())
  whole <- structure(double(), ec5_type = "integer")
  expect_identical(decode(c(1L, NA, 7L), whole), c(1, NA, 7))
  expect_identical(decode(c(1, 2^62), whole), c(1, 2^62))
})

