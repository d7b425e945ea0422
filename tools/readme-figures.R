# Regenerates the README's demo output: man/figures/README-map.png and the
# printed table in man/figures/README-table.txt (pasted into README.md).
# Run from the package root with the package installed: Rscript tools/readme-figures.R
library(epicollect5)
options(epicollect5.verbose = FALSE, width = 100)
url <- ec5_demo_server()
data <- ec5_project_data("ec5-demo", base_url = url)
table <- capture.output({
  print(data)
  cat("\n")
  print(data[[1]][, 1:10], n = 5, width = 100)
})
writeLines(table, "man/figures/README-table.txt")
top <- ec5_as_sf(data[[1]])
kids <- ec5_as_sf(data[["Class"]])
grDevices::png("man/figures/README-map.png", width = 900, height = 500, res = 110)
op <- graphics::par(las = 1)
plot(sf::st_geometry(kids), pch = 19, col = "#1b9e7788", axes = TRUE, graticule = TRUE,
     main = "Demo project: where entries were collected",
     xlim = range(sf::st_coordinates(c(sf::st_geometry(top), sf::st_geometry(kids)))[, 1]),
     ylim = range(sf::st_coordinates(c(sf::st_geometry(top), sf::st_geometry(kids)))[, 2]))
plot(sf::st_geometry(top), pch = 17, col = "#d95f02", cex = 1.2, add = TRUE)
legend("bottomleft", c("University (top form)", "Class (4th form)"),
       pch = c(17, 19), col = c("#d95f02", "#1b9e77"), bg = "white")
graphics::par(op)
grDevices::dev.off()
ec5_demo_server(stop = TRUE)
