package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/mitstem/stembox/internal/box"
	"github.com/mitstem/stembox/internal/content"
)

const packUsage = `Usage:
  stembox pack keygen --out FILE              make a signing key (FILE) and its public key (FILE.pub)
  stembox pack build --key FILE [--out DIR] SOURCE…
                                              build and sign packs from their source folders
  stembox pack sign --key FILE [--out DIR] PACK…
                                              sign built packs anew (after a review, say)
  stembox pack verify --trust FILE.pub… PACK… check signatures, every file's hash and that a box can load the pack
  stembox pack inspect PACK…                  show what a pack holds
  stembox pack install [--data-dir DIR] [--trust FILE.pub…] [--rollback] PACK…
                                              install packs on this box (a running box picks them up);
                                              --trust makes the box trust that key from now on;
                                              an older version, or another build of the version
                                              installed, is refused unless --rollback is given
`

var packCommands = commands{
	"keygen":  packKeygen,
	"build":   packBuild,
	"sign":    packSign,
	"verify":  packVerify,
	"inspect": packInspect,
	"install": packInstall,
}

func packKeygen(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newCommand("stembox pack keygen", "--out FILE", stderr)
	out := fs.String("out", "", "private key file to write")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"pack keygen: --out is required"}
	}
	s, err := content.GenerateKey()
	if err != nil {
		return err
	}
	if err := s.WriteKeyFiles(*out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s (keep it secret) and %s\nkey id %s\n", *out, *out+".pub", s.Public().ID)
	return nil
}

func packBuild(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newCommand("stembox pack build", "--key FILE [--out DIR] SOURCE…", stderr)
	key := fs.String("pack-key", "", "signing key file")
	fs.StringVar(key, "key", "", "signing key file (or STEMBOX_PACK_KEY)")
	out := fs.String("out", ".", "folder to write the .stempack files to")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	signer, err := loadSigner(*key, "build")
	if err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"pack build: name at least one source folder"}
	}
	builder, err := box.NewBuilder()
	if err != nil {
		return err
	}
	var failed int
	for _, src := range fs.Args() {
		built, err := builder.Build(src)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", src, err)
			failed++
			continue
		}
		path, err := built.WriteFile(*out, signer)
		if err != nil {
			return err
		}
		m := built.Manifest
		fmt.Fprintf(stdout, "%s: %d lessons, %d exercises in %s, %s\n", path, len(m.Lessons), countItems(&m), strings.Join(m.Languages, ", "), humanBytes(m.TotalSize()))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d packs did not build", failed, fs.NArg())
	}
	return nil
}

func packSign(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newCommand("stembox pack sign", "--key FILE [--out DIR] PACK…", stderr)
	key := fs.String("key", "", "signing key file")
	out := fs.String("out", ".", "folder to write the signed packs to")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	signer, err := loadSigner(*key, "sign")
	if err != nil {
		return err
	}
	for _, p := range fs.Args() {
		dst, err := signPack(p, signer, *out)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: signed by %s\n", dst, signer.Public().ID)
	}
	return nil
}

// signPack writes the pack at path, checked, signed by signer into the
// folder out.
func signPack(path string, signer *content.Signer, out string) (string, error) {
	a, f, err := openPack(path, nil)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var buf bytes.Buffer
	if err := content.Resign(&buf, a, signer); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	dst := filepath.Join(out, content.ArchiveName(a.Manifest.ID, a.Manifest.Version))
	return dst, os.WriteFile(dst, buf.Bytes(), 0o644)
}

func packVerify(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newCommand("stembox pack verify", "--trust FILE.pub… PACK…", stderr)
	trusted := trustFlag(fs, "public key file of a trusted signer (repeatable)")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	if len(*trusted) == 0 {
		return usageError{"pack verify: name the signer's public key with --trust"}
	}
	kr := content.NewKeyring()
	for _, f := range *trusted {
		if err := kr.LoadKeyFile(f); err != nil {
			return err
		}
	}
	bad := 0
	for _, p := range fs.Args() {
		a, f, err := openPack(p, kr)
		if err == nil {
			err = a.Check() // everything a box checks before serving it
			f.Close()
		}
		if err != nil {
			fmt.Fprintf(stdout, "%s: REFUSED: %v\n", p, err)
			bad++
			continue
		}
		fmt.Fprintf(stdout, "%s: ok, %s %s signed by %s, %d files verified\n", p, a.Manifest.ID, a.Manifest.Version, a.KeyID, len(a.Manifest.Files))
	}
	if bad > 0 {
		return fmt.Errorf("%d packs failed verification", bad)
	}
	return nil
}

func packInspect(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newCommand("stembox pack inspect", "PACK…", stderr)
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	for _, p := range fs.Args() {
		a, f, err := openPack(p, nil)
		if err != nil {
			return err
		}
		f.Close()
		printManifest(stdout, a)
	}
	return nil
}

