package content

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mitstem/stembox/internal/learn"
)

// The source form of a pack, as authors write it (docs/pack-format.md).

type sourcePack struct {
	ID             string         `yaml:"id"`
	Version        string         `yaml:"version"`
	Subject        string         `yaml:"subject"`
	Grades         []int          `yaml:"grades"`
	Languages      []string       `yaml:"languages"`
	DraftLanguages []string       `yaml:"draft_languages"`
	License        string         `yaml:"license"`
	Authors        []string       `yaml:"authors"`
	Title          sourceText     `yaml:"title"`
	Description    sourceText     `yaml:"description"`
	Lessons        []sourceLesson `yaml:"lessons"`
	Exercises      []sourceSetRef `yaml:"exercises"`
	Apps           []sourceApp    `yaml:"apps"`
}

type sourceLesson struct {
	ID        string `yaml:"id"`
	Exercises string `yaml:"exercises"`
	line      int
}

func (l *sourceLesson) UnmarshalYAML(n *yaml.Node) error {
	type plain sourceLesson
	if err := decodeStrict(n, (*plain)(l)); err != nil {
		return err
	}
	l.line = n.Line
	return nil
}

type sourceSetRef struct {
	ID    string            `yaml:"id"`
	File  string            `yaml:"file"`
	Gift  map[string]string `yaml:"gift"`
	Title sourceText        `yaml:"title"` // for GIFT sets; a YAML set has its own
	line  int
}

func (s *sourceSetRef) UnmarshalYAML(n *yaml.Node) error {
	type plain sourceSetRef
	if err := decodeStrict(n, (*plain)(s)); err != nil {
		return err
	}
	s.line = n.Line
	return nil
}

// sourceText is a text in several languages: a map from language code to
// text, or a plain string that stands for every language (key "*").
type sourceText struct {
	text learn.Text
	line int
}

const allLanguages = "*"

func (t *sourceText) UnmarshalYAML(n *yaml.Node) error {
	t.line = n.Line
	switch n.Kind {
	case yaml.ScalarNode:
		var s string
		if err := n.Decode(&s); err != nil {
			return err
		}
		t.text = learn.Text{allLanguages: s}
		return nil
	case yaml.MappingNode:
		m := map[string]string{}
		if err := n.Decode(&m); err != nil {
			return err
		}
		t.text = m
		return nil
	}
	return fmt.Errorf("line %d: want a text or a map from language to text", n.Line)
}

// in returns the text for lang, and whether it exists.
func (t sourceText) in(lang string) (string, bool) {
	if s, ok := t.text[lang]; ok {
		return s, true
	}
	s, ok := t.text[allLanguages]
	return s, ok
}

func (t sourceText) empty() bool { return len(t.text) == 0 }

type sourceSet struct {
	Title sourceText   `yaml:"title"`
	Items []sourceItem `yaml:"items"`
}

type sourceItem struct {
	ID        string              `yaml:"id"`
	Type      string              `yaml:"type"`
	Prompt    sourceText          `yaml:"prompt"`
	Choices   []sourceChoice      `yaml:"choices"`
	Answer    any                 `yaml:"answer"`
	Tolerance float64             `yaml:"tolerance"`
	Range     []float64           `yaml:"range"`
	Unit      sourceText          `yaml:"unit"`
	Answers   map[string][]string `yaml:"answers"`
	Feedback  sourceFeedback      `yaml:"feedback"`
	line      int
}

type sourceFeedback struct {
	Correct   sourceText `yaml:"correct"`
	Incorrect sourceText `yaml:"incorrect"`
	General   sourceText `yaml:"general"`
}

func (f *sourceFeedback) UnmarshalYAML(n *yaml.Node) error {
	type plain sourceFeedback
	return decodeStrict(n, (*plain)(f))
}

func (it *sourceItem) UnmarshalYAML(n *yaml.Node) error {
	type plain sourceItem
	if err := decodeStrict(n, (*plain)(it)); err != nil {
		return err
	}
	it.line = n.Line
	return nil
}

type sourceChoice struct {
	Text     sourceText `yaml:"text"`
	Correct  bool       `yaml:"correct"`
	Feedback sourceText `yaml:"feedback"`
}

func (c *sourceChoice) UnmarshalYAML(n *yaml.Node) error {
	type plain sourceChoice
	return decodeStrict(n, (*plain)(c))
}

// decodeStrict decodes a mapping node into the struct v points to, refusing
// keys the struct does not have: a typo in a field name must not silently
// lose what the author wrote. (yaml.v3's KnownFields does not reach into
// custom unmarshalers.)
func decodeStrict(n *yaml.Node, v any) error {
	if n.Kind == yaml.MappingNode {
		known := map[string]bool{}
		t := reflect.TypeOf(v).Elem()
		for i := 0; i < t.NumField(); i++ {
			if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag != "" && tag != "-" {
				known[tag] = true
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if !known[k.Value] {
				return fmt.Errorf("line %d: unknown field %q", k.Line, k.Value)
			}
		}
	}
	return n.Decode(v)
}

// parseYAML decodes src into v with unknown fields refused, reporting
// problems as "name:line: message".
func parseYAML(name string, src []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: the file is empty", name)
		}
		return fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

func readSourcePack(dir string) (*sourcePack, error) {
	src, err := os.ReadFile(filepath.Join(dir, "pack.yaml"))
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	var sp sourcePack
	if err := parseYAML("pack.yaml", src, &sp); err != nil {
		return nil, err
	}
	return &sp, nil
}

// SourceVersion reads the id and version a pack source declares, without
// building it.
func SourceVersion(dir string) (id, version string, err error) {
	sp, err := readSourcePack(dir)
	if err != nil {
		return "", "", err
	}
	return sp.ID, sp.Version, nil
}
