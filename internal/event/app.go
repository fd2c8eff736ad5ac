package event

import (
	"math"
	"time"
	"unicode/utf8"
)

// KindAppResult is the kind of a simulation's (an app's) result.
const KindAppResult = "app.result" // AppResult

// MaxAppSummary is the longest summary an app result may carry, in
// characters.
const MaxAppSummary = 200

// AppResult is an app.result payload: what an app of a pack (a simulation,
// a virtual lab) reported through the page's result API
// (docs/pack-format.md, "Apps"), the actor being the learner. The id is
// made by the page, so a result queued offline and sent twice counts once.
type AppResult struct {
	ID          string  `json:"-"` // the event's id, made by the client
	Learner     string  `json:"-"` // the event's actor
	Pack        string  `json:"pack"`
	PackVersion string  `json:"version"` // of the pack the app came from
	App         string  `json:"app"`     // the app's id in the pack
	Lang        string  `json:"lang,omitempty"`
	Completed   bool    `json:"completed"`
	Score       float64 `json:"score"` // 0 to Max
	Max         float64 `json:"max"`   // 0 when the app gives no score
	Summary     string  `json:"summary,omitempty"`
	// Age is how long before it reached the box the app reported it (a
	// result kept on the device while the box was away), as for Answer.
	Age time.Duration `json:"-"`
}

func (AppResult) EventKind() string { return KindAppResult }

func (a AppResult) validate() error {
	if err := required(KindAppResult, "pack", a.Pack, "app", a.App); err != nil {
		return err
	}
	switch {
	case math.IsNaN(a.Score) || math.IsNaN(a.Max) || math.IsInf(a.Score, 0) || math.IsInf(a.Max, 0):
		return invalid(KindAppResult, "score and max must be numbers")
	case a.Max < 0 || a.Score < 0 || a.Score > a.Max:
		return invalid(KindAppResult, "score %g of max %g: want 0 ≤ score ≤ max", a.Score, a.Max)
	case utf8.RuneCountInString(a.Summary) > MaxAppSummary:
		return invalid(KindAppResult, "summary is longer than %d characters", MaxAppSummary)
	}
	return nil
}

// Fraction is the result's score as a share of its maximum, 0 to 1: 1 for
// a completed result of an app that gives no score.
func (a AppResult) Fraction() float64 {
	if a.Max > 0 {
		return a.Score / a.Max
	}
	if a.Completed {
		return 1
	}
	return 0
}
