skip_if_not_installed("jsonlite")

projects <- component$srv_load_projects()
store_of <- function(slug, seed = 1L) component$srv_generate_store(projects[[slug]], seed)

test_that("entries export as the server maps them", {
  project <- projects[["proyecto-api-python"]]
  store <- store_of("proyecto-api-python")
  form <- project$definition$forms[[1]]$ref
  plan <- component$srv_mapping_plan(project, form, "", 0L)
  rows <- store[store$kind == "entry" & store$form_ref == form, ][1:5, ]
  ctx <- list(mode = "form", top = TRUE, private = TRUE, slug = project$slug,
              base_url = "http://x", branch_counts = component$srv_branch_counts(store))
  entries <- lapply(component$srv_export_json(rows, plan, ctx), jsonlite::fromJSON, simplifyVector = FALSE)
  expect_equal(names(entries[[1]]), c("ec5_uuid", "created_at", "uploaded_at", "created_by", "title",
                                      "1_prueba_barcode", "3_Ubicacin", "4_Fecha", "5_Nombre",
                                      "6_Foto", "7_BRANCH_Subformular"))
  location <- entries[[1]][["3_Ubicacin"]]
  expect_equal(names(location), c("latitude", "longitude", "accuracy", "UTM_Northing",
                                  "UTM_Easting", "UTM_Zone"))
  counts <- vapply(entries, `[[`, 0L, "7_BRANCH_Subformular")
  expect_equal(counts, unname(vapply(rows$uuid, function(u) {
    sum(store$owner_uuid == u & store$kind == "branch" &
        store$branch_ref == "d5b2da82934f4761aec0d4ba3de61313_5c62cc39cf393_5c64446f6a7cd")
  }, 0L)))
  photos <- vapply(entries, `[[`, "", "6_Foto")
  expect_true(all(grepl("^$|^[0-9a-f-]{36}_[0-9]+\\.jpg$", photos)))

  csv <- component$srv_export_csv(rows, plan, ctx)
  header <- strsplit(sub("\n.*", "", csv), ",")[[1]]
  expect_equal(header[6:12], c("1_prueba_barcode", "lat_3_Ubicacin", "long_3_Ubicacin",
                               "accuracy_3_Ubicacin", "UTM_Northing_3_Ubicacin",
                               "UTM_Easting_3_Ubicacin", "UTM_Zone_3_Ubicacin"))
  expect_equal(component$srv_export_csv(rows[0, ], plan, ctx, headers = FALSE), "")
})

test_that("public media become E7 URLs with a version", {
  project <- projects[["ec5-demo"]]
  store <- store_of("ec5-demo")
  student <- project$definition$forms[[3]]$ref
  plan <- component$srv_mapping_plan(project, student, "", 0L)
  rows <- store[store$form_ref == student & store$kind == "entry", ]
  ctx <- list(mode = "form", top = FALSE, private = FALSE, slug = "ec5-demo",
              base_url = "http://127.0.0.1:9", branch_counts = integer())
  entries <- lapply(component$srv_export_json(rows, plan, ctx), jsonlite::fromJSON, simplifyVector = FALSE)
  photos <- vapply(entries, `[[`, "", "34_Profile_picture")
  urls <- photos[nzchar(photos)]
  expect_true(length(urls) > 0)
  expect_true(all(grepl(paste0("^http://127\\.0\\.0\\.1:9/api/media/ec5-demo\\?type=photo&",
                               "format=entry_original&name=[0-9a-f-]{36}_[0-9]+\\.jpg&v=[0-9]+$"), urls)))
  expect_true(all(vapply(entries, function(e) "ec5_parent_uuid" %in% names(e), TRUE)))
})

