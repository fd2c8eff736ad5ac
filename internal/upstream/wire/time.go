package wire

// BootTime is a box's estimate of when one of its boots began in true
// time: an event of that boot happened at StartMS plus its MonoMS. Boxes
// send their estimates in bundles (BundleHeader.Boots) and with their
// status (ClockStatus.Boots); docs/sync-protocol.md ("Time") says how the
// hub weighs them against its own observations.
type BootTime struct {
	BootID  string `json:"boot_id"`
	StartMS int64  `json:"start_ms"` // unix ms
	Source  string `json:"source"`   // hub, devices, saved or box-clock
	ErrMS   int64  `json:"err_ms"`   // how far off StartMS may be, either way; -1 unknown (saved: a lower bound; box-clock: a guess)
}

// MaxBoots bounds the boots a bundle header or a status carries: a box
// that reboots twice a day and travels by stick once a year fits.
const MaxBoots = 1000

// ClockStatus is how a box keeps time, in its status.
type ClockStatus struct {
	Source  string     `json:"source"`          // where the box's current time comes from
	ErrMS   int64      `json:"err_ms"`          // its uncertainty; -1 unknown
	DriftMS int64      `json:"drift_ms"`        // the estimated true time minus the box's wall clock
	Boots   []BootTime `json:"boots,omitempty"` // the latest boots, newest last
}
