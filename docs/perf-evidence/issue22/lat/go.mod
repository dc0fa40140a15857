module lat
go 1.26
