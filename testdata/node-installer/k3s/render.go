// Renders k3s's containerd template with the values a default k3s/rke2 agent passes.
package main

import (
	"os"
	"text/template"
)

func main() {
	tmpl := template.Must(template.ParseFiles(os.Args[1]))
	program := os.Args[2]
	root := "/var/lib/rancher/" + program
	data := map[string]any{
		"Program":               program,
		"EnableUnprivileged":    true,
		"DisableCgroup":         false,
		"IsRunningInUserNS":     false,
		"SystemdCgroup":         true,
		"PrivateRegistryConfig": nil,
		"ExtraRuntimes": map[string]any{
			"nvidia": map[string]any{"RuntimeType": "io.containerd.runc.v2", "BinaryName": "/usr/bin/nvidia-container-runtime"},
		},
		"NodeConfig": map[string]any{
			"SELinux":   false,
			"NoFlannel": false,
			"Containerd": map[string]any{"Opt": root + "/agent/containerd"},
			"AgentConfig": map[string]any{
				"PauseImage":         "rancher/mirrored-pause:3.6",
				"Snapshotter":        "overlayfs",
				"ImageServiceSocket": "",
				"CNIBinDir":          root + "/data/current/bin",
				"CNIConfDir":         root + "/agent/etc/cni/net.d",
			},
		},
	}
	if err := tmpl.Execute(os.Stdout, data); err != nil {
		panic(err)
	}
}
