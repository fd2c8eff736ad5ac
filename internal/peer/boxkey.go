package peer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/mitstem/stembox/internal/content"
	"github.com/mitstem/stembox/internal/failure"
)

// PathBoxKey is where a box shows its own key (docs/discovery.md).
const PathBoxKey = "/api/v1/box-key"

// BoxKeyInfo is a box's own key as it shows it: its teachers' packs are
// signed with it, under ids in its namespace.
type BoxKeyInfo struct {
	BoxID       string `json:"box_id"`
	Name        string `json:"name"`
	Key         string `json:"key"`         // the public key line, ed25519:KEYID:BASE64
	Namespace   string `json:"namespace"`   // content.Namespace of the key
	Fingerprint string `json:"fingerprint"` // content.Fingerprint of the key
}

// NewBoxKeyInfo describes a box's own key.
func NewBoxKeyInfo(boxID, name string, k content.PublicKey) BoxKeyInfo {
	return BoxKeyInfo{BoxID: boxID, Name: name, Key: k.String(), Namespace: content.Namespace(k.ID), Fingerprint: content.Fingerprint(k)}
}

// BoxKey asks the box at base for its own key. The key is read from its
// key line (whose id is the key's hash); the namespace and fingerprint
// the peer states must be those of that key, or the answer is refused.
// Nothing here makes it trusted: an administrator compares the
// fingerprint with the one the other box shows, and accepts it.
func (c *Client) BoxKey(ctx context.Context, base string) (content.BoxKey, error) {
	base, err := BaseURL(base)
	if err != nil {
		return content.BoxKey{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.stall())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", base+PathBoxKey, nil)
	if err != nil {
		return content.BoxKey{}, err
	}
	c.header(req)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return content.BoxKey{}, fmt.Errorf("peer: %s: %w", base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return content.BoxKey{}, failure.Errorf(failure.NotFound, "peer: %s shows no box key (an older stembox?)", base)
	}
	if resp.StatusCode != http.StatusOK {
		return content.BoxKey{}, fmt.Errorf("peer: %s: its box key: %s", base, resp.Status)
	}
	var info BoxKeyInfo
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<10)).Decode(&info); err != nil {
		return content.BoxKey{}, fmt.Errorf("peer: %s: not a box key: %w", base, err)
	}
	k, err := content.ParsePublicKey(info.Key)
	if err != nil {
		return content.BoxKey{}, failure.Errorf(failure.Invalid, "peer: %s: its box key: %v", base, err)
	}
	if info.Namespace != content.Namespace(k.ID) || info.Fingerprint != content.Fingerprint(k) {
		return content.BoxKey{}, failure.Errorf(failure.Invalid, "peer: %s states a namespace or fingerprint that is not its key's; refused", base)
	}
	return content.BoxKey{Key: k, BoxID: info.BoxID, Name: info.Name}, nil
}
