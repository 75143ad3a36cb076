package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const composeFile = "../../docker-compose.yml"

// TestComposeConfig validates the root docker-compose.yml with
// "docker-compose config" (Debian package docker-compose; no Docker engine
// needed), or "docker compose config" where the plugin is installed.
func TestComposeConfig(t *testing.T) {
	var cmd []string
	if p, err := exec.LookPath("docker-compose"); err == nil {
		cmd = []string{p}
	} else if p, err := exec.LookPath("docker"); err == nil && exec.Command(p, "compose", "version").Run() == nil {
		cmd = []string{p, "compose"}
	} else {
		requireTool(t, "docker-compose", "docker-compose")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, cmd[0], append(cmd[1:], "-f", composeFile, "config", "-q")...)
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%s config: %v\n%s", strings.Join(cmd, " "), err, out)
	}
}

// TestComposeTopology checks that docker-compose.yml, nginx.conf and the
// Dockerfile agree: every host service is an upstream of nginx on the
// port it listens on, nginx uses the repository's nginx.conf and publishes
// 8080, the cron service runs the cron binary, and the Dockerfile builds
// packages that exist.
func TestComposeTopology(t *testing.T) {
	raw, err := os.ReadFile(composeFile)
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       map[string]string `yaml:"build"`
			Environment map[string]string `yaml:"environment"`
			Entrypoint  []string          `yaml:"entrypoint"`
			Command     []string          `yaml:"command"`
			Ports       []string          `yaml:"ports"`
			Volumes     []string          `yaml:"volumes"`
			Healthcheck map[string]any    `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	var hosts []string
	for name, s := range compose.Services {
		if s.Environment["HOST_NAME"] == "" {
			continue
		}
		_, port, _ := strings.Cut(s.Environment["LISTEN_ADDR"], ":")
		hosts = append(hosts, name+":"+port)
		if s.Environment["REDIS_URL"] != "redis://redis:6379" {
			t.Errorf("%s: REDIS_URL %q", name, s.Environment["REDIS_URL"])
		}
		if s.Healthcheck == nil {
			t.Errorf("%s has no healthcheck (nginx waits for healthy hosts)", name)
		}
		if s.Build["dockerfile"] != "examples/multi-host/Dockerfile" {
			t.Errorf("%s: build %v", name, s.Build)
		}
	}
	slices.Sort(hosts)
	if len(hosts) != 3 {
		t.Fatalf("host services %v, want 3", hosts)
	}
	if _, ok := compose.Services["redis"]; !ok {
		t.Error("no redis service")
	}
	nginx := compose.Services["nginx"]
	if !slices.Contains(nginx.Volumes, "./examples/multi-host/nginx.conf:/etc/nginx/nginx.conf:ro") {
		t.Errorf("nginx volumes %v do not mount examples/multi-host/nginx.conf", nginx.Volumes)
	}
	if !slices.Contains(nginx.Ports, "8080:8080") {
		t.Errorf("nginx ports %v", nginx.Ports)
	}
	if cron := compose.Services["cron"]; !slices.Equal(cron.Entrypoint, []string{"/usr/local/bin/cron"}) || cron.Environment["REDIS_URL"] == "" {
		t.Errorf("cron service %+v", cron)
	}

	conf, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	var upstreams []string
	for _, m := range regexp.MustCompile(`(?m)^\s*server\s+([\w.-]+:\d+)`).FindAllStringSubmatch(string(conf), -1) {
		upstreams = append(upstreams, m[1])
	}
	slices.Sort(upstreams)
	if !slices.Equal(upstreams, hosts) {
		t.Errorf("nginx.conf upstreams %v, compose hosts %v", upstreams, hosts)
	}
	if !regexp.MustCompile(`(?m)^\s*listen 8080;`).Match(conf) {
		t.Error("nginx.conf does not listen on 8080")
	}

	dockerfile, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	builds := regexp.MustCompile(`go build [^\n]*? (\./\S+)`).FindAllStringSubmatch(string(dockerfile), -1)
	if len(builds) != 2 {
		t.Errorf("the Dockerfile has %d go build commands, want 2 (host and cron)", len(builds))
	}
	for _, m := range builds {
		// The Dockerfile builds from the demo module's directory (this one).
		if _, err := os.Stat(filepath.Join(m[1], "main.go")); err != nil {
			t.Errorf("the Dockerfile builds %s: %v", m[1], err)
		}
	}
}
