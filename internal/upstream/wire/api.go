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
)

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
	AckedSeq   int64 `json:"acked_seq"`  // highest seq the hub holds contiguously for the box
	Stored     int   `json:"stored"`     // events of this batch that were new
	Duplicates int   `json:"duplicates"` // events the hub already had
}

// ErrorBody is every error's body.
type ErrorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
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
}

// PackProblem is a pack the box did not install, or does not serve, and why.
type PackProblem struct {
	Pack    string `json:"pack"`
	Version string `json:"version,omitempty"` // the version refused, when known
	Error   string `json:"error"`
}
