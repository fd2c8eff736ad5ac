package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mitstem/stembox/internal/box"
)

// The ARM builds run: each binary of `make release` for a Raspberry Pi
// starts under qemu-user, serves a lesson of the sample packs and stores an
// answer (cgo SQLite, cross-compiled). Without dist/stembox-linux-arm64 the
// test builds it, when the cross compiler is here (the first build compiles
// SQLite for arm64: minutes). It is skipped, saying so, without qemu-user.
func TestARMBuildsUnderQEMU(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED in -short: runs the ARM builds under emulation")
	}
	for _, arch := range []struct {
		name, qemu, sysroot, dist, goarch, goarm, cc string
	}{
		{"arm64", "qemu-aarch64", "/usr/aarch64-linux-gnu", "../../dist/stembox-linux-arm64", "arm64", "", "aarch64-linux-gnu-gcc"},
		{"armv7", "qemu-arm", "/usr/arm-linux-gnueabihf", "../../dist/stembox-linux-armv7", "arm", "7", ""},
	} {
		t.Run(arch.name, func(t *testing.T) {
			qemu, err := exec.LookPath(arch.qemu)
			if err != nil {
				t.Skipf("SKIPPED: %s is not installed (apt-get install qemu-user; make release installs it)", arch.qemu)
			}
			if _, err := os.Stat(arch.sysroot); err != nil {
				t.Skipf("SKIPPED: no %s libraries in %s (apt-get install the cross compiler)", arch.name, arch.sysroot)
			}
			bin := arch.dist
			if _, err := os.Stat(bin); err != nil {
				if arch.cc == "" {
					t.Skipf("SKIPPED: no %s (make release builds it)", bin)
				}
				if _, err := exec.LookPath(arch.cc); err != nil {
					t.Skipf("SKIPPED: no %s and no %s to build it (make release installs it)", bin, arch.cc)
				}
				bin = filepath.Join(t.TempDir(), "stembox-"+arch.name)
				build := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.version=qemu-test", "-o", bin, ".")
				build.Env = append(os.Environ(), "CGO_ENABLED=1", "GOOS=linux", "GOARCH="+arch.goarch, "GOARM="+arch.goarm, "CC="+arch.cc)
				if out, err := build.CombinedOutput(); err != nil {
					t.Fatalf("cross build: %v\n%s", err, out)
				}
			}
			runUnderQEMU(t, qemu, arch.sysroot, bin)
		})
	}
}

func runUnderQEMU(t *testing.T, qemu, sysroot, bin string) {
	out, err := exec.Command(qemu, "-L", sysroot, bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "stembox ") {
		t.Fatalf("%s version: %v: %s", bin, err, out)
	}

	// The packs are built here, natively (rendering formulas under
	// emulation would take minutes); the emulated box finds their sources
	// unchanged and serves them.
	data := t.TempDir()
	b, err := box.Open(context.Background(), box.Config{Addr: "127.0.0.1:0", DataDir: data, DevPacks: "../../content-packs"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	b.Close()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	logPath := filepath.Join(t.TempDir(), "stembox.log")
	logFile, _ := os.Create(logPath)
	defer logFile.Close()
	cmd := exec.Command(qemu, "-L", sysroot, bin, "serve", "--addr", addr, "--data-dir", data,
		"--dev-packs", "../../content-packs", "--lang", "en", "--snapshot-every", "0")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	base := "http://" + addr
	start := time.Now()
	for {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Since(start) > 3*time.Minute {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("the emulated box was not ready within 3 minutes; its log:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%s under %s: ready in %s", filepath.Base(bin), filepath.Base(qemu), time.Since(start).Round(time.Millisecond))

	resp, err := http.Get(base + "/packs/physics-forces-motion/lessons/speed")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `<html lang="en"`) || !strings.Contains(string(body), "katex") {
		t.Errorf("lesson from the emulated box: %d\n%.500s", resp.StatusCode, body)
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/answers", strings.NewReader(`{"pack":"physics-forces-motion","set":"speed","item":"speed-1","choices":[0]}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"seq":1`) {
		t.Errorf("answer to the emulated box: %d %s", resp.StatusCode, body)
	}
}
