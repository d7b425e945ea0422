library(testthat)
library(epicollect5)

test_check("epicollect5")
