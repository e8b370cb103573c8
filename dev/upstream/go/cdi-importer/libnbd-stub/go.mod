// A stand-in for libguestfs.org/libnbd (cgo bindings to libnbd, which the Go module proxy
// serves at no version). CDI's importer uses it only in its VMware VDDK source
// (pkg/importer/vddk-datasource_amd64.go), which cdi-importer never runs: these declarations
// let that file compile without cgo. Create() always fails.
module libguestfs.org/libnbd

go 1.24.0
