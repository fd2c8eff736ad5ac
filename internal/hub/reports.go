package hub

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/mitstem/stembox/internal/failure"
)

// Reports: per region, school, grade, subject or pack, how many learners
// were active, how many answers they gave, and their mastery, each split by
// gender. Learners are counted by their pseudonymous ids; no name ever
// reaches the hub.
//
// Definitions (docs/sync-protocol.md):
//   - active learner: gave an answer or completed a lesson in the period;
//   - answers: answers given (answer.submitted and scored live answers);
//   - items tried: distinct (learner, exercise item) pairs answered;
//   - mastery: the share of items tried whose latest answer in the period
//     was right.
//
// Times are the corrected ones (clock.go).

// Dimensions a report can be grouped by.
var Dimensions = []string{"region", "school", "grade", "subject", "pack"}

// Genders, in the order reports show them; "all" is their total.
var Genders = []string{"female", "male", "unspecified", "all"}

// ReportQuery says what to report.
type ReportQuery struct {
	By       string    // one of Dimensions
	Region   string    // only this region ("" for all)
	School   string    // only this school id ("" for all)
	From, To time.Time // the period [From, To); zero for open
	// Recount counts from every answer even without a period, instead of
	// from the summaries (summary.go): for checks that the two agree.
	Recount bool
}

// OwnQuestions is the key of the group, by subject or by pack, of the
// answers to live questions the teacher typed (they belong to no pack).
const OwnQuestions = ":own"

// ownLabel is that group's label in CSV and JSON (pages translate it).
const ownLabel = "Teacher's own questions"

// Figures are one group's numbers for one gender.
type Figures struct {
	Learners, Answers, Items, Mastered int64
}

// Mastery is the share of items tried whose latest answer was right, in
// percent; NaN when nothing was tried.
func (f Figures) Mastery() float64 {
	if f.Items == 0 {
		return math.NaN()
	}
	return 100 * float64(f.Mastered) / float64(f.Items)
}

// ReportRow is one group of a report.
type ReportRow struct {
	Key, Label string
	ByGender   map[string]Figures // by Genders
}

// Report is a report's result.
type Report struct {
	Query ReportQuery
	Rows  []ReportRow
}

func (q ReportQuery) dimension() (key, label string, err error) {
	switch q.By {
	case "region", "":
		return "s.region", "s.region", nil
	case "school":
		return "s.id", "s.name", nil
	case "grade":
		return "CAST(coalesce(c.grade, 0) AS TEXT)", "CAST(coalesce(c.grade, 0) AS TEXT)", nil
	case "subject":
		k := "CASE WHEN x.pack = '' THEN '" + OwnQuestions + "' ELSE coalesce(p.subject, '') END"
		return k, k, nil
	case "pack":
		return "CASE WHEN x.pack = '' THEN '" + OwnQuestions + "' ELSE x.pack END", "coalesce(p.title, x.pack)", nil
	}
	return "", "", failure.Errorf(failure.Invalid, "a report is by region, school, grade, subject or pack, not %q", q.By)
}

func (q ReportQuery) period() (int64, int64) {
	from, to := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.From.IsZero() {
		from = q.From.UnixMilli()
	}
	if !q.To.IsZero() {
		to = q.To.UnixMilli()
	}
	return from, to
}

// reportJoins give the rows of a report's source x (learner_packs, or
// packsInPeriod) their school, region, grade, subject and gender: the
// summary has its learners' class and gender in it, a period's rows join
// learners for them.
func reportJoins(summary bool) (gender, joins string) {
	gender, learner := "x.gender", `
	LEFT JOIN classes c ON c.box_id = x.box_id AND c.class_id = x.class_id`
	if !summary {
		gender, learner = "coalesce(l.gender, 'unspecified')", `
	LEFT JOIN learners l ON l.box_id = x.box_id AND l.learner = x.learner
	LEFT JOIN classes c ON c.box_id = l.box_id AND c.class_id = l.class_id`
	}
	return gender, `
	JOIN boxes b ON b.id = x.box_id
	JOIN schools s ON s.id = b.school_id` + learner + `
	LEFT JOIN pack_info p ON p.pack_id = x.pack
	WHERE (? = '' OR s.region = ?) AND (? = '' OR s.id = ?)
	GROUP BY 1, 2, 3`
}