func packInstall(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newCommand("stembox pack install", "[--data-dir DIR] [--trust FILE.pub…] [--rollback] PACK…", stderr)
	dataDir := dataDirFlag(fs)
	trusted := trustFlag(fs, "public key file of a signer this box is to trust from now on (copied into DATA/trusted-keys; repeatable)")
	var rollback bool
	fs.BoolVar(&rollback, "rollback", false, "install even an older version than the installed one, or another build of it")
	fs.BoolVar(&rollback, "allow-downgrade", false, "the old name of --rollback")
	if err := parseWithEnv(fs, args); err != nil {
		return err
	}
	lib, err := openTrusting(*dataDir, *trusted, stdout)
	if err != nil {
		return err
	}
	for _, p := range fs.Args() {
		res, err := lib.InstallFile(p, content.InstallOptions{Rollback: rollback})
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		printInstalled(stdout, res, "")
	}
	return nil
}

// printInstalled says what installing a pack did; from is the box it came
// from, if another.
func printInstalled(w io.Writer, res content.InstallResult, from string) {
	m := res.Pack.Manifest
	if from != "" {
		from = " from " + from
	}
	switch {
	case res.Unchanged:
		fmt.Fprintf(w, "%s %s is already installed\n", m.ID, m.Version)
	case res.Replaced != "":
		fmt.Fprintf(w, "installed %s %s%s (replacing %s)\n", m.ID, m.Version, from, res.Replaced)
	default:
		fmt.Fprintf(w, "installed %s %s%s\n", m.ID, m.Version, from)
	}
}

// openTrusting opens the pack library of a data directory as the box
// does, with the box's own trusted keys: the keys in trusted are added to
// them for good (DATA/trusted-keys), so that the running box serves what
// the command installs.
func openTrusting(dataDir string, trusted []string, stdout io.Writer) (*content.Library, error) {
	ids, err := box.TrustKeys(dataDir, trusted)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		fmt.Fprintf(stdout, "this box now trusts packs signed by key %s\n", id)
	}
	return box.OpenLibrary(dataDir, nil)
}

func loadSigner(path, cmd string) (*content.Signer, error) {
	if path == "" {
		return nil, usageError{fmt.Sprintf("pack %s: --key is required (make one with stembox pack keygen)", cmd)}
	}
	return content.LoadSigner(path)
}

// openPack opens an archive, verifying its signature against kr, or not
// checking the signer when kr is nil.
func openPack(path string, kr *content.Keyring) (*content.Archive, *os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	var a *content.Archive
	if kr == nil {
		a, err = content.InspectArchive(f, st.Size(), content.DefaultLimits)
	} else {
		a, err = content.OpenArchive(f, st.Size(), kr, content.DefaultLimits)
	}
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, f, nil
}

func printManifest(w io.Writer, a *content.Archive) {
	m := &a.Manifest
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "pack\t%s %s\n", m.ID, m.Version)
	fmt.Fprintf(tw, "title\t%s\n", m.Title.In("en", m.Languages[0]))
	fmt.Fprintf(tw, "subject\t%s, grades %v\n", m.Subject, m.Grades)
	fmt.Fprintf(tw, "languages\t%s (draft: %s)\n", strings.Join(m.Languages, ", "), strings.Join(m.DraftLanguages, ", "))
	fmt.Fprintf(tw, "signature\t%s", strings.TrimSpace(strings.SplitN(string(a.Signature), ":", 3)[0]))
	if parts := strings.SplitN(string(a.Signature), ":", 3); len(parts) == 3 {
		fmt.Fprintf(tw, " by key %s", parts[1])
	}
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "files\t%d, %s\n", len(m.Files), humanBytes(m.TotalSize()))
	for i, l := range m.Lessons {
		fmt.Fprintf(tw, "lesson %d\t%s: %s", i+1, l.ID, l.Title.In("en", m.Languages[0]))
		if l.Exercises != "" {
			fmt.Fprintf(tw, " [exercises: %s]", l.Exercises)
		}
		fmt.Fprintln(tw)
	}
	for _, s := range m.Sets {
		fmt.Fprintf(tw, "set\t%s: %d items (%s)\n", s.ID, s.Items, strings.Join(s.Languages, ", "))
	}
	for _, ap := range m.Apps {
		var size int64
		for _, f := range m.Files {
			if ap.Owns(f.Path) {
				size += f.Size
			}
		}
		fmt.Fprintf(tw, "app\t%s: %s (%s, %s)\n", ap.ID, ap.Title.In("en", m.Languages[0]), ap.Entry, humanBytes(size))
	}
	tw.Flush()
}

func countItems(m *content.Manifest) int {
	n := 0
	for _, s := range m.Sets {
		n += s.Items
	}
	return n
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
