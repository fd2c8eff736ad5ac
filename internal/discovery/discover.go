package discovery

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Discover browses for boxes on the chosen interfaces (none: every up,
// multicast, non-loopback one) until ctx ends or timeout passes, and
// returns those found, by name. Trouble with single packets is logged to
// logger; only a failure to browse at all is an error.
func Discover(ctx context.Context, timeout time.Duration, interfaces []string, logger *slog.Logger) ([]Box, error) {
	all, err := readInterfaces()
	if err != nil {
		return nil, err
	}
	ifs := selectInterfaces(all, interfaces)
	if len(ifs) == 0 {
		return nil, errors.New("discovery: no network interface to browse on (is the computer on a network?)")
	}
	once := newOnceLog(logger)
	eng, err := startEngine(ifs, false, once)
	if err != nil {
		return nil, err
	}
	defer eng.stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	<-ctx.Done()
	return eng.br.boxes(func(instance string, err error) {
		once.warn("bad-txt "+instance, "ignoring a box whose TXT record is not a stembox's", "box_name", instance, "reason", err.Error())
	}), nil
}