// Report computes a report.
func (h *Store) Report(ctx context.Context, q ReportQuery) (Report, error) {
	key, label, err := q.dimension()
	if err != nil {
		return Report{}, err
	}
	if q.By == "" {
		q.By = "region"
	}
	rows := map[string]*ReportRow{}
	get := func(k, l string) *ReportRow {
		r, ok := rows[k]
		if !ok {
			if k == OwnQuestions {
				l = ownLabel
			}
			r = &ReportRow{Key: k, Label: l, ByGender: map[string]Figures{}}
			rows[k] = r
		}
		return r
	}
	source, args, summary := "learner_packs", []any{}, true
	if !q.From.IsZero() || !q.To.IsZero() || q.Recount {
		from, to := q.period()
		source, args, summary = packsInPeriod, []any{from, to, from, to}, false
	}
	gender, joins := reportJoins(summary)
	rs, done, err := h.db.queryLarge(ctx, `SELECT `+key+`, `+label+`, `+gender+`,
		CAST(SUM(x.answers) AS BIGINT), CAST(SUM(x.items) AS BIGINT), CAST(SUM(x.mastered) AS BIGINT), COUNT(DISTINCT x.box_id || '|' || x.learner)
	FROM `+source+` x`+joins, append(args, q.Region, q.Region, q.School, q.School)...)
	if err != nil {
		return Report{}, fmt.Errorf("hub: report: %w", err)
	}
	defer done()
	for rs.Next() {
		var k, l, g string
		var f Figures
		if err := rs.Scan(&k, &l, &g, &f.Answers, &f.Items, &f.Mastered, &f.Learners); err != nil {
			return Report{}, fmt.Errorf("hub: report: %w", err)
		}
		get(k, l).ByGender[g] = f
	}
	if err := rs.Err(); err != nil {
		return Report{}, fmt.Errorf("hub: report: %w", err)
	}
	return q.collect(rows), nil
}

// packsInPeriod is learner_packs for a period [?, ?) of answers and again
// of lessons: per learner and pack, the answers, the items tried, the
// items whose latest answer in the period was right (the parity of the
// largest order × 2 + correct is the latest answer's correct, the order
// being its epoch's rank × orderSpan + its seq: summary.go), and a row for
// each learner who only completed a lesson.
const packsInPeriod = `(SELECT box_id, learner, pack, SUM(answers) AS answers, SUM(items) AS items, SUM(mastered) AS mastered
	FROM (
		SELECT a.box_id, a.learner, a.pack, COUNT(*) AS answers, 1 AS items, MAX((e.rank * 1099511627776 + a.seq) * 2 + a.correct) % 2 AS mastered
		FROM answers a JOIN box_epochs e ON e.box_id = a.box_id AND e.epoch = a.epoch
		WHERE a.time_ms >= ? AND a.time_ms < ? GROUP BY a.box_id, a.learner, a.pack, a.set_id, a.item
		UNION ALL
		SELECT DISTINCT box_id, learner, pack, 0, 0, 0 FROM lessons_done WHERE time_ms >= ? AND time_ms < ?
	) i GROUP BY box_id, learner, pack)`

// collect totals each row's genders and orders the rows.
func (q ReportQuery) collect(rows map[string]*ReportRow) Report {
	out := Report{Query: q}
	for _, r := range rows {
		var all Figures
		for _, g := range Genders[:3] {
			f := r.ByGender[g]
			all.Learners += f.Learners
			all.Answers += f.Answers
			all.Items += f.Items
			all.Mastered += f.Mastered
		}
		r.ByGender["all"] = all
		out.Rows = append(out.Rows, *r)
	}
	sort.Slice(out.Rows, func(i, j int) bool {
		a, b := out.Rows[i], out.Rows[j]
		if q.By == "grade" {
			x, _ := strconv.Atoi(a.Key)
			y, _ := strconv.Atoi(b.Key)
			return x < y
		}
		if a.Label != b.Label {
			return a.Label < b.Label
		}
		return a.Key < b.Key
	})
	return out
}

// WriteCSV writes the report as CSV: the group, then for each gender (and
// all) learners, answers, items tried, items mastered and mastery in
// percent (empty when nothing was tried).
func (r Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{r.Query.By}
	if r.Query.By == "school" {
		head = append(head, "school_id")
	}
	for _, g := range Genders {
		head = append(head, g+"_learners", g+"_answers", g+"_items", g+"_mastered", g+"_mastery_pct")
	}
	cw.Write(head)
	for _, row := range r.Rows {
		rec := []string{csvSafe(row.Label)}
		if r.Query.By == "school" {
			rec = append(rec, row.Key)
		}
		for _, g := range Genders {
			f := row.ByGender[g]
			m := ""
			if f.Items > 0 {
				m = strconv.FormatFloat(f.Mastery(), 'f', 1, 64)
			}
			rec = append(rec, strconv.FormatInt(f.Learners, 10), strconv.FormatInt(f.Answers, 10), strconv.FormatInt(f.Items, 10), strconv.FormatInt(f.Mastered, 10), m)
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}
