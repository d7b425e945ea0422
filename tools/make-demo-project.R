# Builds inst/extdata/projects/ec5-demo.json, the definition of the demo
# project served by the local server (slug `ec5-demo`), from the real 4-form
# test project of the Epicollect5 formbuilder
# (formbuilder_project_4forms_university_with_extra.json; see SOURCES.md).
#
# What changes, and why:
# * a new project ref, name and slug, public and listed, so that it cannot be
#   mistaken for the original;
# * the test project's placeholder questions ("sdfdsf", "asd", ...) get
#   readable wording, because users meet this project in the package's demo;
# * the two unconditional jumps to END at the top of the first form are
#   removed (they would leave the demo's first form empty);
# * questions are added so that the one project holds every input type and
#   every datetime_format the API can export (no real definition does).
#
# Run from the package root: Rscript tools/make-demo-project.R
src <- "inst/extdata/projects/formbuilder_project_4forms_university_with_extra.json"
out <- "inst/extdata/projects/ec5-demo.json"

old_ref <- "0b3c3c34200243e3b5b68a3b87345c95"
new_ref <- "ec5de3000b3c4c34a00243e3b5b68a3b"

text <- paste(readLines(src, warn = FALSE, encoding = "UTF-8"), collapse = "\n")
text <- gsub(old_ref, new_ref, text, fixed = TRUE)
project <- jsonlite::fromJSON(text, simplifyVector = FALSE)$data$project

project$name <- "EC5 Demo"
project$slug <- "ec5-demo"
project$access <- "public"
project$status <- "active"
project$visibility <- "listed"
project$category <- "general"
project$logo_url <- "logo.jpg"
project$small_description <- "Demo project served by the epicollect5 R package"
project$description <- paste(
  "Universities, their departments, students and classes. A copy of a",
  "real Epicollect5 test project, extended to use every question type."
)
project$entries_limits <- list()

counter <- 0L
new_answer_ref <- function() {
  counter <<- counter + 1L
  sprintf("5ec5d%08x", counter)
}
new_input <- function(parent_ref, type, question, answers = character(),
                      format = NULL, is_title = FALSE) {
  list(
    ref = paste0(parent_ref, "_", new_answer_ref()),
    type = type,
    question = question,
    is_title = is_title,
    is_required = FALSE,
    uniqueness = "none",
    regex = NULL,
    default = NULL,
    verify = FALSE,
    max = NULL,
    min = NULL,
    datetime_format = format,
    set_to_current_datetime = FALSE,
    possible_answers = lapply(answers, function(a) {
      list(answer = a, answer_ref = new_answer_ref())
    }),
    jumps = list(),
    branch = list(),
    group = list()
  )
}

# Readable wording for the formbuilder's placeholder questions, by old text.
rename <- c(
  "sfd" = "Contact",
  "name in nested group" = "Contact name",
  "sdfdsf" = "Notes",
  "sdfsdf" = "Opening time",
  "asd" = "Favourite colour",
  "rrrr" = "Department name",
  "Do you wanna add you profile picture" = "Add a profile picture?",
  "Address Details   " = "Address details",
  "my branch" = "Staff",
  "Facilities" = "Facilities"
)
tidy_inputs <- function(inputs) {
  lapply(inputs, function(input) {
    if (input$question %in% names(rename)) {
      input$question <- unname(rename[input$question])
    }
    input$jumps <- Filter(function(j) !identical(j$when, "ALL"), input$jumps)
    input$branch <- tidy_inputs(input$branch)
    input$group <- tidy_inputs(input$group)
    input
  })
}
project$forms <- lapply(project$forms, function(form) {
  form$inputs <- tidy_inputs(form$inputs)
  form
})

university <- project$forms[[1]]$ref
department <- project$forms[[2]]$ref
student <- project$forms[[3]]$ref
class <- project$forms[[4]]$ref

project$forms[[1]]$inputs <- c(
  list(new_input(university, "readme",
    "&lt;p&gt;Describe one university per entry.&lt;/p&gt;")),
  project$forms[[1]]$inputs,
  list(
    new_input(university, "dropdown", "Type of university",
      c("Public", "Private", "Other")),
    new_input(university, "checkbox", "Faculties",
      c("Arts, Humanities", "Science", "Medicine", "Law", "R&amp;D")),
    new_input(university, "decimal", "Annual budget (million)"),
    new_input(university, "phone", "Switchboard phone"),
    new_input(university, "textarea", "Description")
  )
)
staff <- c("Ada Lovelace", "Alan Turing", "Grace Hopper", "Tu Youyou",
           "Srinivasa Ramanujan", "Marie Curie", "Chien-Shiung Wu",
           "Ibn al-Haytham", "Emmy Noether", "Katherine Johnson")
project$forms[[2]]$inputs <- c(
  project$forms[[2]]$inputs,
  list(
    new_input(department, "searchsingle", "Head of department", staff),
    new_input(department, "searchmultiple", "Research areas",
      c("Ecology", "Epidemiology", "Genomics", "Hydrology", "Statistics",
        "Soil science", "Climate", "Public health")),
    new_input(department, "decimal", "Share of budget (%)"),
    new_input(department, "audio", "Welcome message")
  )
)
project$forms[[3]]$inputs <- c(
  project$forms[[3]]$inputs,
  list(
    new_input(student, "barcode", "Student card barcode"),
    new_input(student, "video", "Introduction video"),
    new_input(student, "date", "Enrolment date", format = "MM/dd/YYYY")
  )
)
project$forms[[4]]$inputs <- c(
  project$forms[[4]]$inputs,
  list(
    new_input(class, "date", "Class date", format = "YYYY/MM/dd"),
    new_input(class, "date", "Term", format = "MM/YYYY"),
    new_input(class, "date", "Exam day", format = "dd/MM"),
    new_input(class, "time", "Start time", format = "HH:mm"),
    new_input(class, "time", "Bell", format = "hh:mm:ss"),
    new_input(class, "time", "Break", format = "hh:mm"),
    new_input(class, "time", "Duration", format = "mm:ss"),
    new_input(class, "location", "Lecture room")
  )
)

json <- jsonlite::toJSON(
  list(data = list(id = new_ref, type = "project", project = project)),
  auto_unbox = TRUE, null = "null", pretty = 2
)
writeLines(json, out, useBytes = TRUE)
