// Command stembox-deb writes a Debian package of stembox for each binary in
// dist/ (stembox-linux-amd64, -arm64, -armv7), with dpkg-deb:
//
//	/usr/bin/stembox
//	/lib/systemd/system/stembox.service    hardened; own user; state in /var/lib/stembox
//	/etc/default/stembox                   settings (a conffile)
//	/usr/share/stembox/content-packs/      the sample packs, as source
//	/usr/share/doc/stembox/copyright
//
// The sample packs ship as source and are built at the first start, signed
// with a key the box makes for itself (trusted by that box only), as
// `stembox serve --dev-packs` does anywhere. Shipping them prebuilt would
// need a signing key that every box trusts, and that key would have to stay
// secret; the publishers of real packs (a ministry, a project office) have
// theirs, and a production box trusts only those.
//
// `make release` runs it after the cross builds.
package main

import (
	"bytes"
	"debug/elf"
	"embed"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

//go:embed package
var packageFiles embed.FS

// archs maps the release binaries' suffixes to Debian architectures.
var archs = []struct{ binary, deb string }{
	{"amd64", "amd64"},
	{"arm64", "arm64"},
	{"armv7", "armhf"},
}

type options struct {
	version    string
	dist       string
	packs      string
	license    string
	out        string
	maintainer string
}

func main() {
	var o options
	flag.StringVar(&o.version, "version", "dev", "the version (as git describe prints it; made a Debian version)")
	flag.StringVar(&o.dist, "dist", "dist", "where the release binaries are")
	flag.StringVar(&o.packs, "packs", "content-packs", "the sample pack sources to install")
	flag.StringVar(&o.license, "license", "LICENSE", "the licence, installed as the copyright file")
	flag.StringVar(&o.out, "out", "", "where to write the packages (default: --dist)")
	flag.StringVar(&o.maintainer, "maintainer", "stembox maintainers <stembox@mitstem.invalid>", "the Maintainer field")
	flag.Parse()
	if o.out == "" {
		o.out = o.dist
	}
	n := 0
	for _, a := range archs {
		bin := filepath.Join(o.dist, "stembox-linux-"+a.binary)
		if _, err := os.Stat(bin); err != nil {
			continue
		}
		path, err := build(o, bin, a.deb)
		if err != nil {
			fmt.Fprintln(os.Stderr, "stembox-deb:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", path)
		n++
	}
	if n == 0 {
		fmt.Fprintf(os.Stderr, "stembox-deb: no stembox-linux-* binaries in %s (make release builds them)\n", o.dist)
		os.Exit(1)
	}
}

// debVersion makes a Debian version of a git describe output: digits first,
// no hyphens (the package has no Debian revision).
func debVersion(v string) string {
	v = strings.TrimPrefix(v, "v")
	var b strings.Builder
	for _, c := range v {
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '.', c == '+', c == '~':
			b.WriteRune(c)
		default:
			b.WriteByte('+')
		}
	}
	out := b.String()
	if out == "" || out[0] < '0' || out[0] > '9' {
		out = "0.0.0~" + out
	}
	return strings.TrimRight(out, "+~")
}

// glibcVersion returns the newest GLIBC_x.y symbol version the binary
// needs, for its Depends on libc6.
func glibcVersion(bin string) (string, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return "", err
	}
	defer f.Close()
	syms, err := f.ImportedSymbols()
	if err != nil {
		return "", fmt.Errorf("%s: %w", bin, err)
	}
	best := []int{0}
	bestText := ""
	for _, s := range syms {
		v, ok := strings.CutPrefix(s.Version, "GLIBC_")
		if !ok {
			continue
		}
		var parts []int
		for _, p := range strings.Split(v, ".") {
			n, err := strconv.Atoi(p)
			if err != nil {
				parts = nil
				break
			}
			parts = append(parts, n)
		}
		if parts != nil && newer(parts, best) {
			best, bestText = parts, v
		}
	}
	return bestText, nil
}

func newer(a, b []int) bool {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return x > y
		}
	}
	return false
}

// build writes the package of one binary and returns its path.
func build(o options, bin, arch string) (string, error) {
	root, err := os.MkdirTemp("", "stembox-deb-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(root)
	if err := os.Chmod(root, 0o755); err != nil { // the package's "./"
		return "", err
	}
	version := debVersion(o.version)

	copyFile := func(src, dst string, mode os.FileMode) error {
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		return write(filepath.Join(root, dst), b, mode)
	}
	embedded := func(name, dst string, mode os.FileMode) error {
		b, err := packageFiles.ReadFile("package/" + name)
		if err != nil {
			return err
		}
		return write(filepath.Join(root, dst), b, mode)
	}
	steps := []error{
		copyFile(bin, "usr/bin/stembox", 0o755),
		embedded("stembox.service", "lib/systemd/system/stembox.service", 0o644),
		embedded("default", "etc/default/stembox", 0o644),
		embedded("postinst", "DEBIAN/postinst", 0o755),
		embedded("prerm", "DEBIAN/prerm", 0o755),
		embedded("postrm", "DEBIAN/postrm", 0o755),
		write(filepath.Join(root, "DEBIAN/conffiles"), []byte("/etc/default/stembox\n"), 0o644),
		copyFile(o.license, "usr/share/doc/stembox/copyright", 0o644),
		copyTree(o.packs, filepath.Join(root, "usr/share/stembox/content-packs")),
	}
	for _, err := range steps {
		if err != nil {
			return "", err
		}
	}

	depends := "libc6"
	if v, err := glibcVersion(bin); err != nil {
		return "", err
	} else if v != "" {
		depends = "libc6 (>= " + v + ")"
	}
	size, err := installedSize(root)
	if err != nil {
		return "", err
	}
	tmpl, err := template.ParseFS(packageFiles, "package/control")
	if err != nil {
		return "", err
	}
	var control bytes.Buffer
	if err := tmpl.Execute(&control, map[string]any{
		"Version": version, "Arch": arch, "Maintainer": o.maintainer, "InstalledSize": size, "Depends": depends,
	}); err != nil {
		return "", err
	}
	if err := write(filepath.Join(root, "DEBIAN/control"), control.Bytes(), 0o644); err != nil {
		return "", err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(o.out, fmt.Sprintf("stembox_%s_%s.deb", version, arch))
	cmd := exec.Command("dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("dpkg-deb: %v: %s", err, b)
	}
	return out, nil
}

func write(path string, b []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, b, mode); err != nil {
		return err
	}
	return os.Chmod(path, mode) // whatever the umask
}

// skipFile says which files of a pack source do not belong in the package:
// hidden files and editors' backups.
var skipFile = regexp.MustCompile(`(^\.|~$|\.swp$|\.orig$)`)

func copyTree(src, dst string) error {
	var files []string
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skipFile.MatchString(d.Name()) && path != src {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no pack sources in %s", src)
	}
	sort.Strings(files)
	for _, f := range files {
		rel, _ := filepath.Rel(src, f)
		in, err := os.Open(f)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		_, err = io.Copy(&b, in)
		in.Close()
		if err != nil {
			return err
		}
		if err := write(filepath.Join(dst, rel), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// installedSize is the size of the tree in KiB, as Installed-Size wants.
func installedSize(root string) (int64, error) {
	var total int64
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(path, filepath.Join(root, "DEBIAN")) {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += (info.Size() + 1023) / 1024
		return nil
	})
	return total, err
}
