// Package deploy holds the files that run llmedge as several replicas:
// docker-compose.yaml (with haproxy.cfg and config.yaml) and the
// Kubernetes manifests under k8s/. It has no code of its own: its tests
// load every file with the tool's own types (the Compose loader, the
// Kubernetes API types, strictly) and run llmedge with the command,
// config and environment they give, so the files stay true to the
// binary. It must not be imported.
package deploy
