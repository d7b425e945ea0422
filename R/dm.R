#' A project's tables as a dm
#'
#' Turns the linked tables of [ec5_project_data()] into a [dm::dm()] object
#' with their keys: the primary key of a form is `ec5_uuid` and of a branch
#' `ec5_branch_uuid`; a child form's `ec5_parent_uuid` and a branch's
#' `ec5_branch_owner_uuid` are foreign keys to the `ec5_uuid` of their parent
#' form. With it, dm checks referential integrity
#' ([dm::dm_examine_constraints()]), draws the data model
#' ([dm::dm_draw()]) and joins across levels ([dm::dm_flatten_to_tbl()]).
#'
#' @param data An `ec5_project_data` object from [ec5_project_data()] or
#'   [ec5_local()].
#' @return A `dm` object with one table per table of `data`.
#' @seealso [ec5_join()] to join one table to its parent without dm.
#' @export
#' @examplesIf requireNamespace("webfakes", quietly = TRUE) && requireNamespace("dm", quietly = TRUE)
#' url <- ec5_demo_server()
#' model <- ec5_dm(ec5_project_data("ec5-demo", base_url = url))
#' model
#' dm::dm_examine_constraints(model)
#' \dontshow{ec5_demo_server(stop = TRUE)}
ec5_dm <- function(data) {
  check_project_data(data, arg = "data")
  rlang::check_installed("dm", reason = "to link the tables as a dm.")
  h <- attr(data, "hierarchy")
  model <- dm::as_dm(lapply(unclass(data), tibble::as_tibble))
  for (i in seq_len(nrow(h))) {
    table <- rlang::sym(h$table[i])
    key <- rlang::sym(table_layout()$keys[[h$kind[i]]])
    model <- dm::dm_add_pk(model, !!table, !!key)
  }
  # A parent (of a child form or of a branch) is always a form's entry.
  parent_key <- rlang::sym(table_layout()$keys[["form"]])
  for (i in which(!is.na(h$parent))) {
    table <- rlang::sym(h$table[i])
    key <- rlang::sym(table_layout()$links[[h$kind[i]]])
    model <- dm::dm_add_fk(model, !!table, !!key, !!rlang::sym(h$parent[i]), !!parent_key)
  }
  model
}
