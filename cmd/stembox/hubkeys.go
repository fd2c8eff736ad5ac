package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
	"github.com/mitstem/stembox/internal/hub"
)

const hubKeysUsage = `stembox hub keys — the key list boxes learn pack signers from

  stembox hub keys list
      The list: its serial, the keys it trusts, the keys it revoked.
  stembox hub keys add --root-key ROOT.key [--note TEXT] KEY.pub …
      Trust KEY on every box (at its next sync, or by USB stick).
  stembox hub keys revoke --root-key ROOT.key [--reason TEXT] KEYID|KEY.pub …
      Boxes stop serving packs signed only by KEY and never install them.

ROOT.key is the programme's root signing key (stembox pack keygen): boxes
take a key list only if a key they trust on their own signed it. The hub
never keeps it; each change signs the list anew, with the next serial.
`

var hubKeysCommands = commands{"list": hubKeysList, "add": hubKeysAdd, "revoke": hubKeysRevoke}

func hubKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return hubKeysCommands.run(ctx, "hub keys", hubKeysUsage, args, stdout, stderr)
}

func hubKeysList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, target := newHubCommand("keys list", "", stderr)
	if err := parseHubFlags(fs, args); err != nil {
		return err
	}
	return target.do(ctx, func(st *hub.Store) error {
		raw, err := st.KeyList(ctx)
		if err != nil {
			return err
		}
		s, err := content.ParseKeyList(raw)
		if err != nil {
			return err
		}
		printKeyList(stdout, s)
		return nil
	})
}

func hubKeysAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, target := newHubCommand("keys add", "--root-key ROOT.key [--note TEXT] KEY.pub …", stderr)
	root := fs.String("root-key", "", "the programme's root signing key, which signs the list")
	note := fs.String("note", "", "who the key belongs to, for the list's readers")
	if err := parseHubFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"keys add: give one or more public key files (.pub)"}
	}
	signer, err := loadSigner(*root, "keys add")
	if err != nil {
		return err
	}
	var keys []content.PublicKey
	for _, f := range fs.Args() {
		kr := content.NewKeyring()
		if err := kr.LoadKeyFile(f); err != nil {
			return err
		}
		for _, id := range kr.IDs() {
			k, _ := kr.Key(id)
			keys = append(keys, k)
		}
	}
	return target.do(ctx, func(st *hub.Store) error {
		for _, k := range keys {
			s, err := st.UpdateKeyList(ctx, signer, hub.AddListedKey(k, *note, time.Now()))
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "key list %d: boxes trust key %s\n", s.List.Serial, k.ID)
		}
		return nil
	})
}

func hubKeysRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, target := newHubCommand("keys revoke", "--root-key ROOT.key [--reason TEXT] KEYID|KEY.pub …", stderr)
	root := fs.String("root-key", "", "the programme's root signing key, which signs the list")
	reason := fs.String("reason", "", "why, shown on the boxes")
	if err := parseHubFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"keys revoke: give one or more key ids or public key files"}
	}
	signer, err := loadSigner(*root, "keys revoke")
	if err != nil {
		return err
	}
	var ids []string
	for _, a := range fs.Args() {
		id, err := keyIDArg(a)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	return target.do(ctx, func(st *hub.Store) error {
		for _, id := range ids {
			s, err := st.UpdateKeyList(ctx, signer, hub.RevokeListedKey(id, content.RevokedKey{Reason: *reason, Revoked: time.Now().UTC().Truncate(time.Second)}))
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "key list %d: key %s is revoked; boxes stop serving packs signed only by it\n", s.List.Serial, id)
		}
		return nil
	})
}

// keyIDArg reads a key id, or the id of the key in a .pub file.
func keyIDArg(a string) (string, error) {
	if _, err := os.Stat(a); err == nil {
		kr := content.NewKeyring()
		if err := kr.LoadKeyFile(a); err != nil {
			return "", err
		}
		if ids := kr.IDs(); len(ids) == 1 {
			return ids[0], nil
		}
		return "", failure.Errorf(failure.Invalid, "%s: holds more than one key; give their ids", a)
	}
	id := strings.ToLower(strings.TrimSpace(a))
	if len(id) != 16 || strings.Trim(id, "0123456789abcdef") != "" {
		return "", usageError{fmt.Sprintf("keys revoke: %q is neither a key id (16 hex digits) nor a .pub file", a)}
	}
	return id, nil
}

func printKeyList(w io.Writer, s *content.SignedKeyList) {
	kl := s.List
	fmt.Fprintf(w, "key list %d, issued %s, signed by key %s\n", kl.Serial, kl.Issued.UTC().Format(time.RFC3339), s.SignerID)
	for _, lk := range kl.Keys {
		id := lk.Key
		if k, err := content.ParsePublicKey(lk.Key); err == nil {
			id = k.ID
		}
		fmt.Fprintf(w, "trusted\t%s\tadded %s\t%s\n", id, lk.Added.UTC().Format("2006-01-02"), lk.Note)
	}
	for _, r := range kl.Revoked {
		fmt.Fprintf(w, "revoked\t%s\t%s\t%s\n", r.ID, r.Revoked.UTC().Format("2006-01-02"), r.Reason)
	}
}
