package wire

// The JSON bodies of the hub's API for boxes. Paths:
//
//	POST /api/v1/enroll          EnrollRequest → EnrollResponse (no credential needed: the token is one)
//	POST /api/v1/events          a batch (MediaType, gzip) → IngestResponse
//	GET  /api/v1/catalogue       → Catalogue
//	GET  /api/v1/packs/{id}/{version}/manifest, …/signature   the pack's manifest.json and manifest.sig
//	GET  /api/v1/files/{sha256}  a pack file by content (Range requests honoured)
//	POST /api/v1/status          BoxStatus → 204 (after each push; the last one wins)
//	GET  /api/v1/keys            the signed key list (text; ETag, If-None-Match → 304; 404 when none)
//	POST /api/v1/contributions   a pack the box's teachers made (.stempack; HeaderBoxKey) → ContributionResponse
//
// Every request but enroll carries "Authorization: Bearer CREDENTIAL".
// Errors are {"error": message, "code": kind} with an HTTP status.

// Paths of the API.
const (
	PathEnroll    = "/api/v1/enroll"
	PathEvents    = "/api/v1/events"
	PathCatalogue = "/api/v1/catalogue"
	PathFiles     = "/api/v1/files/"
	PathPacks     = "/api/v1/packs/"
	PathStatus    = "/api/v1/status"
	PathKeys      = "/api/v1/keys"

	PathContributions = "/api/v1/contributions"
)

// HeaderBoxKey carries the box's own public key line with a contribution:
// the hub binds it to the box the first time, and checks every
// contribution's signature and id against it.
const HeaderBoxKey = "X-Stembox-Box-Key"

// ContributionResponse acknowledges a contribution: the hub holds the
// archive with this SHA-256 (Known: it held it already).
type ContributionResponse struct {
	SHA256  string `json:"sha256"`
	ID      string `json:"id"`
	Version string `json:"version"`
	Known   bool   `json:"known"`
}

// EnrollRequest turns a one-time enrollment token into a credential.
type EnrollRequest struct {
	Token string `json:"token"`
	BoxID string `json:"box_id"`
	Name  string `json:"name,omitempty"` // how the box calls itself, for the operator
	// RetryKey is HMAC-SHA256(a secret the box keeps, the token), base64url:
	// with it, the box that spent a token may redeem it again when the
	// hub's answer was lost, and nobody else may.
	RetryKey string `json:"retry_key,omitempty"`
}

// EnrollResponse carries the box's credential, shown this once.
type EnrollResponse struct {
	Credential string `json:"credential"`
	BoxID      string `json:"box_id"`
	SchoolID   string `json:"school_id"`
	SchoolName string `json:"school_name"`
	Region     string `json:"region"`
	HubKey     string `json:"hub_key"` // the hub's Ed25519 public key, which signs acknowledgements
	HubURL     string `json:"hub_url,omitempty"`
}

// IngestResponse answers a batch.
type IngestResponse struct {
	// AckedSeq is the highest seq the hub holds contiguously from 1 along
	// the line of the batch's epoch (its parents' events up to its base,
	// then its own).
	AckedSeq   int64 `json:"acked_seq"`
	Stored     int   `json:"stored"`     // events of this batch that were new
	Duplicates int   `json:"duplicates"` // events the hub already had
	// AckedID is the id of the event the hub holds at AckedSeq on that
	// line ("" when AckedSeq is 0): a box that has another event there has
	// diverged from what the hub holds (it was restored from a backup).
	AckedID string `json:"acked_id,omitempty"`
	HubMS   int64  `json:"hub_ms,omitempty"` // the hub's time as it stored the batch, unix ms: the box sets its time by it
}

// ErrorBody is every error's body.
type ErrorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
	// DivergedAt, with code "conflict" for a batch, is the first seq of the
	// batch at which the hub holds another event in the batch's epoch: the
	// box goes on under a new epoch from the seq before it.
	DivergedAt int64 `json:"diverged_at,omitempty"`
	// Held, with code "conflict" for a batch, says that the hub holds an
	// event of the batch in another epoch already: a box that has that
	// event at that seq takes the epoch for its events from there on.
	Held *HeldEvent `json:"held,omitempty"`
}

// HeldEvent is where the hub holds an event: in Epoch (which follows Base
// of Parent's line) at Seq.
type HeldEvent struct {
	ID     string `json:"id"`
	Epoch  string `json:"epoch"`
	Base   int64  `json:"base"`
	Parent string `json:"parent"`
	Seq    int64  `json:"seq"`
}

// Catalogue lists the packs the hub distributes to a box.
type Catalogue struct {
	Packs []CataloguePack `json:"packs"`
}

// CataloguePack is one pack version in the catalogue.
type CataloguePack struct {
	ID             string `json:"id"`
	Version        string `json:"version"`
	Subject        string `json:"subject"`
	Title          string `json:"title"`
	ManifestSHA256 string `json:"manifest_sha256"`
	Size           int64  `json:"size"`     // bytes of all its files
	Required       bool   `json:"required"` // the box's school must have it
}

// MaxStatusBytes bounds a BoxStatus body; a box trims its lists to fit.
const MaxStatusBytes = 64 << 10

// BoxStatus is what a box tells the hub of itself after each push, for the
// operator's view of the fleet. The hub keeps the latest one per box.
type BoxStatus struct {
	Version   string            `json:"version"`              // the box's binary
	Packs     map[string]string `json:"packs"`                // installed packs: id → version served
	Problems  []PackProblem     `json:"problems,omitempty"`   // packs not installed or not served, and why
	Backlog   int64             `json:"backlog"`              // events not yet acknowledged by the hub
	LastError string            `json:"last_error,omitempty"` // the sync's error, if any (a pack that did not come)
	DiskFree  int64             `json:"disk_free"`            // bytes free for the box's data; -1 unknown
	Clock     *ClockStatus      `json:"clock,omitempty"`      // how the box keeps time: source, drift, its boots' estimates
	// Added later, all optional:
	DiskTotal int64             `json:"disk_total,omitempty"` // bytes of the file system holding the box's data; 0 unknown
	Subjects  map[string]string `json:"subjects,omitempty"`   // installed packs: id → subject, for reports of packs the hub never published
}

// PackProblem is a pack the box did not install, or does not serve, and why.
type PackProblem struct {
	Pack    string `json:"pack"`
	Version string `json:"version,omitempty"` // the version refused, when known
	Error   string `json:"error"`
}
