package box

import (
	"context"
	"net"
	"net/netip"
	"path/filepath"

	"github.com/mitstem/stembox/internal/discovery"
	"github.com/mitstem/stembox/internal/peer"
	"github.com/mitstem/stembox/internal/server"
)

// Folders of pack sharing inside the data directory; both hold only what
// can be made again, so backups may skip them.
func archivesDir(data string) string { return filepath.Join(data, "cache", "pack-archives") }

// DownloadsDir is where packs copied from other boxes are downloaded
// (and resumed from) before they are installed.
func DownloadsDir(data string) string { return filepath.Join(data, "cache", "downloads") }

// openLAN sets up discovery on the LAN (advertising, browsing, the URLs to
// print) and pack sharing with other boxes, adds their background work, and
// returns them for the web server. The box must be listening.
func (b *Box) openLAN(ctx context.Context) (server.LAN, error) {
	id, err := b.db.BoxID(ctx)
	if err != nil {
		return server.LAN{}, err
	}
	version := b.cfg.Version
	if version == "" {
		version = "dev"
	}
	var listen discovery.Listen
	if a, ok := b.ln.Addr().(*net.TCPAddr); ok {
		ap := a.AddrPort()
		listen = discovery.Listen{IP: ap.Addr().Unmap(), Port: int(ap.Port())}
		if ap.Addr() == netip.IPv6Unspecified() {
			listen.IP = netip.Addr{}
		}
	}
	disc := discovery.New(discovery.Config{
		Name:       b.cfg.MDNSName,
		Host:       b.cfg.MDNSHost,
		Interfaces: b.cfg.MDNSInterfaces,
		Listen:     listen,
		Info:       discovery.Info{ID: id, Version: version, Path: "/"},
		MDNS:       b.cfg.MDNS,
		Console:    b.cfg.Console,
	}, b.log)
	client := peer.NewClient("stembox/" + version)
	jobs := peer.NewJobs(client, b.lib, DownloadsDir(b.cfg.DataDir), b.log)
	b.tasks = append(b.tasks, disc.Run, jobs.Run)
	return server.LAN{
		Reach:    disc.Reach,
		Peers:    disc.Peers,
		Archives: peer.NewArchives(archivesDir(b.cfg.DataDir), b.lib),
		Jobs:     jobs,
		Client:   client,
	}, nil
}
