package main

import (
	"debug/elf"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDebVersion(t *testing.T) {
	for in, want := range map[string]string{
		"v1.2.3":                "1.2.3",
		"1.2.3-4-gabc1234":      "1.2.3+4+gabc1234",
		"v0.9.0-12-g1a2b-dirty": "0.9.0+12+g1a2b+dirty",
		"abc1234":               "0.0.0~abc1234",
		"dev":                   "0.0.0~dev",
		"":                      "0.0.0",
	} {
		if got := debVersion(in); got != want {
			t.Errorf("debVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func needDpkgDeb(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("SKIPPED: dpkg-deb is not installed")
	}
}

func dpkgDeb(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("dpkg-deb", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// The package holds the binary, a hardened unit, the settings as a
// conffile, the sample packs and the maintainer scripts, with the right
// modes and owners, and depends on the glibc the binary needs.
func TestPackageContents(t *testing.T) {
	needDpkgDeb(t)
	dir := t.TempDir()
	dist := filepath.Join(dir, "dist")
	os.MkdirAll(dist, 0o755)
	// Any dynamically linked program stands in for stembox here.
	b, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Skip("SKIPPED: no /bin/true to stand in for the binary")
	}
	os.WriteFile(filepath.Join(dist, "stembox-linux-amd64"), b, 0o755)
	deb, err := build(options{version: "v1.4.0-2-gdeadbee", dist: dist, packs: "../../content-packs", license: "../../LICENSE", out: dist, maintainer: "test <t@example.invalid>"},
		filepath.Join(dist, "stembox-linux-amd64"), "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(deb) != "stembox_1.4.0+2+gdeadbee_amd64.deb" {
		t.Errorf("package name %s", filepath.Base(deb))
	}

	info := dpkgDeb(t, "-I", deb)
	for _, want := range []string{"Package: stembox", "Version: 1.4.0+2+gdeadbee", "Architecture: amd64", "Section: education"} {
		if !strings.Contains(info, want) {
			t.Errorf("control lacks %q:\n%s", want, info)
		}
	}
	if !regexp.MustCompile(`Depends: libc6 \(>= 2\.\d+\)`).MatchString(info) {
		t.Errorf("control does not depend on a glibc version:\n%s", info)
	}

	contents := dpkgDeb(t, "-c", deb)
	for _, want := range []string{
		"-rwxr-xr-x root/root .* ./usr/bin/stembox\n",
		"-rw-r--r-- root/root .* ./lib/systemd/system/stembox.service\n",
		"-rw-r--r-- root/root .* ./etc/default/stembox\n",
		"-rw-r--r-- root/root .* ./usr/share/doc/stembox/copyright\n",
		"-rw-r--r-- root/root .* ./usr/share/stembox/content-packs/physics-forces-motion/pack.yaml\n",
		"-rw-r--r-- root/root .* ./usr/share/stembox/content-packs/climate-energy-change/lessons/sun-energy.tg.md\n",
		"drwxr-xr-x root/root .* ./\n",
	} {
		if !regexp.MustCompile(want).MatchString(contents) {
			t.Errorf("contents lack %q:\n%s", want, contents)
		}
	}

	ctrl := filepath.Join(dir, "control")
	dpkgDeb(t, "-e", deb, ctrl)
	if b, _ := os.ReadFile(filepath.Join(ctrl, "conffiles")); string(b) != "/etc/default/stembox\n" {
		t.Errorf("conffiles = %q", b)
	}
	for _, script := range []string{"postinst", "prerm", "postrm"} {
		st, err := os.Stat(filepath.Join(ctrl, script))
		if err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v, mode %v; want an executable script", script, err, st)
			continue
		}
		if out, err := exec.Command("sh", "-n", filepath.Join(ctrl, script)).CombinedOutput(); err != nil {
			t.Errorf("%s does not parse: %s", script, out)
		}
	}
	postinst, _ := os.ReadFile(filepath.Join(ctrl, "postinst"))
	for _, want := range []string{"useradd --system", "enable stembox.service", "systemctl restart stembox.service"} {
		if !strings.Contains(string(postinst), want) {
			t.Errorf("postinst lacks %q", want)
		}
	}

	root := filepath.Join(dir, "root")
	dpkgDeb(t, "-x", deb, root)
	unit, err := os.ReadFile(filepath.Join(root, "lib/systemd/system/stembox.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Type=notify", "User=stembox", "StateDirectory=stembox", "ProtectSystem=strict", "ProtectHome=yes",
		"NoNewPrivileges=yes", "PrivateTmp=yes", "Restart=on-failure", "WatchdogSec=", "ExecStart=/usr/bin/stembox serve",
		"STEMBOX_DEV_PACKS=/usr/share/stembox/content-packs", "STEMBOX_DATA_DIR=/var/lib/stembox", "EnvironmentFile=-/etc/default/stembox",
	} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	checkUnit(t, root, string(unit))
}

// checkUnit has systemd check the unit, when systemd-analyze is here: no
// unknown or malformed settings, and a low exposure score.
func checkUnit(t *testing.T, root, unit string) {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Log("systemd-analyze is not installed: the unit is not verified by systemd")
		return
	}
	// verify wants ExecStart's binary to exist: point it at the extracted one.
	dir := t.TempDir()
	path := filepath.Join(dir, "stembox.service")
	os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/bin/stembox", filepath.Join(root, "usr/bin/stembox"))), 0o644)
	out, _ := exec.Command("systemd-analyze", "verify", path).CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		// Without a running systemd, verify cannot load the targets the unit
		// is ordered after; everything else it says is a fault of the unit.
		if line == "" || strings.Contains(line, ".target") {
			continue
		}
		t.Errorf("systemd-analyze verify: %s", line)
	}
	out, err := exec.Command("systemd-analyze", "security", "--offline=true", path).CombinedOutput()
	if err != nil {
		t.Logf("systemd-analyze security: %v (an old systemd?)", err)
		return
	}
	m := regexp.MustCompile(`Overall exposure level for stembox.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security said:\n%s", out)
	}
	if score, _ := strconv.ParseFloat(string(m[1]), 64); score > 3 {
		t.Errorf("the unit's exposure score is %.1f, want at most 3 (hardened)", score)
	} else {
		t.Logf("systemd-analyze security: exposure %.1f", score)
	}
}

// The packages `make release` wrote: one per architecture, each with a
// binary for that architecture; the amd64 one, unpacked, starts as the unit
// starts it and serves the sample packs it installs.
func TestReleasePackages(t *testing.T) {
	needDpkgDeb(t)
	debs, _ := filepath.Glob("../../dist/stembox_*.deb")
	if len(debs) == 0 {
		t.Skip("SKIPPED: no packages in dist/ (make release builds them)")
	}
	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "armhf": elf.EM_ARM}
	var amd64 string
	for _, deb := range debs {
		arch := strings.TrimSpace(dpkgDeb(t, "-f", deb, "Architecture"))
		root := t.TempDir()
		dpkgDeb(t, "-x", deb, root)
		f, err := elf.Open(filepath.Join(root, "usr/bin/stembox"))
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(deb), err)
		}
		if f.Machine != machines[arch] {
			t.Errorf("%s: the binary is for %v, want %v", filepath.Base(deb), f.Machine, machines[arch])
		}
		f.Close()
		if arch == "amd64" {
			amd64 = root
		}
	}
	if amd64 == "" {
		t.Skip("SKIPPED: no amd64 package to run")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(filepath.Join(amd64, "usr/bin/stembox"), "serve")
	cmd.Env = append(os.Environ(), "STEMBOX_ADDR="+addr, "STEMBOX_DATA_DIR="+t.TempDir(), "STEMBOX_LANG=en",
		"STEMBOX_DEV_PACKS="+filepath.Join(amd64, "usr/share/stembox/content-packs"))
	logPath := filepath.Join(t.TempDir(), "stembox.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	base := "http://" + addr
	deadline := time.Now().Add(3 * time.Minute)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("the packaged stembox did not get ready; its log:\n%s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	resp, err := http.Get(base + "/packs/physics-forces-motion/lessons/speed")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<html") {
		t.Errorf("lesson from the packaged stembox: %d\n%.500s", resp.StatusCode, body)
	}
}
