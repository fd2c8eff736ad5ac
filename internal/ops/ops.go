// Package ops helps a box look after itself where nobody administers it:
// probes of the disk and memory, the last warnings and errors kept for the
// status page (with personal data kept out of logs), an estimate of how many
// devices are connected, and systemd's readiness and watchdog notifications.
package ops
