// The OCI runtime wrapper the project's own dockerd uses where this process lacks some
// capabilities (see main.go). No dependencies.
module flant-integration/image/runtime

go 1.22.0
